"""The shipped model is exactly what training on the listed files gives: no stale or hand-edited model."""

from pathlib import Path

import numpy as np

from triage.analysis.shared_engine import SHIPPED_MODEL
from triage.classifier.training import SHIPPED_TRAINING, train


def test_the_shipped_model_is_reproduced_from_its_training_files(tmp_path: Path) -> None:
    retrained = np.load(train(SHIPPED_TRAINING, [], tmp_path / "model.npz"))
    shipped = np.load(SHIPPED_MODEL)
    assert sorted(retrained.files) == sorted(shipped.files)
    for name in shipped.files:
        if name != "meta":  # it records when the model was trained
            assert np.array_equal(retrained[name], shipped[name]), name
