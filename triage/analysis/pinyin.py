"""Toneless pinyin readings of characters, for finding trade names written with a homophone (圣翔 for 晟翔), and
the syllables of pinyin typed in Latin letters (gang1chang3, paiwu), for the classifier's sound features."""

import itertools
import os
import re
import unicodedata
from functools import cache, lru_cache

import numpy as np
from numpy.typing import NDArray

# Only the per-character table is read here. pypinyin's package import otherwise loads its phrase
# dictionary and copies both tables (half a second of every process's start-up); these switches are
# pypinyin's own, and nothing in this project converts phrases.
os.environ.setdefault("PYPINYIN_NO_PHRASES", "1")
os.environ.setdefault("PYPINYIN_NO_DICT_COPY", "1")
from pypinyin.pinyin_dict import pinyin_dict  # noqa: E402

MAX_KEYS = 8  # a name of heteronyms could have dozens of readings; the first few are the common ones


TONE_DIGITS = re.compile("[1-5]")
LONGEST_SYLLABLE = 6  # zhuang, chuang, shuang


@cache  # a few thousand toned readings among the table's 40,000 characters
def _toneless(reading: str) -> str:
    """ǜ -> u as well: typed pinyin writes it v or u, and v is folded to u before parsing."""
    return "".join(c for c in unicodedata.normalize("NFD", reading) if not unicodedata.combining(c))


@lru_cache(maxsize=65536)
def readings(ch: str) -> tuple[str, ...]:
    """Toneless readings of one character, most common first; the character itself when it has none."""
    raw = pinyin_dict.get(ord(ch))
    if not raw:
        return (ch,)
    out: list[str] = []
    for reading in raw.split(","):
        bare = _toneless(reading)
        if bare not in out:
            out.append(bare)
    return tuple(out[:3])


@cache
def first_readings() -> tuple[NDArray[np.int16], tuple[str, ...]]:
    """Every code point's `readings(ch)[0]` as an index into the returned syllables, -1 for a character
    without one (the table's last entry is -1, for every code point beyond it): the sound features of a
    text in characters read with arrays instead of character by character."""
    by_char = {code: _toneless(raw.split(",", 1)[0]) for code, raw in pinyin_dict.items() if raw}
    names = tuple(sorted(set(by_char.values())))
    number = {name: i for i, name in enumerate(names)}
    table = np.full(max(by_char) + 2, -1, dtype=np.int16)
    table[np.fromiter(by_char, dtype=np.intp)] = np.fromiter(
        map(number.__getitem__, by_char.values()), np.int16
    )
    return table, names


@cache
def syllables() -> frozenset[str]:
    """Every toneless syllable of the character table that has a vowel (not the interjections m, n, ng, hm),
    so that fewer English words pass for pinyin."""
    return frozenset(
        bare
        for raw in pinyin_dict.values()
        for bare in map(_toneless, raw.split(","))
        if any(v in bare for v in "aeiou")
    )


@lru_cache(maxsize=16384)
def typed_syllables(word: str) -> tuple[str, ...]:
    """A lower-case Latin word read as typed pinyin (toneless, or with tone digits; v for ü), split into
    syllables longest first (xian, not xi an); () when it is not pinyin throughout (most English words)."""
    known = syllables()
    out: list[str] = []
    for part in TONE_DIGITS.split(word.replace("v", "u")):
        i = 0
        while i < len(part):
            for size in range(min(LONGEST_SYLLABLE, len(part) - i), 0, -1):
                if part[i : i + size] in known:
                    out.append(part[i : i + size])
                    i += size
                    break
            else:
                return ()
    return tuple(out)


def sound_keys(word: str) -> list[str]:
    """Every toneless spelling of `word` (bounded), e.g. 晟翔 -> ['cheng xiang', 'sheng xiang', …]."""
    combos = itertools.islice(itertools.product(*(readings(ch) for ch in word)), MAX_KEYS)
    return [" ".join(combo) for combo in combos]


def sounds_alike(a: str, b: str) -> bool:
    """Same length and every character pair shares a reading."""
    return len(a) == len(b) and all(set(readings(x)) & set(readings(y)) for x, y in zip(a, b, strict=True))
