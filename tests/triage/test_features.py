"""The classifier's features: packed codes stand for exactly the n-grams, looking them up (and the sound
features by name) gives the TF-IDF vector that looking the feature strings up in the vocabulary gives, and a
tip typed in pinyin sounds like the same tip in characters."""

import json
from collections import Counter
from itertools import repeat
from pathlib import Path

import numpy as np
import pytest

from tests.triage.conftest import DATA
from triage.analysis import TriageEngine
from triage.analysis.features import (
    SOUND,
    char_ngrams,
    ngram_codes,
    sound_features,
    syllable_pairs,
    term_code,
    term_codes,
    text_features,
)
from triage.analysis.glossary import gloss_words, glossary
from triage.analysis.normalise import normalise
from triage.analysis.pinyin import first_readings, typed_syllables

TEXTS = [
    "",
    "厂",
    "晚上",
    "东源县柳城镇的圣翔钢铁逃避阶梯电价",
    "abc123,中频炉 8000元!!",
    "生僻字\U00020000在扩展区",
    "\x00\x00\x00",
    "gang1chang3 bao4zha4 le, dtg zuofang",
    "ammonia leaking from the tank at the cement plant, people coughing right now",
    "钢厂 爆炸\n有人\t受伤\u3000了，快来 123 救命…\U0010ffff厂房",
]
TEXT_IDS = [
    "empty", "one", "two", "long", "ascii-mix", "outside-the-bmp", "nul", "pinyin", "english", "spaces-and-breaks"
]  # fmt: skip


@pytest.mark.parametrize("text", TEXTS, ids=TEXT_IDS)
def test_codes_are_the_codes_of_the_ngrams(text: str) -> None:
    assert Counter(ngram_codes(text).tolist()) == Counter(map(term_code, char_ngrams(text)))


def test_no_two_ngrams_share_a_code() -> None:
    grams = [
        "a",
        "\x00",
        "\x00a",
        "a\x00",
        "aa",
        "\x00\x00",
        "\x00\x00a",
        "厂",
        "工厂",
        "小工厂",
        "\U0010ffff" * 3,
    ]
    assert len({term_code(g) for g in grams}) == len(grams)


def test_codes_of_a_whole_vocabulary_at_once_are_each_terms_code() -> None:
    terms = [
        "",
        "a",
        "\x00",
        "\x00a",
        "a\x00",
        "\x00\x00",
        "厂",
        "工厂",
        "小工厂",
        "\U0010ffff" * 3,
        "四个字儿",
    ]
    terms += [g for text in TEXTS for g in text_features(text)]
    codes, usable = term_codes(terms)
    assert usable.tolist() == [0 < len(t) <= 3 for t in terms]
    assert [int(c) for c, ok in zip(codes, usable, strict=True) if ok] == [
        term_code(t) for t in terms if 0 < len(t) <= 3
    ]


@pytest.mark.parametrize("text", TEXTS, ids=TEXT_IDS)
def test_vectorise_looks_up_the_vocabulary_as_strings_would(engine: TriageEngine, text: str) -> None:
    model = engine.classifier.model
    assert model is not None
    features = text_features(text)
    ids = np.fromiter(map(model.vocabulary.get, features, repeat(-1)), dtype=np.intp, count=len(features))
    expected_idx, counts = np.unique(ids[ids >= 0], return_counts=True)
    idx, vals, raw_counts = model.vectorise(text)
    assert idx.tolist() == expected_idx.tolist()
    assert raw_counts.tolist() == counts.tolist()  # what the naive Bayes head reads
    if len(idx):
        tf = (1.0 + np.log(counts.astype(np.float32))) * model.idf[expected_idx]
        assert vals.tolist() == (tf / np.sqrt(np.dot(tf, tf))).astype(np.float32).tolist()


def _pairs_as_features(text: str) -> list[str] | None:
    pairs = syllable_pairs(text)
    if pairs is None:
        return None
    _, names = first_readings()
    return [f"{SOUND}{names[a]} {names[b]}" for a, b in zip(*pairs, strict=True)]


@pytest.mark.parametrize("text", TEXTS, ids=TEXT_IDS)
def test_sounds_read_with_arrays_are_the_sound_features(text: str) -> None:
    """`vectorise` reads the sounds of a text without Latin letters from arrays; a text with them is left
    to `sound_features` (typed pinyin is read word by word)."""
    pairs = _pairs_as_features(text)
    if any("a" <= ch <= "z" for ch in text):
        assert pairs is None
    else:
        assert pairs == sound_features(text)


def test_sounds_read_with_arrays_are_the_sound_features_of_every_tip_in_characters() -> None:
    """Every labelled tip of the project, as the engine normalises it: the same pairs in the same order."""
    read = 0
    for path in sorted(DATA.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            text = normalise(json.loads(line).get("text", "")).text
            pairs = _pairs_as_features(text)
            if pairs is not None:
                assert pairs == sound_features(text), text
                read += 1
    assert read > 5000  # most tips are written in characters only


@pytest.mark.parametrize(
    "typed",
    ["gangchang baozha, you ren shoushang", "gang1chang3 bao4zha4, you3 ren2 shou4shang1", "gang chang bao zha, youren shoushang"],
)  # fmt: skip
def test_pinyin_typed_in_letters_sounds_like_the_characters(typed: str) -> None:
    assert sound_features(typed) == sound_features("钢厂爆炸，有人受伤")
    assert sound_features("钢厂爆炸") == [SOUND + "gang chang", SOUND + "chang bao", SOUND + "bao zha"]


def test_english_words_digits_and_abbreviations_break_a_run_of_sounds() -> None:
    # "the" and "dtg" are not pinyin throughout; "3" and "，" are not words: no pair crosses any of them.
    assert sound_features("the furnace") == []
    assert sound_features("炼钢 dtg 炼钢，3 炼钢") == [SOUND + "lian gang"] * 3
    assert sound_features("lvse") == sound_features("绿色") == [SOUND + "lu se"]  # v for ü


def test_sound_features_never_look_like_ngrams() -> None:
    """They are found by name, not by packed code: each must be longer than any n-gram."""
    features = sound_features("晚上 a 厂 e")
    assert features == [SOUND + s for s in ("wan shang", "shang a", "a chang", "chang e")]
    assert all(len(f) > max(len(g) for g in char_ngrams("晚上 a 厂 e")) for f in features)


def test_typed_pinyin_is_split_longest_first_up_to_the_longest_syllable() -> None:
    assert typed_syllables("zhuangshuangxian") == ("zhuang", "shuang", "xian")
    assert typed_syllables("furnace") == ()  # not pinyin throughout


def test_english_words_bring_the_features_of_their_chinese_words() -> None:
    english = set(text_features("induction furnace at night"))
    assert set(char_ngrams("中频炉")) <= english
    assert SOUND + "zhong pin" in english
    assert set(char_ngrams("中频炉")).isdisjoint(text_features("nothing to see here"))


def test_glossary_reads_the_longest_phrase_first_and_plurals_as_their_word() -> None:
    table = glossary()
    assert gloss_words("an induction furnace") == list(table[("induction", "furnace")])
    assert gloss_words("two kilns") == gloss_words("two kiln") == list(table[("kiln",)])
    assert gloss_words("中频炉 no latin words here") == []
    assert gloss_words("") == []


def test_every_glossary_entry_is_an_english_phrase_and_chinese_words() -> None:
    for phrase, words in glossary().items():
        assert all(w.isascii() and w.isalpha() and w.islower() for w in phrase), phrase
        assert all(not w.isascii() for w in words), phrase


@pytest.mark.parametrize(
    "entry", ['"steel" = "steel"', '"Steel" = "钢铁"', '"steel-mill" = "钢厂"', '"a b c d" = "厂"']
)
def test_a_glossary_entry_that_is_not_english_to_chinese_is_refused(tmp_path: Path, entry: str) -> None:
    path = tmp_path / "glossary.toml"
    path.write_text(f"[english]\n{entry}\n", encoding="utf-8")
    with pytest.raises(ValueError, match="not an English phrase"):
        glossary(path)
