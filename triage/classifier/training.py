"""Train the tip classifier from labelled JSON Lines and dispatchers' corrections into a .npz model file."""

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import ComplementNB

from triage.analysis.classify import NAIVE_BAYES_HEAD, OTHER, OTHER_HEAD, SUBTYPE_HEAD, URGENT_HEAD
from triage.analysis.features import FEATURE_VERSION, text_features
from triage.analysis.linear import LinearHead, TextModel
from triage.analysis.normalise import normalise
from triage.analysis.shared_engine import MODEL_FILE, SHIPPED_MODEL
from triage.errors import ValidationFailed

DATA = Path(__file__).resolve().parent.parent / "data"
# What the shipped model was trained on (triage/data/README.md); the plain baseline uses the first only.
REAL_TRAINING = DATA / "tips_train.jsonl"
SHIPPED_TRAINING = (
    REAL_TRAINING,
    DATA / "tips_written.jsonl",
    DATA / "tips_written_2.jsonl",
    DATA / "tips_written_3.jsonl",
    DATA / "tips_written_4.jsonl",
    DATA / "tips_written_5.jsonl",
    DATA / "tips_written_6.jsonl",
    DATA / "tips_written_7.jsonl",
    DATA / "tips_written_8.jsonl",
    DATA / "tips_written_9.jsonl",
    DATA / "tips_written_10.jsonl",
    DATA / "tips_written_11.jsonl",
    DATA / "tips_written_12.jsonl",
    DATA / "tips_written_13.jsonl",
    DATA / "tips_written_14.jsonl",
    DATA / "tips_written_15.jsonl",
    DATA / "tips_written_16.jsonl",
    DATA / "tips_written_17.jsonl",
    DATA / "tips_written_18.jsonl",
    DATA / "tips_written_19.jsonl",
    DATA / "tips_written_20.jsonl",
    DATA / "tips_extra.jsonl",
)
# Chosen by 5-fold cross-validation on tips_train (see triage/data/README.md): C 5–20 tie, 100 is worse.
REGULARISATION_C = 20.0
# Tips composed from phrase templates (channel "composed") help a lot but repeat themselves; at full weight
# they crowd out real tips. 0.15–0.3 was best in cross-validation, 0.5 and 1.0 worse.
COMPOSED_WEIGHT = 0.3
COMPOSED_CHANNEL = "composed"
WRITTEN_CHANNEL = "written"
# Hand-written tips are varied, real-sounding wording for the weak classes: CV (x3) subtype macro-F1 was
# 0.960 at weight 0.5, 0.966 at 1.0 and 0.970 at 2.0.
WRITTEN_WEIGHT = 2.0
# Additive smoothing of the naive Bayes head: 0.1, 0.3 and 1.0 were within a tip of each other (round 9).
NAIVE_BAYES_SMOOTHING = 0.3
# Tips made for training, never real: cross-validation keeps them in the training folds only.
TRAINING_ONLY_CHANNELS = frozenset({COMPOSED_CHANNEL, WRITTEN_CHANNEL})


@dataclass(frozen=True)
class LabelledTip:
    text: str
    category: str
    subtype: str
    urgent: bool = False
    weight: float = 1.0
    channel: str = ""
    department: str | None = None


def default_model_path(data_dir: Path) -> Path:
    """Where `hotline classifier train` writes and the engine looks first."""
    return data_dir / MODEL_FILE


def shipped_model_path() -> Path:
    """The model committed with the code, used when data_dir has none."""
    return SHIPPED_MODEL


def read_labelled(path: Path) -> list[LabelledTip]:
    """Tips in the tips_dev.jsonl format ({"text", "gold": {...}}) or flat ({"text", "category", …})."""
    out: list[LabelledTip] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            gold = row.get("gold", row)
            channel = str(row.get("channel") or "")
            weight = {COMPOSED_CHANNEL: COMPOSED_WEIGHT, WRITTEN_CHANNEL: WRITTEN_WEIGHT}.get(channel, 1.0)
            out.append(
                LabelledTip(
                    row["text"],
                    gold["category"],
                    gold["subtype"],
                    bool(gold.get("urgent")),
                    weight,
                    channel,
                    gold.get("department"),
                )
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ValidationFailed(
                f"{path}:{number}: not a labelled tip ({exc})", code="bad_training_data"
            ) from exc
    return out


def featurise(texts: Iterable[str]) -> list[list[str]]:
    return [text_features(normalise(text).text) for text in texts]


def _identity(features: list[str]) -> list[str]:
    return features


def fit_vectoriser(docs: Sequence[list[str]]) -> TfidfVectorizer:
    vectoriser = TfidfVectorizer(analyzer=_identity, sublinear_tf=True, norm="l2")
    vectoriser.fit(docs)
    return vectoriser


def fit_head(matrix: object, labels: Sequence[str], weights: Sequence[float] | None = None) -> LinearHead:
    """Logistic regression with balanced class weights: rare classes (few urgent tips) still count."""
    if len(set(labels)) < 2:
        # Nothing to tell apart (no urgent tip in the data): a head that always says the one label.
        only = str(labels[0]) if labels else "0"
        classes = tuple(sorted({only, "1" if only == "0" else "0"}))
        n_features = int(getattr(matrix, "shape", (0, 0))[1])
        bias = 10.0 if classes[1] == only else -10.0
        return LinearHead(classes, np.zeros((n_features, 1), np.float32), np.array([bias], np.float32))
    classifier = LogisticRegression(C=REGULARISATION_C, max_iter=5000, class_weight="balanced")
    classifier.fit(matrix, list(labels), sample_weight=None if weights is None else np.asarray(weights))
    classes = tuple(str(c) for c in classifier.classes_)
    return LinearHead(
        classes, classifier.coef_.T.astype(np.float32), classifier.intercept_.astype(np.float32)
    )


def fit_naive_bayes_head(
    docs: Sequence[list[str]], vocabulary: dict[str, int], labels: Sequence[str], weights: Sequence[float]
) -> LinearHead:
    """Complement naive Bayes on the n-gram counts, as a linear head: its joint log-likelihood is
    counts @ feature_log_prob_.T. It generalises differently from logistic regression (it weighs every
    n-gram by how often it occurs with a class, not by what separates the training tips), which is why a
    small share of its vote fixes tips from unseen authors (triage/data/README.md, round 9)."""
    counts = CountVectorizer(analyzer=_identity, vocabulary=vocabulary).transform(docs)
    nb = ComplementNB(alpha=NAIVE_BAYES_SMOOTHING)
    nb.fit(counts, list(labels), sample_weight=np.asarray(weights))
    classes = tuple(str(c) for c in nb.classes_)
    coef = nb.feature_log_prob_.T.astype(np.float32)
    return LinearHead(classes, coef, np.zeros(len(classes), np.float32), reads="counts")


def fit_label_heads(
    docs: Sequence[list[str]],
    vectoriser: TfidfVectorizer,
    labels: Sequence[str],
    weights: Sequence[float] | None = None,
) -> dict[str, LinearHead]:
    """The two heads whose mixed probabilities choose a tip's label (classify.label_probabilities)."""
    weights = [1.0] * len(labels) if weights is None else weights
    return {
        SUBTYPE_HEAD: fit_head(vectoriser.transform(docs), labels, weights),
        NAIVE_BAYES_HEAD: fit_naive_bayes_head(docs, vectoriser.vocabulary_, labels, weights),
    }


def model_of(vectoriser: TfidfVectorizer, heads: dict[str, LinearHead], meta: dict[str, object]) -> TextModel:
    return TextModel(
        vocabulary={str(k): int(v) for k, v in vectoriser.vocabulary_.items()},
        idf=vectoriser.idf_.astype(np.float32),
        heads=heads,
        meta=meta,
    )


def build_model(tips: Sequence[LabelledTip], meta: dict[str, object] | None = None) -> TextModel:
    if len({t.category for t in tips}) < 2:
        raise ValidationFailed("training needs tips of at least two categories", code="bad_training_data")
    docs = featurise(t.text for t in tips)
    vectoriser = fit_vectoriser(docs)
    matrix = vectoriser.transform(docs)
    weights = [t.weight for t in tips]
    # Subtype only: the category is derived from it, so the two can never disagree.
    heads = {
        **fit_label_heads(docs, vectoriser, [f"{t.category}/{t.subtype}" for t in tips], weights),
        URGENT_HEAD: fit_head(matrix, ["1" if t.urgent else "0" for t in tips], weights),
        # Is it a capacity matter at all? One contrast learnt on its own (classify.with_other_head, round 14).
        OTHER_HEAD: fit_head(matrix, ["1" if t.category == OTHER else "0" for t in tips], weights),
    }
    # The same tips read through other features make another model: the id names both.
    digest = hashlib.sha256(
        "\n".join(
            [
                f"features {FEATURE_VERSION}",
                *(f"{t.category}/{t.subtype}/{t.urgent}/{t.weight}/{t.text}" for t in tips),
            ]
        ).encode()
    )
    info: dict[str, object] = {
        "id": f"linear-{digest.hexdigest()[:10]}",
        "feature_version": FEATURE_VERSION,
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "tips": len(tips),
        **(meta or {}),
    }
    return model_of(vectoriser, heads, info)


def train(paths: Sequence[Path], extra_labels: Sequence[LabelledTip], output: Path) -> Path:
    """Train from JSON Lines files plus extra labelled tips (dispatchers' corrections); write `output`."""
    tips = [tip for path in paths for tip in read_labelled(path)] + list(extra_labels)
    model = build_model(tips, {"sources": [p.name for p in paths], "corrections": len(extra_labels)})
    model.save(output)
    return output
