"""Training, evaluating and benchmarking the learned tip classifier (`hotline classifier …`)."""

from triage.classifier.bench import BenchReport, bench
from triage.classifier.evaluation import EvalReport, evaluate
from triage.classifier.training import (
    LabelledTip,
    default_model_path,
    read_labelled,
    shipped_model_path,
    train,
)

__all__ = [
    "BenchReport",
    "EvalReport",
    "LabelledTip",
    "bench",
    "default_model_path",
    "evaluate",
    "read_labelled",
    "shipped_model_path",
    "train",
]
