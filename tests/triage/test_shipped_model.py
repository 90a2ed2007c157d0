"""The shipped model is what training on the listed files gives: no stale or hand-edited model."""

from pathlib import Path

import numpy as np

from triage.analysis.shared_engine import SHIPPED_MODEL
from triage.classifier.training import SHIPPED_TRAINING, train

# Logistic regression's solver sums in an order that depends on the CPU's vector instructions, so weights
# retrained on another machine may differ (seen: 4e-9 on one machine, 4e-6 on another, on weights up to 10:
# the solver stops at a slightly different point). Any real change of data or settings moves them by far
# more than this.
WEIGHT_TOLERANCE = 1e-4


def test_the_shipped_model_is_reproduced_from_its_training_files(tmp_path: Path) -> None:
    retrained = np.load(train(SHIPPED_TRAINING, [], tmp_path / "model.npz"))
    shipped = np.load(SHIPPED_MODEL)
    assert sorted(retrained.files) == sorted(shipped.files)
    for name in shipped.files:
        if name == "meta":  # it records when the model was trained
            continue
        if shipped[name].dtype.kind == "f":
            np.testing.assert_allclose(
                retrained[name], shipped[name], rtol=0, atol=WEIGHT_TOLERANCE, err_msg=name
            )
        else:
            assert np.array_equal(retrained[name], shipped[name]), name
