"""Find the enterprise a tip is about: mentions in the text, candidates from the index, context scoring.

A wrong enterprise is worse than none: a candidate must clear a threshold and beat the runner-up clearly.
"""

import re
from dataclasses import dataclass

from rapidfuzz.distance import Levenshtein

from triage.analysis.index import EnterpriseIndex
from triage.analysis.names import NameVocabulary
from triage.analysis.places import PlaceHit
from triage.analysis.register_rows import RegisterRow
from triage.analysis.wordsearch import word_pattern

# Score parts; a plain exact trade name with the right industry scores 1.35.
TRADE_SCORE = {"exact": 1.0, "homophone": 0.8, "typo": 0.7}
LONGER_TRADE_BONUS = 0.1  # per character beyond two: a three-character hit is rarer by chance
INDUSTRY_SAME = 0.35
INDUSTRY_GROUP = 0.15
INDUSTRY_CONFLICT = -0.35
NEAR_TOWN_SAME = 0.35
NEAR_TOWN_CONFLICT = -0.45
NEAR_COUNTY_SAME = 0.15
NEAR_COUNTY_CONFLICT = -0.35
OTHER_PLACE_SAME = 0.1
FULL_NAME = 0.5
ACCEPT = 1.3
MARGIN = 0.15
NEAR_BEFORE = 14  # characters before a mention in which a place is taken to be the firm's own
NEAR_AFTER = 10  # …and after it, for 某某公司（东源县黄村镇）
MAX_CANDIDATES = 5
_BRACKET_BEFORE = re.compile(r"\([\u4e00-\u9fff]{2,6}\)$")


@dataclass(frozen=True, slots=True)
class Mention:
    written: str  # the trade name as written
    start: int  # span of the whole mention (trade name + industry word + form) in the text
    end: int
    industries: frozenset[str]  # name industry words the citizen's word may stand for; empty if unknown


@dataclass(frozen=True, slots=True)
class Candidate:
    row: int  # index into EnterpriseIndex.rows
    score: float
    how: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class NearbyPlaces:
    """The places a tip names, seen from one mention: those near it, and all of them."""

    near_towns: frozenset[str]  # names of the towns named near the mention
    near_counties: frozenset[str]  # codes of the counties named near it
    towns: frozenset[str]  # names of all the towns named in the tip
    counties: frozenset[str]  # codes of all the counties named in the tip

    @classmethod
    def named_in(cls, places: tuple[PlaceHit, ...]) -> "NearbyPlaces":
        """The places of the whole tip, none of them near a mention yet."""
        return cls(
            frozenset(),
            frozenset(),
            frozenset(p.name for p in places if p.kind == "town"),
            frozenset(c for p in places if p.kind == "county" for c in p.county_codes),
        )

    def around(self, mention: Mention, places: tuple[PlaceHit, ...]) -> "NearbyPlaces":
        near = [
            p for p in places if mention.start - NEAR_BEFORE <= p.start and p.end <= mention.end + NEAR_AFTER
        ]
        if not near:
            return self
        return NearbyPlaces(
            frozenset(p.name for p in near if p.kind == "town"),
            frozenset(c for p in near if p.kind == "county" for c in p.county_codes),
            self.towns,
            self.counties,
        )

    def score(self, firm: RegisterRow) -> float:
        """A place named near the mention says where the firm is; one named elsewhere helps a little."""
        score = 0.0
        if self.near_towns:
            score += NEAR_TOWN_SAME if firm.town in self.near_towns else NEAR_TOWN_CONFLICT
        elif firm.town in self.towns:
            score += OTHER_PLACE_SAME
        if self.near_counties:
            score += NEAR_COUNTY_SAME if firm.county_code in self.near_counties else NEAR_COUNTY_CONFLICT
        elif not self.near_towns and firm.county_code in self.counties:
            score += OTHER_PLACE_SAME
        return score


@dataclass(frozen=True)
class MatchResult:
    best: Candidate | None
    candidates: tuple[Candidate, ...]


class EnterpriseMatcher:
    def __init__(self, index: EnterpriseIndex, vocab: NameVocabulary) -> None:
        self.index = index
        self.vocab = vocab
        self._anchor = word_pattern(sorted({*vocab.alias_industries, *vocab.forms}))
        self._cjk = re.compile(r"^[\u4e00-\u9fff]+$")

    def mentions(self, text: str, places: tuple[PlaceHit, ...] = ()) -> list[Mention]:
        """Trade-name candidates: the two to four characters before an industry word or a legal form."""
        out: list[Mention] = []
        taken = [(p.start, p.end) for p in places]
        previous_end = -1
        for m in self._anchor.finditer(text):
            word = m.group()
            start, end = m.start(), m.end()
            if start == previous_end:
                previous_end = end  # 钢铁 then 有限公司: one mention, already read from the industry word
                continue
            previous_end = end
            industries = self.vocab.alias_industries.get(word, frozenset())
            bracket = _BRACKET_BEFORE.search(text, max(0, start - 8), start)
            if bracket:
                start = bracket.start()  # 凤峰(河源)化工: the bracketed division sits inside the name
            # A form straight after (…五金厂, …铸造有限公司) belongs to the same mention.
            for length in (2, 3, 4):
                begin = start - length
                if begin < 0:
                    break
                written = text[begin:start]
                if not self._cjk.match(written):
                    break
                if any(begin < pe and ps < start for ps, pe in taken):
                    break  # the place name is not part of the trade name (仙塘|星宇龙)
                out.append(Mention(written, begin, end, industries))
        return out

    def _industry_score(self, mention: Mention, groups: frozenset[str], row: int) -> float:
        """`groups`: the industry groups of the mention's industry words."""
        if not mention.industries:
            return 0.0
        industry = self.index.industry[row]
        if industry in mention.industries:
            return INDUSTRY_SAME
        group = self.vocab.industry_group.get(industry)
        if group and group in groups:
            return INDUSTRY_GROUP
        return INDUSTRY_CONFLICT

    def match(self, text: str, places: tuple[PlaceHit, ...] = (), hint_name: str = "") -> MatchResult:
        # Row -> (score rounded, how, start, end) of its best reading so far; Candidates only for the top.
        scored: dict[int, tuple[float, str, int, int]] = {}
        named = NearbyPlaces.named_in(places)
        for name_text, offset in ((hint_name, -1), (text, 0)):
            if not name_text:
                continue
            for mention in self.mentions(name_text, places if offset == 0 else ()):
                hits = self.index.lookup(mention.written)
                if not hits:
                    continue
                groups = self.vocab.groups_of(mention.industries)
                nearby = named.around(mention, places) if offset == 0 else None
                start, end = (mention.start, mention.end) if offset == 0 else (-1, -1)
                for hit in hits:
                    base = TRADE_SCORE[hit.how] + LONGER_TRADE_BONUS * (
                        min(len(hit.trade), len(mention.written)) - 2
                    )
                    if hit.how == "typo" and Levenshtein.distance(hit.trade, mention.written) > 1:
                        continue
                    for row in self.index.by_trade[hit.trade]:
                        score = base + self._industry_score(mention, groups, row)
                        if nearby is None:
                            score += 0.2  # the citizen typed the name in the enterprise field
                        else:
                            score += nearby.score(self.index.rows[row])
                        full = self.index.display_name(row)
                        if full in text or full == hint_name:
                            score += FULL_NAME
                        if row not in scored or scored[row][0] < score:
                            scored[row] = (round(score, 3), hit.how, start, end)
        ranked = sorted(scored, key=lambda row: (-scored[row][0], row))
        top = tuple(Candidate(row, *scored[row]) for row in ranked[:MAX_CANDIDATES])
        if not top or top[0].score < ACCEPT:
            return MatchResult(None, top)
        if len(top) > 1 and top[0].score - top[1].score < MARGIN:
            return MatchResult(None, top)  # two firms fit about equally: let the dispatcher choose
        return MatchResult(top[0], top)
