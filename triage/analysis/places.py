"""Counties and towns of the city, built from the register, and finding them in text."""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from triage.analysis.register_rows import RegisterRow
from triage.analysis.wordsearch import word_pattern

_TOWN_SUFFIXES = ("畲族乡", "街道", "镇", "乡")
_COUNTY_SUFFIXES = ("县", "区")


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

    def __init__(self, rows: Iterable[RegisterRow], ambiguous_short: Iterable[str] = ()) -> None:
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

    def all_names(self) -> list[str]:
        return [*self.town_counties, *self.county_names.values()]

    def find(self, text: str) -> list[PlaceHit]:
        if self._pattern is None:
            return []
        hits = []
        for m in self._pattern.finditer(text):
            kind, ref = self.forms[m.group()]
            if kind == "county":
                hits.append(PlaceHit("county", self.county_names[ref], (ref,), m.start(), m.end()))
            else:
                hits.append(PlaceHit("town", ref, self.town_counties[ref], m.start(), m.end()))
        return hits

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
