"""Category, subtype and urgency with a confidence and the words that decided them: model, else rules."""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from triage.analysis.features import text_features
from triage.analysis.keywords import URGENT, KeywordHit, KeywordRules
from triage.analysis.linear import TextModel

RULES_FALLBACK = "rules-fallback"
OTHER = "other"
URGENT_RULE_SCORE = 6.0  # a danger word (爆炸, 泄漏, 受伤…) and a sign that it is happening now
MAX_MODEL_EVIDENCE = 3


@dataclass(frozen=True, slots=True)
class Cue:
    """A decisive word in the normalised text."""

    text: str
    start: int
    end: int
    for_: str


@dataclass(frozen=True)
class Classification:
    category: str
    subtype: str
    urgent: bool
    confidence: float
    model: str
    cues: tuple[Cue, ...]


class Classifier:
    def __init__(
        self, rules: KeywordRules, model: TextModel | None, model_name: str = RULES_FALLBACK
    ) -> None:
        self.rules = rules
        self.model = model
        self.model_name = model_name if model else RULES_FALLBACK

    def classify(self, text: str, tokens: Sequence[str], hits: Sequence[KeywordHit]) -> Classification:
        if self.model is None:
            return self._by_rules(text, hits)
        return self._by_model(self.model, text, tokens, hits)

    def _by_rules(self, text: str, hits: Sequence[KeywordHit]) -> Classification:
        scores = KeywordRules.scores(list(hits))
        by_category: dict[str, float] = {}
        for label, score in scores.items():
            if label != URGENT:
                cat = label.split("/")[0]
                by_category[cat] = by_category.get(cat, 0.0) + score
        if not by_category:
            category, subtype, confidence = OTHER, OTHER, 0.3
        else:
            category = max(by_category, key=lambda c: (by_category[c], c))
            subtype = max(
                (lab for lab in scores if lab.startswith(category + "/")), key=lambda lab: (scores[lab], lab)
            ).split("/")[1]
            confidence = by_category[category] / (sum(by_category.values()) + 2.0)
        urgent = scores.get(URGENT, 0.0) >= URGENT_RULE_SCORE
        return Classification(
            category,
            subtype,
            urgent,
            confidence,
            RULES_FALLBACK,
            self._keyword_cues(hits, category, subtype, urgent),
        )

    def _by_model(
        self, model: TextModel, text: str, tokens: Sequence[str], hits: Sequence[KeywordHit]
    ) -> Classification:
        idx, vals = model.vectorise(text_features(text, tokens, hits))
        p_category = model.heads["category"].probabilities(idx, vals)
        category = max(p_category, key=lambda c: p_category[c])
        p_subtype = model.heads["subtype"].probabilities(idx, vals)
        within = {lab: p for lab, p in p_subtype.items() if lab.startswith(category + "/")}
        subtype = max(within, key=lambda lab: within[lab]).split("/")[1] if within else OTHER
        # Urgent tips are rare in training data; the rule catches those the model is too shy about.
        rule_urgency = KeywordRules.scores(list(hits)).get(URGENT, 0.0)
        urgent = (
            rule_urgency >= URGENT_RULE_SCORE
            or model.heads["urgent"].probabilities(idx, vals).get("1", 0.0) >= 0.5
        )
        cues = self._keyword_cues(hits, category, subtype, urgent)
        if not any(c.for_ in ("category", "subtype") for c in cues):
            cues += self._model_cues(model, text, idx, vals, category)
        return Classification(category, subtype, urgent, p_category[category], self.model_name, cues)

    @staticmethod
    def _keyword_cues(
        hits: Sequence[KeywordHit], category: str, subtype: str, urgent: bool
    ) -> tuple[Cue, ...]:
        cues: list[Cue] = []
        for hit in hits:
            labels = {label for label, _ in hit.labels}
            if f"{category}/{subtype}" in labels:
                cues.append(Cue(hit.word, hit.start, hit.end, "subtype"))
            elif any(label.startswith(category + "/") for label in labels):
                cues.append(Cue(hit.word, hit.start, hit.end, "category"))
            if urgent and URGENT in labels:
                cues.append(Cue(hit.word, hit.start, hit.end, "urgent"))
        return tuple(cues)

    @staticmethod
    def _model_cues(
        model: TextModel, text: str, idx: np.ndarray, vals: np.ndarray, category: str
    ) -> tuple[Cue, ...]:
        """The text's features that pushed hardest towards the chosen category, located in the text."""
        head = model.heads["category"]
        column = head.classes.index(category)
        contributions = head.coef[idx, column] * vals
        order = np.argsort(-contributions)
        inverse = model.terms
        cues: list[Cue] = []
        for k in order:
            if contributions[k] <= 0 or len(cues) >= MAX_MODEL_EVIDENCE:
                break
            term = inverse[int(idx[k])]
            word = term.split(":", 1)[1] if term[:2] in ("w:", "b:") else term
            if term.startswith(("k:", "b:")):
                continue
            pos = text.find(word)
            if pos >= 0 and not any(c.start <= pos < c.end for c in cues):
                cues.append(Cue(word, pos, pos + len(word), "category"))
        return tuple(cues)
