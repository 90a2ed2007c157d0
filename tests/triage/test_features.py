"""The classifier's n-gram features: packed codes stand for exactly the n-grams, and looking them up gives the
TF-IDF vector that looking the n-gram strings up in the vocabulary gives."""

from collections import Counter
from itertools import repeat

import numpy as np
import pytest

from triage.analysis import TriageEngine
from triage.analysis.features import ngram_codes, term_code, term_codes, text_features

TEXTS = [
    "",
    "厂",
    "晚上",
    "东源县柳城镇的圣翔钢铁逃避阶梯电价",
    "abc123,中频炉 8000元!!",
    "生僻字\U00020000在扩展区",
    "\x00\x00\x00",
]
TEXT_IDS = ["empty", "one", "two", "long", "ascii-mix", "outside-the-bmp", "nul"]


@pytest.mark.parametrize("text", TEXTS, ids=TEXT_IDS)
def test_codes_are_the_codes_of_the_ngrams(text: str) -> None:
    assert Counter(ngram_codes(text).tolist()) == Counter(map(term_code, text_features(text)))


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
