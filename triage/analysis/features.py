"""Features for the learned classifier: character 1–3-grams of the normalised text, and its sounds.

Cross-validation on the training tips chose the character n-grams: jieba words, word bigrams and keyword-rule
hits as extra features did not help (the keyword hits made it worse once generated tips were added).

The sounds are pairs of neighbouring toneless pinyin syllables, read from the characters (钢厂爆炸 ->
gang chang, chang bao, bao zha) and from pinyin typed in Latin letters (gang1chang3, gangchang): a tip typed
in pinyin shares them with every Chinese tip of the same words, where its letters share nothing. Single
syllables were tried too and cost real tips: one syllable is many different characters (round 14).
"""

import re
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from triage.analysis.glossary import gloss_words
from triage.analysis.pinyin import first_readings, readings, typed_syllables

FEATURE_VERSION = 4  # bump when features change: older model files are then stale
NGRAM_SIZES = (1, 2, 3)
_CHAR_BITS = 21  # every code point plus one fits in 21 bits, so three of them fit in one uint64
assert max(NGRAM_SIZES) * _CHAR_BITS <= 64


SOUND = "py:"  # sound features start so; longer than any n-gram, they never meet one
_SOUND_TOKENS = re.compile(r"[a-z0-9]+|\S")
_LATIN = re.compile(r"[A-Za-z]")


def text_features(text: str) -> list[str]:
    """Every feature of already normalised text: its character n-grams, then its sound features, then
    the n-grams and sounds of the Chinese words its English words stand for (glossary)."""
    feats = char_ngrams(text) + sound_features(text)
    for word in gloss_words(text):
        feats += char_ngrams(word) + sound_features(word)
    return feats


def char_ngrams(text: str) -> list[str]:
    """The character n-grams of text, as scikit-learn's char analyzer would give them."""
    feats = list(text)
    for n in NGRAM_SIZES[1:]:
        feats.extend(text[i : i + n] for i in range(len(text) - n + 1))
    return feats


def sound_features(text: str) -> list[str]:
    """Pairs of neighbouring toneless syllables of normalised text. A run of syllables is
    broken by anything that is neither a Chinese character with a reading nor a typed-pinyin word
    (punctuation, digits, English words, abbreviations such as dtg); spaces do not break it."""
    feats: list[str] = []
    previous = ""
    for token in _SOUND_TOKENS.findall(text):
        if token.isascii():
            sounds = typed_syllables(token) if token[0].isalpha() else ()
        else:
            reading = readings(token)[0]
            sounds = (reading,) if reading != token else ()
        if not sounds:
            previous = ""
            continue
        for sound in sounds:
            if previous:
                feats.append(f"{SOUND}{previous} {sound}")
            previous = sound
    return feats


def syllable_pairs(text: str) -> tuple[NDArray[np.int16], NDArray[np.int16]] | None:
    """`sound_features(text)` as two arrays of syllable numbers (`pinyin.first_readings`), the first and
    second syllable of each pair, computed without a loop over the characters; None for a text with Latin
    letters, whose words only `sound_features` reads (typed pinyin). Without Latin letters every character
    that is not a space is one token: a syllable, or a break."""
    if _LATIN.search(text):
        return None
    table, _ = first_readings()
    chars = np.frombuffer("".join(text.split()).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    sounds = table[np.minimum(chars, len(table) - 1)]
    first, second = sounds[:-1], sounds[1:]
    both = (first >= 0) & (second >= 0)
    return first[both], second[both]


def term_code(term: str) -> int:
    """A number standing for one n-gram: its code points plus one, packed; no two n-grams share one."""
    code = 0
    for ch in term:
        code = (code << _CHAR_BITS) | (ord(ch) + 1)
    return code


def term_codes(
    terms: Sequence[str], table: NDArray[np.str_] | None = None
) -> tuple[NDArray[np.uint64], NDArray[np.bool_]]:
    """`term_code` of many terms at once, and which of them text can yield (1 to max(NGRAM_SIZES)
    characters): a model's whole vocabulary in a few array operations, where a Python loop over it was a
    fifth of the engine's start-up. `table`: the terms as a numpy string array, when the caller has one."""
    if table is None:
        table = np.array(terms, dtype=np.str_)  # fixed-width UTF-32, each term padded with NULs
    width = table.dtype.itemsize // 4
    columns = min(width, max(NGRAM_SIZES))  # longer terms are never looked up: their code is not used
    chars = table.view(np.uint32).reshape(len(table), width)[:, :columns]
    # The true lengths, not the non-NUL characters: a NUL inside a term is a character like any other.
    lengths = np.fromiter(map(len, terms), dtype=np.intp, count=len(terms))
    codes = np.zeros(len(table), dtype=np.uint64)
    for column in range(columns):
        shifted = (codes << np.uint64(_CHAR_BITS)) | (chars[:, column].astype(np.uint64) + np.uint64(1))
        codes = np.where(column < lengths, shifted, codes)
    return codes, (lengths > 0) & (lengths <= max(NGRAM_SIZES))


def ngram_codes(text: str) -> NDArray[np.uint64]:
    """`term_code` of every n-gram of `char_ngrams(text)` (in another order), computed in numpy without
    building the strings."""
    chars = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(np.uint64)
    chars += 1
    grams = [chars]
    for n in range(2, max(NGRAM_SIZES) + 1):  # each n-gram is an (n-1)-gram and one more character
        grams.append((grams[-1][:-1] << np.uint64(_CHAR_BITS)) | chars[n - 1 :])
    return np.concatenate([g for n, g in enumerate(grams, 1) if n in NGRAM_SIZES])
