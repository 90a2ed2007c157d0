"""Enterprise names: the vocabulary of legal forms and industry words, and parsing a name into its parts."""

import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ValidationError

from triage.analysis.wordsearch import word_pattern
from triage.errors import ValidationFailed

NAMES_FILE = Path(__file__).with_name("names.toml")
_BRACKETED = re.compile(r"[（(]([^）)]{1,8})[）)]")
_LATIN_WORDS = re.compile(r"[a-z]+( [a-z]+)*")


class _Industry(BaseModel):
    group: str
    aliases: list[str]
    latin: list[str] = []


class _NamesFile(BaseModel):
    forms: list[str]
    latin_forms: list[str] = []
    ambiguous_short_places: list[str]
    ambiguous_latin_places: list[str] = []
    industries: dict[str, _Industry]


@dataclass(frozen=True)
class NameVocabulary:
    forms: tuple[str, ...]  # longest first
    ambiguous_short_places: tuple[str, ...]
    industry_group: dict[str, str]  # name industry word -> group
    alias_industries: dict[str, frozenset[str]]  # citizen word -> name industry words it can stand for
    # The same in Latin letters (steel, gangchang), and the legal forms so written (co ltd, gongsi).
    latin_industries: dict[str, frozenset[str]] = field(default_factory=dict)
    latin_forms: tuple[str, ...] = ()
    ambiguous_latin_places: tuple[str, ...] = ()

    def groups_of(self, industries: frozenset[str]) -> frozenset[str]:
        return frozenset(self.industry_group[i] for i in industries)


@lru_cache(maxsize=2)
def load_vocabulary(path: Path = NAMES_FILE) -> NameVocabulary:
    try:
        data = _NamesFile.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
    except (OSError, tomllib.TOMLDecodeError, ValidationError) as exc:
        raise ValidationFailed(f"enterprise-name vocabulary {path}: {exc}", code="bad_config") from exc
    aliases: dict[str, set[str]] = {}
    latin: dict[str, set[str]] = {}
    for word, industry in data.industries.items():
        for alias in {word, *industry.aliases}:
            aliases.setdefault(alias, set()).add(word)
        for alias in industry.latin:
            latin.setdefault(alias, set()).add(word)
    bad = [w for w in [*latin, *data.latin_forms] if not _LATIN_WORDS.fullmatch(w)]
    if bad:
        raise ValidationFailed(
            f"enterprise-name vocabulary {path}: Latin words must be lower case a-z words: {bad}",
            code="bad_config",
        )
    return NameVocabulary(
        forms=tuple(sorted(data.forms, key=len, reverse=True)),
        ambiguous_short_places=tuple(data.ambiguous_short_places),
        industry_group={w: i.group for w, i in data.industries.items()},
        alias_industries={a: frozenset(ws) for a, ws in aliases.items()},
        latin_industries={a: frozenset(ws) for a, ws in latin.items()},
        latin_forms=tuple(data.latin_forms),
        ambiguous_latin_places=tuple(data.ambiguous_latin_places),
    )


_PROVINCE, _CITY = ("广东省", "广东"), ("河源市", "河源")


@lru_cache(maxsize=8)
def _prefix_pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    return word_pattern(list(words))


def _division_prefix(rest: str, words: tuple[str, ...]) -> str:
    """The longest of `words` (sorted longest first) that starts `rest` and leaves more than two characters.

    One trie match finds the longest word at the start; trying each word with startswith was most of the
    register's load time (30,000 names × hundreds of places)."""
    found = _prefix_pattern(words).match(rest)
    if found is None:
        return ""
    if len(rest) > found.end() + 2:
        return found.group()
    return next((w for w in words if rest.startswith(w) and len(rest) > len(w) + 2), "")


@dataclass(frozen=True, slots=True)
class NameParts:
    division: str  # 行政区划 (河源市东源县, or the bracketed 河源)
    trade: str  # 字号
    industry: str  # 行业 word as written in the name ("" when not recognised)
    form: str  # 组织形式


def parse_name(name: str, vocab: NameVocabulary, places: tuple[str, ...]) -> NameParts:
    """Split a registered name into 行政区划 + 字号 + 行业 + 组织形式 (Regulation Art 6).

    `places` are county and town names, longest first, so 河源市东源县仙塘镇 comes off as one division.
    """
    division = ""
    rest = name
    bracket = _BRACKETED.search(rest)
    if bracket:
        division = bracket.group(1)
        rest = rest[: bracket.start()] + rest[bracket.end() :]
    # Province and city come first if at all (广东河源…); then county, then town.
    for level in (_PROVINCE, _CITY, places, places):
        prefix = _division_prefix(rest, level)
        division += prefix
        rest = rest[len(prefix) :]
    form = ""
    for candidate in vocab.forms:
        if rest.endswith(candidate) and len(rest) > len(candidate) + 1:
            form = candidate
            rest = rest[: -len(candidate)]
            break
    # The trade name has at least two characters (Art 8); the industry word is what follows it.
    for cut in range(2, len(rest)):
        if rest[cut:] in vocab.industry_group:
            return NameParts(division, rest[:cut], rest[cut:], form)
    if len(rest) > 3:
        return NameParts(division, rest[:2], rest[2:], form)
    return NameParts(division, rest, "", form)
