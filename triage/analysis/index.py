"""An in-memory index of the enterprise register for fast candidate lookup by trade name (字号)."""

import sys
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from triage.analysis.names import NameVocabulary, parse_name
from triage.analysis.pinyin import sound_keys
from triage.analysis.register_rows import RegisterRow


@dataclass(frozen=True, slots=True)
class TradeHit:
    trade: str  # a trade name in the register
    how: str  # "exact", "homophone" or "typo"


@dataclass(frozen=True, slots=True)
class Bosses:
    """The firms of one town and industry, ordered by their legal representative's name."""

    names: list[str]
    rows: list[int]
    surnames: frozenset[str]  # first characters of the names: most characters of a tip are none of them

    def named(self, surname: str) -> list[int]:
        """The firms whose boss's name starts with `surname`."""
        lo = bisect_left(self.names, surname)
        return self.rows[lo : bisect_left(self.names, surname + "\U0010ffff", lo)]

    def called(self, name: str) -> list[int]:
        """The firms whose boss is called exactly `name`."""
        lo = bisect_left(self.names, name)
        return self.rows[lo : bisect_right(self.names, name, lo)]

    def in_text(self, text: str, surnames: set[str]) -> list[tuple[int, str]]:
        """(row, "boss") for each firm whose boss's full name (two or three characters) is in `text`,
        (row, "surname") for each whose boss has one of `surnames`."""
        out: list[tuple[int, str]] = []
        for i, ch in enumerate(text):
            if ch not in self.surnames:
                continue  # no boss of these firms has this surname: most characters
            for size in (3, 2):  # 欧阳明 before 欧阳
                rows = self.called(text[i : i + size]) if i + size <= len(text) else []
                if rows:
                    out += [(row, "boss") for row in rows]
                    break
        out += [(row, "surname") for surname in surnames for row in self.named(surname)]
        return out


def _deletions(word: str) -> list[str]:
    return [word[:i] + word[i + 1 :] for i in range(len(word))]


class EnterpriseIndex:
    """Register rows with their parsed names, and trade-name lookups: exact, by sound, by one edit.

    Keys are built over distinct trade names, not firms, so a million firms sharing a few hundred
    thousand trade names stays within memory.
    """

    def __init__(self, rows: Sequence[RegisterRow], vocab: NameVocabulary, places: Sequence[str]) -> None:
        self.rows = list(rows)
        ordered_places = tuple(sorted(set(places), key=len, reverse=True))
        self.trade: list[str] = []
        self.industry: list[str] = []
        self.by_trade: dict[str, list[int]] = defaultdict(list)
        self.by_name: dict[str, int] = {}
        # Firms whose boss a tip can name: by town and industry word (the context such a tip gives), each
        # group ordered by the boss's name so that a name or a surname is found by bisection.
        by_town_industry: dict[tuple[str, str], list[int]] = defaultdict(list)
        for i, row in enumerate(self.rows):
            parts = parse_name(row.name, vocab, ordered_places)
            trade = sys.intern(parts.trade)
            self.trade.append(trade)
            self.industry.append(sys.intern(parts.industry))
            self.by_trade[trade].append(i)
            self.by_name.setdefault(row.name, i)
            if row.legal_rep and row.town:
                by_town_industry[(row.town, self.industry[i])].append(i)
        self.by_sound: dict[str, list[str]] = defaultdict(list)
        self.by_deletion: dict[str, list[str]] = defaultdict(list)
        for trade in self.by_trade:
            for key in sound_keys(trade):
                self.by_sound[key].append(trade)
            if len(trade) >= 3:
                for key in _deletions(trade):
                    self.by_deletion[key].append(trade)
        self.by_trade = dict(self.by_trade)
        self.bosses: dict[tuple[str, str], Bosses] = {}
        for group, firms in by_town_industry.items():
            firms.sort(key=lambda i: self.rows[i].legal_rep)
            names = [self.rows[i].legal_rep for i in firms]
            self.bosses[group] = Bosses(names, firms, frozenset(n[0] for n in names))
        self.by_sound = dict(self.by_sound)
        self.by_deletion = dict(self.by_deletion)

    def display_name(self, row: int) -> str:
        """The name as it appears in normalised text (full-width brackets folded)."""
        name = self.rows[row].name
        return name.replace("（", "(").replace("）", ")") if "（" in name else name

    def __len__(self) -> int:
        return len(self.rows)

    def trade_names(self) -> list[str]:
        return list(self.by_trade)

    def lookup(self, written: str) -> list[TradeHit]:
        """Trade names that `written` may stand for."""
        hits: dict[str, str] = {}
        if written in self.by_trade:
            hits[written] = "exact"
        for key in sound_keys(written):
            for trade in self.by_sound.get(key, ()):
                # Two-character names sound alike too easily: one character must also be the same.
                if trade not in hits and (len(trade) > 2 or set(trade) & set(written)):
                    hits[trade] = "homophone"
        if len(written) >= 2:
            # The mention may have lost a character (a three-character name written with two); from three
            # characters on, it may also have one too many, or one wrong.
            for key in (written, *_deletions(written)) if len(written) >= 3 else (written,):
                for trade in self.by_deletion.get(key, ()):
                    hits.setdefault(trade, "typo")
        return [TradeHit(t, how) for t, how in hits.items()]

    def lookup_reading(self, syllables: str, how: str = "pinyin") -> list[TradeHit]:
        """Trade names that read `syllables` (hong da), for a name written in pinyin."""
        return [TradeHit(t, how) for t in self.by_sound.get(syllables, ())]
