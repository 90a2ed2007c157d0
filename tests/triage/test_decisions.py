"""How the classifier turns the model's probabilities into a verdict, on a model whose probabilities are set
by hand: the category from summed subtype probabilities, the naive Bayes head's vote on the category (not
on the subtype within it), the other-vs-capacity head's share of P(other), and urgency from the model alone,
whatever words the tip uses."""

import math

import numpy as np
import pytest

from triage.analysis.classify import (
    NAIVE_BAYES_HEAD,
    NAIVE_BAYES_WEIGHT,
    OTHER_HEAD,
    OTHER_HEAD_WEIGHT,
    URGENT_MODEL_THRESHOLD,
    Classifier,
)
from triage.analysis.engine import usable_model
from triage.analysis.features import FEATURE_VERSION
from triage.analysis.keywords import load_keywords
from triage.analysis.linear import LinearHead, TextModel
from triage.routing import catalogue

SUBTYPES = ("env/emission", "env/solid_waste", "other/other", "safety/hazard")


def _model(subtype_p: dict[str, tuple[float, ...]], urgent_p: dict[str, float]) -> TextModel:
    """A model whose only features are the keys: a tip that contains one key and no other feature gets
    exactly subtype_p[key] and urgent_p[key]."""
    chars = sorted(subtype_p)
    # A text with one feature has it at weight 1 after L2 normalisation: its row is the logits.
    # Softmax ignores a shift; +5 makes the likelier classes' weights positive, as evidence needs.
    sub = np.array([[math.log(p) + 5 for p in subtype_p[ch]] for ch in chars], np.float32)
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


def _with_naive_bayes(model: TextModel, nb_p: dict[str, tuple[float, ...]]) -> TextModel:
    """`model` plus a naive Bayes head that gives a tip made of one key exactly nb_p[key]."""
    chars = sorted(nb_p)
    assert chars == sorted(model.vocabulary)
    # The head reads counts: one occurrence of the key gives its row as the log-likelihoods.
    coef = np.array([[math.log(p) for p in nb_p[ch]] for ch in chars], np.float32)
    head = LinearHead(SUBTYPES, coef, np.zeros(len(SUBTYPES), np.float32), reads="counts")
    return TextModel(model.vocabulary, model.idf, {**model.heads, NAIVE_BAYES_HEAD: head}, model.meta)


def _with_other_head(model: TextModel, other_p: dict[str, float]) -> TextModel:
    """`model` plus a yes/no other-vs-capacity head that gives a tip made of one key P(other) = other_p[key]."""
    chars = sorted(other_p)
    assert chars == sorted(model.vocabulary)
    coef = np.array([[math.log(other_p[ch] / (1 - other_p[ch]))] for ch in chars], np.float32)
    head = LinearHead(("0", "1"), coef, np.zeros(1, np.float32))
    return TextModel(model.vocabulary, model.idf, {**model.heads, OTHER_HEAD: head}, model.meta)


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


def test_urgency_the_model_decides_alone_is_backed_by_its_own_evidence() -> None:
    # "丁戊" is the model's only feature of these tips: it points to hazard and, for one of them, urgency.
    urgent = _model({"丁戊": (0.1, 0.1, 0.1, 0.7)}, {"丁戊": URGENT_MODEL_THRESHOLD + 0.2})
    calm = _model({"丁戊": (0.1, 0.1, 0.1, 0.7)}, {"丁戊": URGENT_MODEL_THRESHOLD - 0.2})
    rules = load_keywords()
    text = "丁戊。"

    loud = Classifier(rules, urgent, "test").classify(text, rules.scan(text))
    quiet = Classifier(rules, calm, "test").classify(text, rules.scan(text))

    assert loud.urgent and [(c.text, c.start, c.end, c.for_) for c in loud.cues if c.for_ == "urgent"] == [
        ("丁戊", 0, 2, "urgent")
    ]
    assert not quiet.urgent and not [c for c in quiet.cues if c.for_ == "urgent"]
    assert [c.for_ for c in quiet.cues] == ["subtype"]  # the subtype is still explained


def test_the_naive_bayes_head_decides_between_close_logistic_regression_classes() -> None:
    # Logistic regression leans to emission by 0.02; naive Bayes is sure of hazard.
    lr = _model({"乙": (0.36, 0.06, 0.24, 0.34)}, {"乙": 0.1})
    both = _with_naive_bayes(lr, {"乙": (0.001, 0.001, 0.001, 0.997)})

    assert _classify(lr, "乙")[:2] == ("env", "emission")
    assert _classify(both, "乙")[:2] == ("safety", "hazard")


def test_the_naive_bayes_head_is_a_vote_not_a_veto() -> None:
    # A clear logistic-regression verdict stands against a sure naive Bayes head: 0.85 x 0.7 > 0.15 + 0.85 x 0.1.
    assert (1 - NAIVE_BAYES_WEIGHT) * 0.7 > NAIVE_BAYES_WEIGHT + (1 - NAIVE_BAYES_WEIGHT) * 0.1
    lr = _model({"乙": (0.7, 0.1, 0.1, 0.1)}, {"乙": 0.1})
    both = _with_naive_bayes(lr, {"乙": (0.001, 0.001, 0.001, 0.997)})

    assert _classify(both, "乙")[:2] == ("env", "emission")


def test_the_naive_bayes_head_votes_on_the_category_not_on_the_subtype_within_it() -> None:
    # LR: safety 0.5 against env 0.4 (emission 0.25, solid waste 0.15). Naive Bayes is sure of solid waste:
    # env 0.85 x 0.4 + 0.15 x 0.98 = 0.487 beats safety 0.85 x 0.5 + 0.0015 = 0.427, so the category is env;
    # within it logistic regression's emission stands (mixed in, solid waste would have won 0.273 to 0.214).
    assert NAIVE_BAYES_WEIGHT == 0.15  # the figures above
    lr = _model({"甲": (0.25, 0.15, 0.1, 0.5)}, {"甲": 0.1})
    both = _with_naive_bayes(lr, {"甲": (0.01, 0.97, 0.01, 0.01)})

    assert _classify(lr, "甲")[:2] == ("safety", "hazard")
    assert _classify(both, "甲")[:2] == ("env", "emission")


def test_the_other_head_takes_a_narrow_capacity_verdict_to_other() -> None:
    # LR: env 0.55 (emission 0.45) against other 0.4. The yes/no head is sure it is not a report (0.95):
    # P(other) 0.7 x 0.4 + 0.3 x 0.95 = 0.565, env scaled to 0.55 x 0.435 / 0.6 = 0.399.
    assert OTHER_HEAD_WEIGHT == 0.3  # the figures above
    lr = _model({"己": (0.45, 0.1, 0.4, 0.05)}, {"己": 0.1})
    both = _with_other_head(lr, {"己": 0.95})
    rules = load_keywords()

    assert _classify(lr, "己")[:2] == ("env", "emission")
    verdict = Classifier(rules, both, "test").classify("己", rules.scan("己"))
    assert (verdict.category, verdict.subtype) == ("other", "other")
    assert verdict.confidence == pytest.approx(
        (1 - OTHER_HEAD_WEIGHT) * 0.4 + OTHER_HEAD_WEIGHT * 0.95, abs=1e-4
    )


def test_the_other_head_is_a_share_not_a_veto() -> None:
    # A clear report stands against a head sure of other: 0.7 x 0.05 + 0.3 = 0.33 < 0.9 x 0.67 / 0.95 = 0.63.
    lr = _model({"庚": (0.8, 0.1, 0.05, 0.05)}, {"庚": 0.1})
    both = _with_other_head(lr, {"庚": 0.999})

    assert _classify(both, "庚")[:2] == ("env", "emission")


def test_the_other_head_also_says_when_a_tip_is_a_report() -> None:
    # LR leans to other (0.5 against env 0.45); the head is sure it is a report: other 0.35, env 0.58.
    lr = _model({"辛": (0.45, 0.0001, 0.5, 0.0499)}, {"辛": 0.1})
    both = _with_other_head(lr, {"辛": 0.001})

    assert _classify(lr, "辛")[:2] == ("other", "other")
    assert _classify(both, "辛")[:2] == ("env", "emission")


def test_a_model_whose_other_head_is_not_yes_no_is_not_used() -> None:
    """A head with other classes would be read as P(other) wrongly: the engine falls back to the rules."""
    plain = _with_other_head(_model({"壬": (0.25, 0.25, 0.25, 0.25)}, {"壬": 0.1}), {"壬": 0.5})
    good = TextModel(plain.vocabulary, plain.idf, plain.heads, {"feature_version": FEATURE_VERSION})
    head = good.heads[OTHER_HEAD]
    bad = TextModel(
        good.vocabulary,
        good.idf,
        {**good.heads, OTHER_HEAD: LinearHead(("no", "yes"), head.coef, head.intercept)},
        good.meta,
    )
    cat = catalogue()

    assert usable_model(good, cat) is good
    assert usable_model(bad, cat) is None
