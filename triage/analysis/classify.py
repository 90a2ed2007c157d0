"""Category, subtype and urgency with a confidence and the words that decided them: model, else rules.

The learned model decides the subtype (and so the category) and urgency; the keyword rules decide only
when there is no usable model, and otherwise only point at the words that back the verdict. The choices
were made by cross-validation and leave-one-file-out validation (triage/data/README.md, round 6): a
keyword guard on urgency used to be required as well, but danger is said in too many ways for a word
list (人晕过去了, 从炉台上摔下来, 罐子歪了) and the guard missed a quarter of urgent tips from unseen authors.
The category is chosen from logistic regression's probabilities with a naive Bayes head's given a say
(`NAIVE_BAYES_WEIGHT`, round 9): the two learners err on different tips from unseen authors. The subtype
within that category is logistic regression's alone (round 10): the vote helped tell categories apart,
while between neighbouring subtypes of one category it cost real tips more than it gained. A binary head
(other vs a capacity matter) then has a share of P(other) (`with_other_head`, round 14).
"""

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np
from numpy.typing import NDArray

from triage.analysis.features import SOUND
from triage.analysis.keywords import URGENT, KeywordHit, KeywordRules
from triage.analysis.linear import Decisions, TextModel, Vector

RULES_FALLBACK = "rules-fallback"
OTHER = "other"
URGENT_RULE_SCORE = 6.0  # a danger word (爆炸, 泄漏, 受伤…) and a sign that it is happening now
URGENT_MODEL_THRESHOLD = 0.4  # chosen by validation (rounds 6–8 in triage/data/README.md)
# The naive Bayes head's share of the probabilities that choose the category. Its probabilities are nearly
# all-or-nothing, so this acts as a vote between close logistic-regression classes; 0.2 made the fewest
# errors leaving one file out in rounds 9–13, 0.1 with round 14's sound features, 0.15 in round 15
# (triage/data/README.md).
NAIVE_BAYES_WEIGHT = 0.15
# The share of the binary other-vs-capacity head in P(other): 0.2 in round 14, 0.3 in round 15 (by file,
# among the settings with no category error on real tips in CV whose neighbours have none either).
OTHER_HEAD_WEIGHT = 0.3
SUBTYPE_HEAD, NAIVE_BAYES_HEAD, URGENT_HEAD, OTHER_HEAD = "subtype", "subtype_nb", "urgent", "other"
MAX_MODEL_EVIDENCE = 3
MAX_EVIDENCE_CHARS = 8


WordSpans = Callable[[], Sequence[tuple[int, int]]]  # (start, end) of each segmented word, on demand
Probabilities = NDArray[np.float64]  # in the order of a head's classes, or of Classifier._category_names


def label_probabilities(model: TextModel, vector: Vector) -> dict[str, float]:
    """P(label) from the logistic-regression head, mixed with the naive Bayes head's: what chooses the
    category here, and the label of a model trained on any flat labels (`classifier bench`)."""
    z = model.decisions(vector)
    head = model.heads[SUBTYPE_HEAD]
    return dict(
        zip(
            head.classes,
            with_naive_bayes_vote(model, z, head.probabilities_of(z[SUBTYPE_HEAD])).tolist(),
            strict=True,
        )
    )


def with_naive_bayes_vote(model: TextModel, z: Decisions, p_lr: Probabilities) -> Probabilities:
    """Logistic regression's label probabilities `p_lr` mixed with the naive Bayes head's where the model
    has one (models trained before round 9 have not). Both heads list the same classes in the same order."""
    nb = model.heads.get(NAIVE_BAYES_HEAD)
    if nb is None:
        return p_lr
    return (1 - NAIVE_BAYES_WEIGHT) * p_lr + NAIVE_BAYES_WEIGHT * nb.probabilities_of(z[NAIVE_BAYES_HEAD])


def with_other_head(model: TextModel, z: Decisions, p_category: Probabilities, other: int) -> Probabilities:
    """The category probabilities with P(other) (at index `other`) mixed with the binary other-vs-capacity
    head's, the other categories scaled to fit. Most errors on unseen authors are `other` tips full of plant
    words (questions about the rules, adverts, emergencies near a plant); one yes/no contrast learnt on its
    own weighs the words that say "not a report" (请问, 出售, 工资) against the topic words that a 14-way head
    spreads over the subtypes (triage/data/README.md, round 14). Models without the head are used as they
    are."""
    head = model.heads.get(OTHER_HEAD)
    if head is None or other < 0:
        return p_category
    before = float(p_category[other])
    after = (1 - OTHER_HEAD_WEIGHT) * before + OTHER_HEAD_WEIGHT * float(
        head.probabilities_of(z[OTHER_HEAD])[1]
    )
    mixed = p_category * ((1 - after) / (1 - before) if before < 1 else 0.0)
    mixed[other] = after
    return mixed


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
        # The categories in the order they first appear among the subtype head's classes, and which of
        # them each subtype label ("env/emission" -> "env") belongs to, as a 0/1 matrix that sums subtype
        # probabilities into category probabilities.
        labels = model.heads[SUBTYPE_HEAD].classes if model else ()
        of_label = [label.split("/")[0] for label in labels]
        self._category_names = tuple(dict.fromkeys(of_label))
        self._subtype_names = tuple(label.split("/")[-1] for label in labels)
        self._label_category = np.array([self._category_names.index(c) for c in of_label], dtype=np.intp)
        self._sums = np.zeros((len(labels), len(self._category_names)))
        self._sums[np.arange(len(labels)), self._label_category] = 1.0
        self._other = self._category_names.index(OTHER) if OTHER in self._category_names else -1

    def classify(
        self, text: str, hits: Sequence[KeywordHit], words: WordSpans | None = None
    ) -> Classification:
        """`words` gives the text's segmentation as spans, to widen model evidence to whole words; it is
        called only when no keyword backs the verdict, so most tips are never segmented."""
        if self.model is None:
            return self._by_rules(text, hits)
        return self._by_model(self.model, text, hits, words)

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
        self, model: TextModel, text: str, hits: Sequence[KeywordHit], words: WordSpans | None
    ) -> Classification:
        vector = model.vectorise(text)
        z = model.decisions(vector)
        # One head over all subtypes; the category is the one whose subtypes together are most likely (naive
        # Bayes voting), the subtype the one logistic regression likes best within it. argmax takes the
        # first of equals, as max() over the classes in order did.
        p_subtype = model.heads[SUBTYPE_HEAD].probabilities_of(z[SUBTYPE_HEAD])
        p_category = with_other_head(
            model, z, with_naive_bayes_vote(model, z, p_subtype) @ self._sums, self._other
        )
        chosen = int(np.argmax(p_category))
        category = self._category_names[chosen]
        subtype = self._subtype_names[
            int(np.argmax(np.where(self._label_category == chosen, p_subtype, -1.0)))
        ]
        urgent = bool(model.heads[URGENT_HEAD].probabilities_of(z[URGENT_HEAD])[-1] >= URGENT_MODEL_THRESHOLD)
        cues = self._keyword_cues(hits, category, subtype, urgent)
        # Where no keyword backs a verdict, the model's own strongest n-grams are shown instead, so that
        # the dispatcher always sees why (urgency above all: most urgent tips name no listed danger word).
        segmented = cache(words or tuple)
        if not any(c.for_ in ("category", "subtype") for c in cues):
            label = f"{category}/{subtype}"
            cues += self._model_cues(model, text, vector, SUBTYPE_HEAD, label, "subtype", segmented())
        if urgent and not any(c.for_ == URGENT for c in cues):
            cues += self._model_cues(model, text, vector, URGENT_HEAD, "1", URGENT, segmented())
        return Classification(category, subtype, urgent, float(p_category[chosen]), self.model_name, cues)

    @staticmethod
    def _keyword_cues(
        hits: Sequence[KeywordHit], category: str, subtype: str, urgent: bool
    ) -> tuple[Cue, ...]:
        cues: list[Cue] = []
        chosen, in_category = f"{category}/{subtype}", category + "/"
        for hit in hits:
            labels = [label for label, _ in hit.labels]
            if chosen in labels:
                cues.append(Cue(hit.word, hit.start, hit.end, "subtype"))
            elif any(label.startswith(in_category) for label in labels):
                cues.append(Cue(hit.word, hit.start, hit.end, "category"))
            if urgent and URGENT in labels:
                cues.append(Cue(hit.word, hit.start, hit.end, "urgent"))
        return tuple(cues)

    @staticmethod
    def _model_cues(
        model: TextModel,
        text: str,
        vector: Vector,
        head_name: str,
        label: str,
        for_: str,
        words: Sequence[tuple[int, int]] = (),
    ) -> tuple[Cue, ...]:
        """The n-grams that pushed hardest towards `label` of one head (a subtype, or "1" of the urgent
        head), located in the text, widened to the segmented words they fall in and joined where they
        touch, so the evidence reads as words (偷偷复产, not 偷复) rather than scattered characters."""
        starts = [s for s, _ in words]
        ends = [e for _, e in words]
        head = model.heads[head_name]
        # A binary head has one column, for its second class ("1").
        column = 0 if head.binary else head.classes.index(label)
        idx = vector.idx
        contributions = head.coef[idx, column] * vector.values(head.reads)
        spans: list[tuple[int, int]] = []
        for k in np.argsort(-contributions)[: 4 * MAX_MODEL_EVIDENCE]:
            term = model.terms[int(idx[k])]
            # Punctuation-crossing n-grams (铁,熔) say nothing readable; sound features (py:gang chang) are
            # not in the text at all.
            if contributions[k] <= 0 or len(term) < 2 or not term.isalnum() or term.startswith(SOUND):
                continue
            pos = text.find(term)
            if pos < 0:
                continue
            start, end = pos, pos + len(term)
            if words:
                first, last = bisect_right(starts, start) - 1, bisect_left(ends, end)
                if all(ends[w] - starts[w] < 2 for w in range(first, last + 1)):
                    continue  # only one-character words (的是): grammar, not evidence
                if ends[last] - starts[first] <= MAX_EVIDENCE_CHARS:  # else a long unknown run: keep the term
                    start, end = starts[first], ends[last]
            spans.append((start, end))
        merged: list[tuple[int, int]] = []
        for start, end in sorted(spans):
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
            else:
                merged.append((start, end))
        merged.sort(key=lambda span: span[0] - span[1])  # longest first
        return tuple(Cue(text[s:e], s, e, for_) for s, e in sorted(merged[:MAX_MODEL_EVIDENCE]))
