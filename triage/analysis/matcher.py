"""Find the enterprise a tip is about: mentions in the text, candidates from the index, context scoring.

A wrong enterprise is worse than none: a candidate must clear a threshold and beat the runner-up clearly.
"""

import re
from dataclasses import dataclass

from rapidfuzz.distance import Levenshtein

from triage.analysis.index import EnterpriseIndex
from triage.analysis.names import NameVocabulary
from triage.analysis.pinyin import TONE_DIGITS, typed_syllables
from triage.analysis.places import PlaceHit
from triage.analysis.register_rows import RegisterRow
from triage.analysis.romanised import LatinWord, joined, latin_words, reading
from triage.analysis.wordsearch import word_pattern

# Score parts; a plain exact trade name with the right industry scores 1.35.
# A trade name in pinyin (hongda) scores as exact: it is the name as well as Latin letters can write it; the
# register's other names that read the same are its rivals, settled by industry and place or not at all.
TRADE_SCORE = {"exact": 1.0, "pinyin": 1.0, "homophone": 0.8, "typo": 0.7}
# A firm named by its boss (法定代表人) with its town and trade: the full name (何超开的钢厂) is as good as
# the trade name; the surname alone (姓徐的, 曾老板) counts for less, and only where it is the only such firm.
BOSS_SCORE = {"boss": 1.0, "surname": 0.7}
BOSS_TOWN_BEFORE = 24  # characters from the town to the industry word (龙川佗城唐秀开的玻璃制品厂)
_SURNAME_CUES = re.compile(r"姓(\w)|(\w)老板|(\w)总|老(\w)|(\w)先生|(\w)女士")
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
LATIN_SCALE = 3  # the same windows for a name in Latin letters (shang cheng jie dao: 16 for 4)
MAX_CANDIDATES = 5
_BRACKET_BEFORE = re.compile(r"\([\u4e00-\u9fff]{2,6}\)$")
_BRACKET_AFTER = re.compile(r"\(([\u4e00-\u9fff]{2,4})\)")  # 钢铁厂（兴峰）: the trade name after the trade
# 那个钢厂叫兴峰, 厂牌上写的龙通, 叫咩兴明 (Cantonese): the trade name said after the firm.
_CALLED = re.compile(r"(?:叫做|名叫|叫咩|叫|牌上写的|牌上写着|牌子上写的|牌子上写着)([\u4e00-\u9fff]{2,4})")
CALLED_AFTER = 12  # characters from the industry word to 叫 for the name to be that firm's


def _bare(words: str) -> str:
    """Latin words without spaces or tone digits: gang1 tie3 -> gangtie."""
    return TONE_DIGITS.sub("", words).replace(" ", "")


def _latin_pattern(words: str) -> str:
    """A pattern for Latin words whose pinyin syllables may be written apart and with tone digits."""
    parts = []
    for word in words.split(" "):
        syllables = typed_syllables(word) or (word,)
        parts.append("[1-5]? ?".join(map(re.escape, syllables)) + "[1-5]?")
    return " ?".join(parts)


@dataclass(frozen=True, slots=True)
class Mention:
    written: str  # the trade name as written
    start: int  # span of the whole mention (trade name + industry word + form) in the text
    end: int
    industries: frozenset[str]  # name industry words the citizen's word may stand for; empty if unknown
    romanised: bool = False  # `written` is the trade name's syllables read from Latin letters (hong da)
    # …from syllables written as separate words (hong da): less sure than one word (hongda), since the
    # words before an industry word are often others (fu jin de gangchang: 附近的钢厂, not 锦德).
    spelled_apart: bool = False


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
        # Latin letters take about three times the room of the characters they stand for.
        scale = LATIN_SCALE if mention.romanised else 1
        near = [
            p
            for p in places
            if mention.start - scale * NEAR_BEFORE <= p.start and p.end <= mention.end + scale * NEAR_AFTER
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
        # Latin industry words and forms, found however the syllables are spaced and toned (gangtie,
        # gang tie, gang1tie3); looked up without spaces or tone digits.
        latin = sorted({*vocab.latin_industries, *vocab.latin_forms}, key=len, reverse=True)
        self._latin_industries = {_bare(w): ind for w, ind in vocab.latin_industries.items()}
        alternatives = "|".join(map(_latin_pattern, latin))
        self._latin_anchor = re.compile(rf"(?<![a-z])(?:{alternatives})(?![a-z])")
        self._cjk = re.compile(r"^[\u4e00-\u9fff]+$")

    def industry_words(self, text: str) -> list[Mention]:
        """Each industry word or legal form in text (钢厂, 有限公司), with the industries it may stand for:
        what trade names are read before or after, and what a boss's firm is looked up by."""
        return [
            Mention("", m.start(), m.end(), self.vocab.alias_industries.get(m.group(), frozenset()))
            for m in self._anchor.finditer(text)
        ]

    def mentions(
        self, text: str, places: tuple[PlaceHit, ...] = (), anchors: list[Mention] | None = None
    ) -> list[Mention]:
        """Trade-name candidates: the two to four characters before an industry word or a legal form, or the
        pinyin words before one (hongda 钢厂, hongda gangchang, Hongda Steel Co). `anchors`: the text's
        `industry_words`, when the caller has them already."""
        out: list[Mention] = []
        taken = [(p.start, p.end) for p in places]
        words = latin_words(text)
        if words:
            out += self._romanised_mentions(text, words, taken)
        previous_end = -1
        kept: list[tuple[int, frozenset[str]]] = []  # (end, industries) of each anchor read
        for anchor in self.industry_words(text) if anchors is None else anchors:
            start, end, industries = anchor.start, anchor.end, anchor.industries
            if start == previous_end:
                previous_end = end  # 钢铁 then 有限公司: one mention, already read from the industry word
                continue
            previous_end = end
            kept.append((end, industries))
            named = _BRACKET_AFTER.match(text, end)
            if named and not any(named.start() < pe and ps < named.end() for ps, pe in taken):
                out.append(Mention(named.group(1), start, named.end(), industries))
            before = [w for w in words if w.end <= start]
            if before and text[before[-1].end : start] in ("", " "):
                out += self._romanised_before(text, before, start, end, industries, taken)
                continue
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
        for m in _CALLED.finditer(text):
            # The industry of the firm just named before it, if any (那个轧钢厂，厂牌上写的龙通).
            near = [ind for e, ind in kept if m.start() - CALLED_AFTER <= e <= m.start()]
            industries = near[-1] if near else frozenset()
            name = m.group(1)
            out += [
                Mention(name[:n], m.start(1), m.start(1) + n, industries) for n in range(2, len(name) + 1)
            ]
        return out

    def _romanised_mentions(
        self, text: str, words: list[LatinWord], taken: list[tuple[int, int]]
    ) -> list[Mention]:
        """Mentions before an industry word or legal form written in Latin letters (steel, shuini, co ltd)."""
        out: list[Mention] = []
        previous_end = -1
        for m in self._latin_anchor.finditer(text):
            start, end = m.start(), m.end()
            if text[previous_end:start] in ("", " ") and previous_end >= 0:
                previous_end = end  # Hongda Steel Co: one mention, read from "steel"
                continue
            previous_end = end
            industries = self._latin_industries.get(_bare(m.group()), frozenset())
            before = [w for w in words if w.end <= start]
            out += self._romanised_before(text, before, start, end, industries, taken)
        return out

    @staticmethod
    def _romanised_before(
        text: str,
        before: list[LatinWord],
        start: int,
        end: int,
        industries: frozenset[str],
        taken: list[tuple[int, int]],
    ) -> list[Mention]:
        """The trade name read from the one or two pinyin words just before `start` (two to four syllables)."""
        out: list[Mention] = []
        for count in (1, 2):
            name = before[-count:]
            if len(name) < count or not joined(text, name) or text[name[-1].end : start] not in ("", " "):
                break
            if any(name[0].start < pe and ps < name[-1].end for ps, pe in taken):
                break  # a place name, not a trade name (Puqian Cement)
            key = reading(name)
            if not key or not 2 <= key.count(" ") + 1 <= 4:
                continue
            # Words apart (hong da), not syllables run together with tone digits (xin1kang1).
            apart = any(text[a.end : b.start] for a, b in zip(name, name[1:], strict=False))
            out.append(Mention(key, name[0].start, end, industries, romanised=True, spelled_apart=apart))
        return out

    def _bosses(
        self, text: str, places: tuple[PlaceHit, ...], anchors: list[Mention]
    ) -> list[tuple[int, str, Mention]]:
        """Firms of a town and trade named in the tip whose boss the tip names between the town and the
        industry word (佗城唐秀开的玻璃厂, 九和镇姓潘的钢铁厂): (row, how, the industry word). Only the firms of
        that town and industry are looked at (`index.Bosses`)."""
        towns = [p for p in places if p.kind == "town"]
        out: list[tuple[int, str, Mention]] = []
        for anchor, town in ((a, t) for a in anchors for t in towns):
            if not anchor.start - BOSS_TOWN_BEFORE <= town.start < anchor.start:
                continue
            between = text[town.end : anchor.start]
            surnames = {c for cue in _SURNAME_CUES.finditer(between) for c in cue.groups() if c}
            for industry in anchor.industries:
                bosses = self.index.bosses.get((town.name, industry))
                if bosses is not None:
                    out += [(row, how, anchor) for row, how in bosses.in_text(between, surnames)]
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
        anchors = self.industry_words(text)  # read once: for trade names and for bosses
        for name_text, offset in ((hint_name, -1), (text, 0)):
            if not name_text:
                continue
            for mention in self.mentions(text, places, anchors) if offset == 0 else self.mentions(name_text):
                hits = (
                    self.index.lookup_reading(
                        mention.written, "homophone" if mention.spelled_apart else "pinyin"
                    )
                    if mention.romanised
                    else self.index.lookup(mention.written)
                )
                if not hits:
                    continue
                groups = self.vocab.groups_of(mention.industries)
                nearby = named.around(mention, places) if offset == 0 else None
                start, end = (mention.start, mention.end) if offset == 0 else (-1, -1)
                for hit in hits:
                    written = len(hit.trade) if mention.romanised else len(mention.written)
                    base = TRADE_SCORE[hit.how] + LONGER_TRADE_BONUS * (min(len(hit.trade), written) - 2)
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
        for row, how, anchor in self._bosses(text, places, anchors):
            groups = self.vocab.groups_of(anchor.industries)
            score = BOSS_SCORE[how] + self._industry_score(anchor, groups, row)
            score += named.around(anchor, places).score(self.index.rows[row])
            if row not in scored or scored[row][0] < score:
                scored[row] = (round(score, 3), how, anchor.start, anchor.end)
        ranked = sorted(scored, key=lambda row: (-scored[row][0], row))
        top = tuple(Candidate(row, *scored[row]) for row in ranked[:MAX_CANDIDATES])
        if not top or top[0].score < ACCEPT:
            return MatchResult(None, top)
        if len(top) > 1 and top[0].score - top[1].score < MARGIN:
            return MatchResult(None, top)  # two firms fit about equally: let the dispatcher choose
        return MatchResult(top[0], top)
