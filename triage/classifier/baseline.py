"""The plain baseline the engine must beat: TF-IDF of character 1–3-grams + LinearSVC, one model per label.

It is trained and scored in the same run as the engine (`hotline classifier eval`, `… bench`), on the same
normalised text, so the comparison never rests on a figure remembered from elsewhere.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import f1_score
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.svm import LinearSVC

from triage.analysis.normalise import normalise
from triage.classifier.training import LabelledTip
from triage.routing import Catalogue, catalogue, route


@dataclass(frozen=True)
class BaselineReport:
    trained_on: int
    tips: int
    category_macro_f1: float
    subtype_macro_f1: float
    department_accuracy: float
    urgency_f1: float


def _pipeline() -> Pipeline:
    return make_pipeline(TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True), LinearSVC())


class Baseline:
    """Plain text classifiers, one per label; `predict` gives one label per text."""

    def __init__(self, texts: Sequence[str], labels: Sequence[str]) -> None:
        self.constant = labels[0] if len(set(labels)) == 1 else None
        self.pipeline = _pipeline()
        if self.constant is None:
            self.pipeline.fit([normalise(t).text for t in texts], list(labels))

    def predict(self, texts: Sequence[str]) -> list[str]:
        if self.constant is not None:
            return [self.constant] * len(texts)
        return [str(p) for p in self.pipeline.predict([normalise(t).text for t in texts])]


def macro_f1(gold: Sequence[str], predicted: Sequence[str]) -> float:
    """Macro-F1 over the labels present in the gold data, as the engine's evaluation computes it."""
    labels = sorted(set(gold))
    return float(f1_score(gold, predicted, labels=labels, average="macro", zero_division=0))


def score_baseline(
    train: Sequence[LabelledTip], rows: Sequence[dict[str, Any]], cat: Catalogue | None = None
) -> BaselineReport:
    """Train the baseline on `train` and score it on `rows` (tips_dev format) like `evaluate` does."""
    cat = cat or catalogue()
    texts = [t.text for t in train]
    category = Baseline(texts, [t.category for t in train])
    subtype = Baseline(texts, [f"{t.category}/{t.subtype}" for t in train])
    urgent = Baseline(texts, ["1" if t.urgent else "0" for t in train])
    test = [row["text"] for row in rows]
    golds = [row["gold"] for row in rows]
    p_cat, p_sub, p_urg = category.predict(test), subtype.predict(test), urgent.predict(test)
    departments = [route(c, s.split("/")[1], None, cat).lead for c, s in zip(p_cat, p_sub, strict=True)]
    g_urg = ["1" if g.get("urgent") else "0" for g in golds]
    return BaselineReport(
        trained_on=len(train),
        tips=len(rows),
        category_macro_f1=macro_f1([g["category"] for g in golds], p_cat),
        subtype_macro_f1=macro_f1([f"{g['category']}/{g['subtype']}" for g in golds], p_sub),
        department_accuracy=sum(d == g.get("department") for d, g in zip(departments, golds, strict=True))
        / max(len(rows), 1),
        urgency_f1=float(f1_score(g_urg, p_urg, pos_label="1", zero_division=0)),
    )
