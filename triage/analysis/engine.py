"""The triage engine: normalise -> classify (segmenting if need be) -> locate -> match -> duplicates -> route.

Segmentation is jieba with the domain dictionary (taxonomy keywords, county/town names, industry words and
the register's trade names), built once per engine; the words widen the model's evidence to readable
words. The classifier itself reads character n-grams, which cross-validation preferred to words, so a tip
is segmented only when that evidence is needed (no keyword backs the verdict): jieba would otherwise be
the largest part of an analysis.
"""

import logging
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from triage.analysis.classify import (
    NAIVE_BAYES_HEAD,
    OTHER_HEAD,
    RULES_FALLBACK,
    SUBTYPE_HEAD,
    URGENT_HEAD,
    Classifier,
)
from triage.analysis.duplicates import find_duplicates
from triage.analysis.index import EnterpriseIndex
from triage.analysis.keywords import KeywordRules, load_keywords
from triage.analysis.lexicon import add_words, segment, tokenizer, word_spans
from triage.analysis.linear import TextModel
from triage.analysis.matcher import Candidate, EnterpriseMatcher
from triage.analysis.names import NameVocabulary, load_vocabulary
from triage.analysis.normalise import normalise
from triage.analysis.places import Gazetteer
from triage.analysis.priority import priority_of
from triage.analysis.register_rows import RegisterRow
from triage.analysis.result import Analysis, EnterpriseRef, Evidence, Hints
from triage.routing import Catalogue, catalogue, route

log = logging.getLogger(__name__)
RED_CARD = "红牌"


@lru_cache(maxsize=4096)
def _normalised_text(text: str) -> str:
    return normalise(text).text


def usable_model(model: TextModel | None, cat: Catalogue) -> TextModel | None:
    """The model, or None when it is stale: other features, or labels the taxonomy does not have."""
    if model is None:
        return None
    if not model.is_current() or not {SUBTYPE_HEAD, URGENT_HEAD} <= set(model.heads):
        log.warning("classifier model is stale (features or heads changed); using the keyword rules")
        return None
    known = {f"{c}/{s}" for c, category in cat.categories.items() for s in category.subtypes}
    if not set(model.heads[SUBTYPE_HEAD].classes) <= known:
        log.warning("classifier model has labels outside the taxonomy; using the keyword rules")
        return None
    nb = model.heads.get(NAIVE_BAYES_HEAD)
    if nb is not None and nb.classes != model.heads[SUBTYPE_HEAD].classes:
        log.warning("classifier model's two subtype heads disagree on their classes; using the keyword rules")
        return None
    other = model.heads.get(OTHER_HEAD)
    if other is not None and other.classes != ("0", "1"):
        log.warning("classifier model's other-vs-capacity head is not a yes/no head; using the keyword rules")
        return None
    return model


def load_model_file(path: Path | None) -> TextModel | None:
    if path is None or not path.exists():
        return None
    try:
        return TextModel.load(path)
    except (OSError, ValueError, KeyError) as exc:
        log.warning("cannot read classifier model %s: %s", path, exc)
        return None


def _gazetteer(rows: Sequence[RegisterRow], vocab: NameVocabulary) -> Gazetteer:
    return Gazetteer(rows, vocab.ambiguous_short_places, vocab.ambiguous_latin_places)


def build_index(rows: Sequence[RegisterRow], vocab: NameVocabulary) -> EnterpriseIndex:
    """The register's index, its names parsed against the register's own places (the slow part of a start)."""
    return EnterpriseIndex(rows, vocab, _gazetteer(rows, vocab).all_names())


class TriageEngine:
    """Everything analysis needs in memory: register index, gazetteer, tokenizer, rules and model."""

    def __init__(
        self,
        rows: Sequence[RegisterRow],
        model: TextModel | None = None,
        *,
        model_name: str = "",
        keywords: KeywordRules | None = None,
        vocab: NameVocabulary | None = None,
        cat: Catalogue | None = None,
        index: EnterpriseIndex | None = None,
    ) -> None:
        """`index`: the index of `rows` with `vocab`, built already (`build_index`, `index_cache`)."""
        self.catalogue = cat or catalogue()
        self.keywords = keywords or load_keywords()
        self.vocab = vocab or load_vocabulary()
        self.gazetteer = _gazetteer(rows, self.vocab)
        self.index = (
            index if index is not None else EnterpriseIndex(rows, self.vocab, self.gazetteer.all_names())
        )
        self.matcher = EnterpriseMatcher(self.index, self.vocab)
        self.tokenizer = tokenizer()
        add_words(self.tokenizer, [*self.gazetteer.forms, *self.index.trade_names()])
        model = usable_model(model, self.catalogue)
        name = model_name or (str(model.meta.get("id", "model")) if model else RULES_FALLBACK)
        self.classifier = Classifier(self.keywords, model, name)

    @classmethod
    def of_index(cls, index: EnterpriseIndex, model: TextModel | None) -> "TriageEngine":
        """An engine over a register index built already (`build_index`, `index_cache`)."""
        return cls(index.rows, model, index=index)

    @property
    def model_name(self) -> str:
        return self.classifier.model_name

    def _ref(self, candidate: Candidate) -> EnterpriseRef:
        row = self.index.rows[candidate.row]
        return EnterpriseRef(row.uscc, row.name, candidate.score, row.exit_list, row.county_code)

    def analyse(self, text: str, hints: Hints | None = None) -> Analysis:
        hints = hints or Hints()
        norm = normalise(text)
        body = norm.text
        hits = self.keywords.scan(body)
        verdict = self.classifier.classify(body, hits, lambda: word_spans(segment(self.tokenizer, body)))

        location = self.gazetteer.locate(body)
        place_hint = self.gazetteer.locate(_normalised_text(hints.place)) if hints.place else None
        match = self.matcher.match(body, location.hits, _normalised_text(hints.enterprise_name))
        firm = self.index.rows[match.best.row] if match.best else None

        county = location.county_code or (place_hint.county_code if place_hint else None)
        town = location.town or (place_hint.town if place_hint else "")
        if firm and (county is None or county == firm.county_code):
            county = firm.county_code  # the firm settles a shared town name (上坪镇) or a tip with no place
            town = town or firm.town

        evidence = [Evidence(c.text, *norm.original_span(c.start, c.end), c.for_) for c in verdict.cues]
        for hit in location.hits:
            if hit.county_codes[0] == county or county in hit.county_codes:
                evidence.append(
                    Evidence(body[hit.start : hit.end], *norm.original_span(hit.start, hit.end), hit.kind)
                )
        if match.best and match.best.start >= 0:
            start, end = match.best.start, match.best.end
            evidence.append(Evidence(body[start:end], *norm.original_span(start, end), "enterprise"))

        uscc = firm.uscc if firm else None
        duplicates = find_duplicates(body, uscc, hints.recent, _normalised_text)
        suspected_restart = bool(firm and firm.exit_list == RED_CARD)
        routed = route(verdict.category, verdict.subtype, county, self.catalogue)
        return Analysis(
            category=verdict.category,
            subtype=verdict.subtype,
            urgent=verdict.urgent,
            confidence=verdict.confidence,
            model=verdict.model,
            evidence=tuple(evidence),
            county_code=county,
            town=town,
            enterprise=self._ref(match.best) if match.best else None,
            enterprise_candidates=tuple(self._ref(c) for c in match.candidates),
            suspected_restart=suspected_restart,
            priority=priority_of(verdict.category, verdict.urgent, suspected_restart, firm, len(duplicates)),
            duplicates=duplicates,
            lead_department=routed.lead,
            co_handlers=tuple(routed.co_handlers),
            normalised_text=body,
        )


Engine = TriageEngine
