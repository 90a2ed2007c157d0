"""Text normalisation: full-width to half-width, traditional to simplified, noise out; offsets kept."""

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import opencc

# Categories dropped as noise: emoji and other symbols, format/control characters, private use.
_NOISE_CATEGORIES = frozenset({"So", "Sk", "Cf", "Cc", "Co", "Cs", "Mn", "Me"})


@dataclass(frozen=True)
class Normalised:
    """Normalised text and, for each of its characters, the offset of the source character in the original."""

    text: str
    origin: tuple[int, ...]
    original_length: int

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """Map a [start, end) span of the normalised text back to the original text."""
        if start >= end:
            pos = self.origin[start] if start < len(self.origin) else self.original_length
            return pos, pos
        return self.origin[start], self.origin[end - 1] + 1


@lru_cache(maxsize=1)
def _converter() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


@lru_cache(maxsize=65536)
def _fold(ch: str) -> str:
    """One character folded: half-width, lower-case ASCII; '' for noise."""
    code = ord(ch)
    if code == 0x3000:
        return " "
    if 0xFF01 <= code <= 0xFF5E:
        ch = chr(code - 0xFEE0)
    if ch.isspace():
        return " "
    if unicodedata.category(ch) in _NOISE_CATEGORIES:
        return ""
    return ch.lower() if ch.isascii() else ch


def _to_simplified(text: str) -> str:
    converted: str = _converter().convert(text)
    if len(converted) == len(text):
        return converted
    # Phrase conversions can change the length; character by character keeps offsets exact.
    return "".join(c if len(c := _converter().convert(ch)) == 1 else ch for ch in text)


_FOLD_TABLE_SIZE = 65536  # bounded like the cache of _fold


class _FoldTable(dict[int, str]):
    """`_fold` as a str.translate table, filled as characters are first seen."""

    def __missing__(self, code: int) -> str:
        if len(self) >= _FOLD_TABLE_SIZE:
            self.clear()
        folded = self[code] = _fold(chr(code))
        return folded


_fold_table = _FoldTable()


def normalise(text: str) -> Normalised:
    simplified = _to_simplified(text)
    translated = simplified.translate(_fold_table)
    if (
        len(translated) == len(simplified)
        and "  " not in translated
        and translated[:1] != " "
        and translated[-1:] != " "
    ):
        # Nothing dropped or squeezed (most tips): every character stays where it was, and the loop below
        # would give the same text and offsets one character at a time.
        return Normalised(translated, tuple(range(len(translated))), len(text))
    chars: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(simplified):
        folded = _fold(ch)
        if not folded:
            continue
        if folded == " " and (not chars or chars[-1] == " "):
            continue
        chars.append(folded)
        origin.append(i)
    if chars and chars[-1] == " ":
        chars.pop()
        origin.pop()
    return Normalised("".join(chars), tuple(origin), len(text))
