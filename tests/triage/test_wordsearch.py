"""Finding words in text: the trie-shaped pattern finds what the plain longest-first alternation finds."""

import re

import pytest

from triage.analysis.wordsearch import word_pattern


def alternation(words: list[str]) -> re.Pattern[str]:
    return re.compile("|".join(map(re.escape, sorted(words, key=len, reverse=True))))


@pytest.mark.parametrize(
    ("words", "text"),
    [
        (["钢铁", "钢铁厂", "铁厂"], "钢铁厂钢铁铁厂钢"),
        (["ab", "abcd", "abd", "b"], "abcabdabcdxab"),
        (["有限公司", "有限责任公司", "公司", "厂"], "某某有限责任公司和有限公司的厂"),
        (["a.b", "a*", "(x)"], "a.b a* axb (x)"),
        (["上坪镇", "上坪", "坪镇"], "连平县上坪镇上坪坪镇"),
        ([], "nothing"),
    ],
    ids=["longest-wins", "backtrack-to-shorter", "forms", "regex-characters", "place-forms", "no-words"],
)
def test_same_spans_as_the_longest_first_alternation(words: list[str], text: str) -> None:
    expected = [m.span() for m in alternation(words).finditer(text)]
    assert [m.span() for m in word_pattern(words).finditer(text)] == expected
