"""The analysis result: locating, routing, evidence offsets, duplicates, fallback, and held-out quality."""

import json

import pytest

from tests.triage.conftest import DATA
from triage.analysis import Hints, RecentTip, TriageEngine
from triage.analysis.lexicon import segment, word_spans
from triage.classifier.baseline import score_baseline
from triage.classifier.evaluation import evaluate, read_gold
from triage.classifier.training import read_labelled


@pytest.mark.parametrize(
    ("text", "county", "town"),
    [
        ("叶潭镇大桥底下有车往河里倒东西", "441625", "叶潭镇"),
        ("连平县上坪镇有个厂晚上炼钢", "441623", "上坪镇"),
        ("龙川县上坪镇有个厂晚上炼钢", "441622", "上坪镇"),
        ("上坪镇有个厂晚上炼钢", None, "上坪镇"),
        ("有个厂晚上炼钢", None, ""),
        ("yetan zhen daqiao dixia you che wang he li dao dongxi", "441625", "叶潭镇"),
        ("ye4tan2 zhen4 you3 ge4 chang3 wan3shang4 lian4gang1", "441625", "叶潭镇"),
        ("A cement plant in Puqian dumps kiln dust by the road", "441602", "埔前镇"),
        ("Black smoke every night near Xinjiang Street", "441602", "新江街道"),
        ("Lianping County, Shangping Town: a plant melts scrap at night", "441623", "上坪镇"),
        ("xinjiang de pengyou shuo zhe ge chang wanshang liangang", None, ""),
        ("yi ge chang wanshang lian gang, yi he zhen", "441625", "义合镇"),
    ],
    ids=[
        "town-only",
        "shared-town-lianping",
        "shared-town-longchuan",
        "shared-town-left-open",
        "no-place",
        "pinyin-town",
        "pinyin-tone-digits",
        "english-town",
        "english-street",
        "english-county-and-town",
        "pinyin-common-word-is-no-place",
        "spaced-syllables-need-a-suffix",
    ],
)
def test_locate(rules_engine: TriageEngine, text: str, county: str | None, town: str) -> None:
    result = rules_engine.analyse(text)
    assert (result.county_code, result.town) == (county, town)


def test_firm_county_is_used_when_the_text_has_none(engine: TriageEngine) -> None:
    result = engine.analyse("河源市嘉康钢铁有限责任公司晚上冒黑烟")
    assert result.enterprise is not None
    assert result.county_code == result.enterprise.county_code


def test_evidence_offsets_point_into_the_original_text(engine: TriageEngine) -> None:
    text = "🆘連平縣隆街鎮有個沒掛牌的廠，晚上用中頻爐煉鋼"
    result = engine.analyse(text)
    assert result.category == "tech"
    assert result.evidence
    for item in result.evidence:
        assert text[item.start : item.end] != ""
    assert any(text[e.start : e.end] == "中頻爐" for e in result.evidence)


def test_model_evidence_reads_as_whole_words(engine: TriageEngine) -> None:
    """No keyword in the tip: the model's n-grams are widened to the segmented words they fall in."""
    result = engine.analyse("那个地方又开始干活了，轰隆隆的，和以前一模一样")
    body = result.normalised_text
    bounds = {0}
    for word in segment(engine.tokenizer, body):
        bounds.add(max(bounds) + len(word))
    model_cues = [e for e in result.evidence if e.for_ in ("category", "subtype")]
    assert model_cues
    for cue in model_cues:
        start = body.find(cue.text)
        assert cue.text.isalnum() and len(cue.text) >= 2
        assert start in bounds and start + len(cue.text) in bounds, cue.text


@pytest.mark.parametrize(
    ("text", "segmented"),
    [
        ("龙川县老隆镇有个没挂牌的厂半夜用中频炉炼钢，收废钢出钢坯", False),
        ("那个地方又开始干活了，轰隆隆的，和以前一模一样", True),
    ],
    ids=["keyword-evidence", "model-evidence"],
)
def test_a_tip_is_segmented_only_for_model_evidence(engine: TriageEngine, text: str, segmented: bool) -> None:
    body = engine.analyse(text).normalised_text
    calls: list[str] = []

    def words() -> list[tuple[int, int]]:
        calls.append(body)
        return word_spans(segment(engine.tokenizer, body))

    verdict = engine.classifier.classify(body, engine.keywords.scan(body), words)
    assert bool(calls) == segmented
    assert any(c.for_ in ("category", "subtype") for c in verdict.cues)


def test_routing_follows_category_and_county(engine: TriageEngine) -> None:
    result = engine.analyse("龙川县老隆镇有个没挂牌的厂半夜用中频炉炼钢，收废钢出钢坯")
    assert (result.category, result.lead_department) == ("tech", "miit")
    assert "gov-441622" in result.co_handlers


def test_duplicates_by_enterprise_and_by_text(engine: TriageEngine) -> None:
    firm = engine.analyse("河源市嘉康钢铁有限责任公司晚上冒黑烟").enterprise
    assert firm is not None
    recent = [
        RecentTip("t1", "嘉康钢铁那边粉尘很大", firm.uscc),
        RecentTip("t2", "叶潭镇大桥底下有辆槽罐车在往河里放东西，颜色发红！", None),
        RecentTip("t3", "小区广场舞太吵", None),
    ]
    first = engine.analyse("河源市嘉康钢铁有限责任公司晚上冒黑烟", Hints(recent=recent))
    assert [(d.id, d.reason) for d in first.duplicates] == [("t1", "same_enterprise")]
    second = engine.analyse("叶潭镇大桥底下有辆槽罐车在往河里放东西，颜色发红", Hints(recent=recent))
    assert [(d.id, d.reason) for d in second.duplicates] == [("t2", "similar_text")]


def test_without_a_model_the_rules_decide_and_say_so(rules_engine: TriageEngine) -> None:
    result = rules_engine.analyse("厂里的储罐正在泄漏，有工人晕倒了，快来人")
    assert result.model == "rules-fallback"
    assert (result.category, result.subtype, result.urgent) == ("safety", "hazchem", True)


def test_to_dict_is_json_and_stable(engine: TriageEngine) -> None:
    data = engine.analyse("仙塘星宇龙陶瓷厂把次品当正品卖").to_dict()
    assert json.loads(json.dumps(data, ensure_ascii=False)) == data
    assert list(data) == [
        "category", "subtype", "urgent", "confidence", "model", "evidence", "county_code", "town", "enterprise",
        "enterprise_candidates", "suspected_restart", "priority", "duplicates", "lead_department", "co_handlers",
        "normalised_text",
    ]  # fmt: skip


# Floors sit just under the figures measured once the model was fixed (triage/data/README.md).
HELD_OUT = {
    # the split of ../shared/data/tips_dev.jsonl never used for training or choices
    "tips_heldout.jsonl": {"category": 0.965, "subtype": 0.98, "department": 0.965, "urgency": 0.88,
                           "county": 0.99, "enterprise": 0.95},
    # 200 tips written from the taxonomy and the register only, never trained on
    "tips_heldout_written.jsonl": {"category": 0.99, "subtype": 0.99, "department": 0.99, "urgency": 0.99,
                                   "county": 0.98, "enterprise": 0.95},
    # 300 more, by another author, from the taxonomy, domain.md and the register only (round 7)
    "tips_heldout_written_2.jsonl": {"category": 0.98, "subtype": 0.975, "department": 0.98, "urgency": 0.98,
                                     "county": 0.98, "enterprise": 0.98},
    # 300 more, written before round 13 and first scored on round 13's model
    "tips_heldout_written_3.jsonl": {"category": 0.98, "subtype": 0.98, "department": 0.985, "urgency": 0.99,
                                     "county": 0.99, "enterprise": 0.98},
    # 300 more, written before round 14 and first scored on round 14's models
    "tips_heldout_written_4.jsonl": {"category": 0.985, "subtype": 0.98, "department": 0.985, "urgency": 0.98,
                                     "county": 0.99, "enterprise": 0.99},
    # 300 more, written before round 15 and first scored on round 14's and round 15's models
    "tips_heldout_written_5.jsonl": {"category": 0.98, "subtype": 0.975, "department": 0.985, "urgency": 0.94,
                                     "county": 0.98, "enterprise": 0.95},
    # 300 more, written at the start of round 16 and first scored on round 15's model
    "tips_heldout_written_6.jsonl": {"category": 0.99, "subtype": 0.99, "department": 0.99, "urgency": 0.98,
                                     "county": 0.99, "enterprise": 0.96},
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(HELD_OUT))
def test_held_out_quality(engine: TriageEngine, name: str) -> None:
    floor = HELD_OUT[name]
    report = evaluate(engine, read_gold(DATA / name))
    assert report.model != "rules-fallback"
    assert report.category_macro_f1 >= floor["category"]
    assert report.subtype_macro_f1 >= floor["subtype"]
    assert report.department_accuracy >= floor["department"]
    assert report.urgency_f1 >= floor["urgency"]
    assert report.county_accuracy >= floor["county"]
    assert report.enterprise_right >= floor["enterprise"]
    assert report.enterprise_wrongly_matched <= 0.01


def test_the_engine_beats_the_plain_baseline_on_held_out_tips(engine: TriageEngine) -> None:
    """TF-IDF char n-grams + LinearSVC trained on tips_train, scored on the same held-out tips, same run."""
    rows = read_gold(DATA / "tips_heldout.jsonl")
    ours = evaluate(engine, rows)
    plain = score_baseline(read_labelled(DATA / "tips_train.jsonl"), rows)
    assert ours.category_macro_f1 > plain.category_macro_f1
    assert ours.subtype_macro_f1 > plain.subtype_macro_f1
    assert ours.department_accuracy > plain.department_accuracy
    assert ours.urgency_f1 > plain.urgency_f1
