"""The quality targets beside an evaluation: unrounded, so a figure that prints as 0.990 can still miss."""

import pytest

from triage.classifier.evaluation import TARGETS, EvalReport, check_targets


def _report(**figures: float) -> EvalReport:
    values = {target.measure: (0.0 if target.at_most else 1.0) for target in TARGETS} | figures
    return EvalReport(
        tips=10,
        model="test",
        category_classes=[],
        subtype_classes=[],
        category_labels=[],
        category_confusion=[],
        enterprise_named=5,
        enterprise_unnamed=5,
        **values,  # type: ignore[arg-type]
    )


def _met(report: EvalReport) -> dict[str, bool]:
    return {check.target.measure: check.met for check in check_targets(report)}


def test_a_perfect_report_meets_every_target() -> None:
    assert all(_met(_report()).values())


@pytest.mark.parametrize(
    ("measure", "value", "met"),
    [
        ("category_macro_f1", 0.99, True),
        ("category_macro_f1", 0.98998, False),  # prints as 0.990
        ("department_accuracy", 91 / 92, False),  # one tip of 92 wrong
        ("subtype_macro_f1", 0.96, True),
        ("enterprise_right", 0.899, False),
        ("enterprise_wrongly_matched", 0.03, True),  # a share that must stay at most the goal
        ("enterprise_wrongly_matched", 0.031, False),
    ],
)
def test_each_target_is_checked_on_the_unrounded_figure(measure: str, value: float, met: bool) -> None:
    checks = _met(_report(**{measure: value}))
    assert checks[measure] is met
    assert all(ok for other, ok in checks.items() if other != measure)
