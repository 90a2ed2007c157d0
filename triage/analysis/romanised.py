"""Names written in Latin letters: firms and places in English or pinyin (Hongda Steel, puqian zhen).

Citizens who write English or pinyin write the register's names in pinyin too, so a run of Latin words is
read as syllables (pinyin.typed_syllables) and compared with the toneless readings of the register's trade
names and place names: "xinjiang jiedao", "xin1 jiang1" and 新江街道 all read xin jiang jie dao.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass

from triage.analysis.pinyin import typed_syllables

_WORD = re.compile(r"[a-z]+[1-5]?")
_JOINERS = frozenset({"", " ", "-", "'"})  # what may stand between two words of one name


@dataclass(frozen=True, slots=True)
class LatinWord:
    text: str  # lower case, tone digit dropped
    start: int
    end: int
    syllables: tuple[str, ...]  # () when the word is not pinyin throughout (most English words)


def latin_words(text: str) -> list[LatinWord]:
    """The Latin-letter words of normalised (lower-case) text, in order."""
    out = []
    for m in _WORD.finditer(text):
        word = m.group().rstrip("12345")
        out.append(LatinWord(word, m.start(), m.end(), typed_syllables(word)))
    return out


def joined(text: str, words: Sequence[LatinWord]) -> bool:
    """Whether consecutive `words` are written together, as one name can be (no punctuation between)."""
    return all(text[a.end : b.start] in _JOINERS for a, b in zip(words, words[1:], strict=False))


def reading(words: Sequence[LatinWord]) -> str:
    """The syllables of pinyin words, space-separated as pinyin.sound_keys writes them; "" if any word
    is not pinyin."""
    if not words or not all(w.syllables for w in words):
        return ""
    return " ".join(s for w in words for s in w.syllables)
