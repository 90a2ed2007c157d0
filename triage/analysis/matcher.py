"""Find the enterprise a tip is about: mentions in the text, candidates from the index, context scoring.

A wrong enterprise is worse than none: a candidate must clear a threshold and beat the runner-up clearly.
"""

import re
from dataclasses import dataclass

from rapidfuzz.distance import Levenshtein

from triage.analysis.index import EnterpriseIndex
from triage.analysis.names import NameVocabulary
from triage.analysis.places import PlaceHit

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


@dataclass(frozen=True)
class MatchResult:
    best: Candidate | None
    candidates: tuple[Candidate, ...]


class EnterpriseMatcher:
    def __init__(self, index: EnterpriseIndex, vocab: NameVocabulary) -> None:
        self.index = index
        self.vocab = vocab
        anchors = sorted({*vocab.alias_industries, *vocab.forms}, key=len, reverse=True)
        self._anchor = re.compile("|".join(map(re.escape, anchors)))
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

    def _industry_score(self, mention: Mention, row: int) -> float:
        if not mention.industries:
            return 0.0
        industry = self.index.industry[row]
        if industry in mention.industries:
            return INDUSTRY_SAME
        group = self.vocab.industry_group.get(industry)
        if group and group in self.vocab.groups_of(mention.industries):
            return INDUSTRY_GROUP
        return INDUSTRY_CONFLICT

    def _place_score(self, mention: Mention, row: int, places: tuple[PlaceHit, ...]) -> float:
        firm = self.index.rows[row]
        near = [
            p for p in places if mention.start - NEAR_BEFORE <= p.start and p.end <= mention.end + NEAR_AFTER
        ]
        score = 0.0
        near_towns = [p for p in near if p.kind == "town"]
        near_counties = [p for p in near if p.kind == "county"]
        if near_towns:
            score += NEAR_TOWN_SAME if any(p.name == firm.town for p in near_towns) else NEAR_TOWN_CONFLICT
        elif any(p.kind == "town" and p.name == firm.town for p in places):
            score += OTHER_PLACE_SAME
        if near_counties:
            same = any(firm.county_code in p.county_codes for p in near_counties)
            score += NEAR_COUNTY_SAME if same else NEAR_COUNTY_CONFLICT
        elif not near_towns and any(
            p.kind == "county" and firm.county_code in p.county_codes for p in places
        ):
            score += OTHER_PLACE_SAME
        return score

    def match(self, text: str, places: tuple[PlaceHit, ...] = (), hint_name: str = "") -> MatchResult:
        scored: dict[int, Candidate] = {}

        def consider(row: int, score: float, how: str, start: int, end: int) -> None:
            if row not in scored or scored[row].score < score:
                scored[row] = Candidate(row, round(score, 3), how, start, end)

        for name_text, offset in ((hint_name, -1), (text, 0)):
            if not name_text:
                continue
            for mention in self.mentions(name_text, places if offset == 0 else ()):
                for hit in self.index.lookup(mention.written):
                    base = TRADE_SCORE[hit.how] + LONGER_TRADE_BONUS * (
                        min(len(hit.trade), len(mention.written)) - 2
                    )
                    if hit.how == "typo" and Levenshtein.distance(hit.trade, mention.written) > 1:
                        continue
                    for row in self.index.by_trade[hit.trade]:
                        score = base + self._industry_score(mention, row)
                        score += self._place_score(mention, row, places) if offset == 0 else 0.0
                        if offset == -1:
                            score += 0.2  # the citizen typed the name in the enterprise field
                        full = self.index.display_name(row)
                        if full in text or full == hint_name:
                            score += FULL_NAME
                        start, end = (mention.start, mention.end) if offset == 0 else (-1, -1)
                        consider(row, score, hit.how, start, end)
        ranked = sorted(scored.values(), key=lambda c: (-c.score, c.row))
        top = tuple(ranked[:MAX_CANDIDATES])
        if not top or top[0].score < ACCEPT:
            return MatchResult(None, top)
        if len(top) > 1 and top[0].score - top[1].score < MARGIN:
            return MatchResult(None, top)  # two firms fit about equally: let the dispatcher choose
        return MatchResult(top[0], top)
