"""Counties and towns of the city, built from the register, and finding them in text (in characters, or
in pinyin and English: puqian zhen, Xinjiang Street)."""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from triage.analysis.pinyin import readings
from triage.analysis.register_rows import RegisterRow
from triage.analysis.romanised import joined, latin_words, reading
from triage.analysis.wordsearch import word_pattern

_TOWN_SUFFIXES = ("畲族乡", "街道", "镇", "乡")
_COUNTY_SUFFIXES = ("县", "区")
# English words after a place name, and the pinyin of the Chinese suffixes they translate.
_ENGLISH_SUFFIXES = {
    "town": ("zhen", "xiang"),
    "township": ("xiang", "zhen"),
    "street": ("jie dao",),
    "subdistrict": ("jie dao",),
    "county": ("xian",),
    "district": ("qu",),
}
_LONGEST_LATIN_PLACE = 6  # words: zhang xi she zu xiang


@dataclass(frozen=True, slots=True)
class PlaceHit:
    kind: str  # "county" or "town"
    name: str  # the full official name (叶潭镇, 东源县)
    county_codes: tuple[str, ...]  # one for a county; one or more for a town (上坪镇 has two)
    start: int
    end: int


@dataclass(frozen=True)
class Location:
    county_code: str | None
    town: str
    hits: tuple[PlaceHit, ...]


def _short(name: str, suffixes: tuple[str, ...]) -> str:
    for suffix in suffixes:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return name


class Gazetteer:
    """County and town names (full and short forms) with one compiled pattern to find them."""

    def __init__(
        self,
        rows: Iterable[RegisterRow],
        ambiguous_short: Iterable[str] = (),
        ambiguous_latin: Iterable[str] = (),
    ) -> None:
        self.county_names: dict[str, str] = {}
        towns: dict[str, set[str]] = defaultdict(set)
        for row in rows:
            self.county_names.setdefault(row.county_code, row.county)
            if row.town:
                towns[row.town].add(row.county_code)
        self.town_counties: dict[str, tuple[str, ...]] = {t: tuple(sorted(c)) for t, c in towns.items()}
        blocked = set(ambiguous_short)
        # surface form -> (kind, full name)
        self.forms: dict[str, tuple[str, str]] = {}
        for town in self.town_counties:
            self.forms[town] = ("town", town)
            short = _short(town, _TOWN_SUFFIXES)
            if short != town and short not in blocked:
                self.forms.setdefault(short, ("town", town))
        for code, county in self.county_names.items():
            self.forms[county] = ("county", code)
            short = _short(county, _COUNTY_SUFFIXES)
            if short not in blocked:
                self.forms.setdefault(short, ("county", code))
        self._pattern = word_pattern(list(self.forms)) if self.forms else None
        # The same forms read aloud, each character by its common reading (xin jiang, xin jiang jie dao); a
        # reading two places share is left out. Short forms that are also a common word's reading in pinyin
        # (zijin 资金, youxi 游戏) count only in a tip with English words in it.
        said: dict[str, tuple[str, str] | None] = {}
        self._latin_short: set[str] = set()
        for form, place in self.forms.items():
            key = " ".join(readings(ch)[0] for ch in form)
            said[key] = place if said.get(key, place) == place else None
            if form != self._full_name(place):
                self._latin_short.add(key)
        self._latin = {key: place for key, place in said.items() if place is not None}
        self._latin_ambiguous = frozenset(ambiguous_latin)

    def all_names(self) -> list[str]:
        return [*self.town_counties, *self.county_names.values()]

    def _full_name(self, place: tuple[str, str]) -> str:
        kind, ref = place
        return self.county_names[ref] if kind == "county" else ref

    def _hit(self, place: tuple[str, str], start: int, end: int) -> PlaceHit:
        kind, ref = place
        if kind == "county":
            return PlaceHit("county", self.county_names[ref], (ref,), start, end)
        return PlaceHit("town", ref, self.town_counties[ref], start, end)

    def find(self, text: str) -> list[PlaceHit]:
        """Every place named, in characters and in Latin letters, in text order."""
        if self._pattern is None:
            return []
        hits = [self._hit(self.forms[m.group()], m.start(), m.end()) for m in self._pattern.finditer(text)]
        latin = self._find_latin(text)
        return sorted(hits + latin, key=lambda h: h.start) if latin else hits

    def _find_latin(self, text: str) -> list[PlaceHit]:
        """Places in pinyin (puqian, xin1jiang1 jie1dao4) or pinyin with an English word (Puqian Town):
        the longest run of words whose syllables read as a place name."""
        words = latin_words(text)
        if not words:
            return []
        english = any(len(w.text) > 2 and not w.syllables for w in words)
        hits: list[PlaceHit] = []
        i = 0
        while i < len(words):
            for size in range(min(_LONGEST_LATIN_PLACE, len(words) - i), 0, -1):
                window = words[i : i + size]
                key = reading(window) if joined(text, window) else ""
                if not key:
                    continue
                after = words[i + size] if i + size < len(words) else None
                suffixes = (
                    _ENGLISH_SUFFIXES.get(after.text, ())
                    if after and joined(text, [window[-1], after])
                    else ()
                )
                place = next(
                    (self._latin[f"{key} {s}"] for s in suffixes if f"{key} {s}" in self._latin), None
                )
                if place and after:
                    hits.append(self._hit(place, window[0].start, after.end))
                    i += size + 1
                    break
                apart = any(text[a.end : b.start] for a, b in zip(window, window[1:], strict=False))
                if key in self._latin and self._alone(key, apart, english):
                    hits.append(self._hit(self._latin[key], window[0].start, window[-1].end))
                    i += size
                    break
            else:
                i += 1
        return hits

    def _alone(self, key: str, apart: bool, english: bool) -> bool:
        """Whether a reading with no English place word after it names the place. A full name (xin jiang jie
        dao) always does; a short one (puqian, pu3qian2) only written as one word, as pinyin words are, since spaced
        syllables are often other words (yi he: 义合 or 一个, shang yi: 上义 or 商议), and in a pinyin tip
        only if it is not also a common word (zijin: 紫金 or 资金) unless the tip has English words in it."""
        if key not in self._latin_short:
            return True
        return not apart and (english or key.replace(" ", "") not in self._latin_ambiguous)

    def locate(self, text: str) -> Location:
        """County and town named in the text; a town shared by counties is settled by a named county."""
        hits = self.find(text)
        counties = [h.county_codes[0] for h in hits if h.kind == "county"]
        town = ""
        town_counties: tuple[str, ...] = ()
        for hit in hits:
            if hit.kind != "town":
                continue
            if counties and not set(hit.county_codes) & set(counties):
                continue  # a town of another county than the one named: likely part of a name, skip
            town, town_counties = hit.name, hit.county_codes
            break
        if counties:
            county: str | None = counties[0]
            if town_counties and county not in town_counties:
                county = town_counties[0] if len(town_counties) == 1 else county
        elif len(town_counties) == 1:
            county = town_counties[0]
        else:
            county = None  # no place, or a shared town name with nothing to settle it: left open
        return Location(county, town, tuple(hits))
