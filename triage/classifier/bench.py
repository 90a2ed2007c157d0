"""A taxonomy-free bench: train the engine's features and learner on any {"text", "label"} set, report F1
beside the plain baseline (TF-IDF char 1–3-grams + LinearSVC) trained and scored on the same files."""

import json
from dataclasses import dataclass
from pathlib import Path

from sklearn.metrics import f1_score

from triage.analysis.classify import label_probabilities
from triage.analysis.normalise import normalise
from triage.classifier.baseline import Baseline, macro_f1
from triage.classifier.training import featurise, fit_label_heads, fit_vectoriser, model_of
from triage.errors import ValidationFailed


@dataclass(frozen=True)
class BenchReport:
    train: int
    test: int
    macro_f1: float
    per_class_f1: dict[str, float]
    accuracy: float
    baseline_macro_f1: float
    baseline_accuracy: float


def read_text_labels(path: Path) -> tuple[list[str], list[str]]:
    texts, labels = [], []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            texts.append(str(row["text"]))
            labels.append(str(row["label"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise ValidationFailed(
                f'{path}:{number}: need {{"text", "label"}} ({exc})', code="bad_bench_data"
            ) from exc
    return texts, labels


def _accuracy(predicted: list[str], gold: list[str]) -> float:
    return sum(p == g for p, g in zip(predicted, gold, strict=True)) / max(len(gold), 1)


def bench(train_path: Path, test_path: Path) -> BenchReport:
    train_texts, train_labels = read_text_labels(train_path)
    test_texts, test_labels = read_text_labels(test_path)
    if len(set(train_labels)) < 2:
        raise ValidationFailed("the training set needs at least two labels", code="bad_bench_data")
    train_docs = featurise(train_texts)
    vectoriser = fit_vectoriser(train_docs)
    # The engine's label heads and the engine's mixing of them, with the city's labels for subtypes.
    model = model_of(vectoriser, fit_label_heads(train_docs, vectoriser, train_labels), {})
    predicted = []
    for text in test_texts:
        p = label_probabilities(model, model.vectorise(normalise(text).text))
        predicted.append(max(p, key=p.__getitem__))
    plain = Baseline(train_texts, train_labels).predict(test_texts)
    labels = sorted(set(test_labels))
    per_class = f1_score(test_labels, predicted, labels=labels, average=None, zero_division=0)
    return BenchReport(
        train=len(train_texts),
        test=len(test_texts),
        macro_f1=float(per_class.mean()) if len(labels) else 0.0,
        per_class_f1={lab: float(f) for lab, f in zip(labels, per_class, strict=True)},
        accuracy=_accuracy(predicted, test_labels),
        baseline_macro_f1=macro_f1(test_labels, plain),
        baseline_accuracy=_accuracy(plain, test_labels),
    )
