"""Toneless pinyin readings of characters, for finding trade names written with a homophone (圣翔 for 晟翔)."""

import itertools
import os
import unicodedata
from functools import lru_cache

# Only the per-character table is read here. pypinyin's package import otherwise loads its phrase
# dictionary and copies both tables (half a second of every process's start-up); these switches are
# pypinyin's own, and nothing in this project converts phrases.
os.environ.setdefault("PYPINYIN_NO_PHRASES", "1")
os.environ.setdefault("PYPINYIN_NO_DICT_COPY", "1")
from pypinyin.pinyin_dict import pinyin_dict  # noqa: E402

MAX_KEYS = 8  # a name of heteronyms could have dozens of readings; the first few are the common ones


@lru_cache(maxsize=65536)
def readings(ch: str) -> tuple[str, ...]:
    """Toneless readings of one character, most common first; the character itself when it has none."""
    raw = pinyin_dict.get(ord(ch))
    if not raw:
        return (ch,)
    out: list[str] = []
    for reading in raw.split(","):
        bare = "".join(c for c in unicodedata.normalize("NFD", reading) if not unicodedata.combining(c))
        if bare not in out:
            out.append(bare)
    return tuple(out[:3])


def sound_keys(word: str) -> list[str]:
    """Every toneless spelling of `word` (bounded), e.g. 晟翔 -> ['cheng xiang', 'sheng xiang', …]."""
    combos = itertools.islice(itertools.product(*(readings(ch) for ch in word)), MAX_KEYS)
    return [" ".join(combo) for combo in combos]


def sounds_alike(a: str, b: str) -> bool:
    """Same length and every character pair shares a reading."""
    return len(a) == len(b) and all(set(readings(x)) & set(readings(y)) for x, y in zip(a, b, strict=True))
