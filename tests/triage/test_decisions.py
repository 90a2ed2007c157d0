"""How the classifier turns the model's probabilities into a verdict, on a model whose probabilities are set
by hand: the category from summed subtype probabilities, and urgency from the model alone, whatever words
the tip uses."""

import math

import numpy as np
import pytest

from triage.analysis.classify import URGENT_MODEL_THRESHOLD, Classifier
from triage.analysis.keywords import load_keywords
from triage.analysis.linear import LinearHead, TextModel

SUBTYPES = ("env/emission", "env/solid_waste", "other/other", "safety/hazard")


def _model(subtype_p: dict[str, tuple[float, ...]], urgent_p: dict[str, float]) -> TextModel:
    """A model in which the one-character tip `ch` gets exactly subtype_p[ch] and urgent_p[ch]."""
    chars = sorted(subtype_p)
    # A one-character text has one feature of weight 1 after L2 normalisation: its row is the logits.
    sub = np.array([[math.log(p) for p in subtype_p[ch]] for ch in chars], np.float32)
    urg = np.array([[math.log(urgent_p[ch] / (1 - urgent_p[ch]))] for ch in chars], np.float32)
    return TextModel(
        vocabulary={ch: i for i, ch in enumerate(chars)},
        idf=np.ones(len(chars), np.float32),
        heads={
            "subtype": LinearHead(SUBTYPES, sub, np.zeros(len(SUBTYPES), np.float32)),
            "urgent": LinearHead(("0", "1"), urg, np.zeros(1, np.float32)),
        },
        meta={},
    )


def _classify(model: TextModel, text: str) -> tuple[str, str, bool]:
    rules = load_keywords()
    verdict = Classifier(rules, model, "test").classify(text, rules.scan(text))
    return verdict.category, verdict.subtype, verdict.urgent


def test_the_category_is_the_one_whose_subtypes_together_are_most_likely() -> None:
    # emission 0.3 + solid waste 0.3 beat hazard 0.35: env, and within it the likelier subtype.
    model = _model({"丙": (0.31, 0.29, 0.05, 0.35)}, {"丙": 0.1})
    assert _classify(model, "丙")[:2] == ("env", "emission")


@pytest.mark.parametrize(
    ("p", "urgent"),
    [(URGENT_MODEL_THRESHOLD + 0.05, True), (URGENT_MODEL_THRESHOLD - 0.05, False)],
)
def test_urgency_is_the_models_call_even_without_a_danger_word(p: float, urgent: bool) -> None:
    model = _model({"丁": (0.1, 0.1, 0.1, 0.7)}, {"丁": p})
    rules = load_keywords()
    assert not rules.scan("丁")  # no danger or immediacy word at all
    assert _classify(model, "丁")[2] is urgent
