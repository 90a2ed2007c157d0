"""Normalisation keeps offsets into the original text."""

import pytest

from triage.analysis.normalise import normalise


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("連平縣隆街鎮有個沒掛牌的廠", "连平县隆街镇有个没挂牌的厂"),
        ("ＡＢＣ１２３，中頻爐", "abc123,中频炉"),
        ("晚上😳开工🆘  嗡嗡响", "晚上开工 嗡嗡响"),
        ("　晚上开工\t", "晚上开工"),
        ("晚上\u3000开工", "晚上 开工"),
    ],
    ids=["traditional", "full-width", "emoji-and-spaces", "spaces-at-the-ends", "one-ideographic-space"],
)
def test_normalised_text(raw: str, expected: str) -> None:
    assert normalise(raw).text == expected


def test_spans_map_back_to_the_original() -> None:
    raw = "🆘🆘連平縣有個廠用中頻爐"
    norm = normalise(raw)
    start = norm.text.index("中频炉")
    a, b = norm.original_span(start, start + 3)
    assert raw[a:b] == "中頻爐"


@pytest.mark.parametrize(
    "raw",
    ["晚上开工", "晚上😳开工", "  晚上  开工  ", "ＡＢ　ｃ"],
    ids=["kept", "dropped", "squeezed", "folded"],
)
def test_each_character_maps_back_to_its_source(raw: str) -> None:
    norm = normalise(raw)
    assert len(norm.origin) == len(norm.text)
    for ch, at in zip(norm.text, norm.origin, strict=True):
        assert normalise(raw[at]).text in (ch, "")
