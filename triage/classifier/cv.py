"""Stratified k-fold cross-validation of the classifier on real tips (`hotline classifier cv`).

Only real tips are scored: composed and hand-written tips (channels `composed`, `written`) go into every
training fold and never into a test fold, so the figures say how the model does on what citizens write.
Each fold trains exactly what `hotline classifier train` would ship (build_model) and classifies with the
engine's Classifier, so CV measures the shipped decision rules.
"""

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold

from triage.analysis.classify import Classifier
from triage.analysis.keywords import KeywordRules, load_keywords
from triage.analysis.linear import TextModel
from triage.analysis.normalise import normalise
from triage.classifier.baseline import macro_f1
from triage.classifier.training import (
    COMPOSED_CHANNEL,
    TRAINING_ONLY_CHANNELS,
    LabelledTip,
    build_model,
)
from triage.errors import ValidationFailed
from triage.routing import Catalogue, catalogue, route

SEED = 0  # fixed: the same folds every run, so two settings are compared on the same splits


@dataclass(frozen=True)
class CvReport:
    scheme: str  # "5-fold CV x3" (each repeat splits differently; figures pool all) or "leave one file out"
    tips: int  # distinct tips scored (CV: each once per repeat, out of fold)
    training_only: int  # composed/written tips added to every training fold
    category_macro_f1: float
    subtype_macro_f1: float
    department_accuracy: float  # of real tips with a gold department
    urgency_f1: float
    per_subtype_f1: dict[str, float]
    confused: list[tuple[str, str, int]]  # (gold, predicted, count), most frequent first
    urgent_missed: int
    urgent_false: int


@dataclass(frozen=True)
class Prediction:
    subtype: str  # "category/subtype"
    department: str
    urgent: bool


def predict(model: TextModel, texts: Sequence[str], rules: KeywordRules, cat: Catalogue) -> list[Prediction]:
    """What the engine would say about each text's class, department and urgency (no register needed)."""
    classifier = Classifier(rules, model, "cv")
    out = []
    for text in texts:
        body = normalise(text).text
        verdict = classifier.classify(body, rules.scan(body))
        lead = route(verdict.category, verdict.subtype, None, cat).lead
        out.append(Prediction(f"{verdict.category}/{verdict.subtype}", lead, verdict.urgent))
    return out


def cross_validate(
    tips: Sequence[LabelledTip],
    folds: int = 5,
    build: Callable[[Sequence[LabelledTip]], TextModel] = build_model,
    repeats: int = 1,
) -> CvReport:
    """Out-of-fold predictions for every real tip; `build` trains a model from a fold's training tips.

    With 200-odd real tips one split moves macro-F1 by a point or two either way; `repeats` > 1 pools
    several splits (seeds SEED, SEED+1, …) so that two settings are compared on more than luck."""
    real = [t for t in tips if t.channel not in TRAINING_ONLY_CHANNELS]
    extra = [t for t in tips if t.channel in TRAINING_ONLY_CHANNELS]
    labels = [_label(t) for t in real]
    smallest = min(Counter(labels).values(), default=0)
    if folds < 2 or smallest < folds:
        raise ValidationFailed(
            f"{folds}-fold CV needs at least {folds} real tips of every subtype (smallest has {smallest})",
            code="bad_training_data",
        )
    rules, cat = load_keywords(), catalogue()
    scored: list[LabelledTip] = []
    out: list[Prediction] = []
    for repeat in range(repeats):
        predicted: list[Prediction | None] = [None] * len(real)
        splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=SEED + repeat)
        for train_idx, test_idx in splitter.split(labels, labels):
            model = build([real[i] for i in train_idx] + extra)
            texts = [real[i].text for i in test_idx]
            for i, p in zip(test_idx, predict(model, texts, rules, cat), strict=True):
                predicted[i] = p
        scored.extend(real)
        out.extend(p for p in predicted if p is not None)
    return _report(f"{folds}-fold CV x{repeats}", len(real), len(extra), scored, out)


def validate_by_file(
    files: Sequence[tuple[str, Sequence[LabelledTip]]],
    build: Callable[[Sequence[LabelledTip]], TextModel] = build_model,
) -> CvReport:
    """Leave one file out: each file's tips are classified by a model trained on all the other files.

    Cross-validation on the 208 real training tips saturated (0.995), so it can no longer tell two
    settings apart. Each hand-written file was written separately, by a different author with its own
    habits, so predicting one from the others is a larger and harder check of how a setting carries to
    text it has never seen. Files of composed tips only train (they repeat their own templates)."""
    rules, cat = load_keywords(), catalogue()
    scored: list[LabelledTip] = []
    out: list[Prediction] = []
    for name, tips in files:
        if all(t.channel == COMPOSED_CHANNEL for t in tips):
            continue
        others = [t for other, rest in files if other != name for t in rest]
        out.extend(predict(build(others), [t.text for t in tips], rules, cat))
        scored.extend(tips)
    if not scored:
        raise ValidationFailed("no file other than composed tips to score", code="bad_training_data")
    return _report("leave one file out", len(scored), 0, scored, out)


def _label(tip: LabelledTip) -> str:
    return f"{tip.category}/{tip.subtype}"


def _report(
    scheme: str, tips: int, training_only: int, gold: Sequence[LabelledTip], out: Sequence[Prediction]
) -> CvReport:
    labels = [_label(t) for t in gold]
    gold_cat = [lab.split("/")[0] for lab in labels]
    pred_sub = [p.subtype for p in out]
    pred_cat = [lab.split("/")[0] for lab in pred_sub]
    gold_urg = [t.urgent for t in gold]
    pred_urg = [p.urgent for p in out]
    with_dept = [(t.department, p.department) for t, p in zip(gold, out, strict=True) if t.department]
    per = f1_score(labels, pred_sub, labels=sorted(set(labels)), average=None, zero_division=0)
    confused = Counter((g, p) for g, p in zip(labels, pred_sub, strict=True) if g != p)
    return CvReport(
        scheme=scheme,
        tips=tips,
        training_only=training_only,
        category_macro_f1=macro_f1(gold_cat, pred_cat),
        subtype_macro_f1=macro_f1(labels, pred_sub),
        department_accuracy=sum(g == p for g, p in with_dept) / max(len(with_dept), 1),
        urgency_f1=float(f1_score(gold_urg, pred_urg, pos_label=True, zero_division=0)),
        per_subtype_f1={lab: float(f) for lab, f in zip(sorted(set(labels)), per, strict=True)},
        confused=[(g, p, n) for (g, p), n in confused.most_common()],
        urgent_missed=sum(g and not p for g, p in zip(gold_urg, pred_urg, strict=True)),
        urgent_false=sum(p and not g for g, p in zip(gold_urg, pred_urg, strict=True)),
    )
