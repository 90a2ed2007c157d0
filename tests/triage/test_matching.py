"""Enterprise matching: abbreviations, typos, homophones, shared trade names, and saying "no match"."""

import pytest

from triage.analysis import TriageEngine
from triage.analysis.names import load_vocabulary, parse_name


def uscc_of(engine: TriageEngine, name: str) -> str:
    return next(r.uscc for r in engine.index.rows if r.name == name)


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("龙川县凤润电镀股份有限公司往河里排水", "龙川县凤润电镀股份有限公司"),
        ("仙塘星宇龙陶瓷厂把次品当正品卖", "河源市星宇龙陶瓷加工厂"),
        ("瓦溪镇健联铸造厂往河里倒炉渣", "紫金县瓦溪镇建联铸造加工厂"),
        ("东源县柳城镇的圣翔钢铁逃避阶梯电价", "东源县晟翔钢铁有限公司"),
        ("中坝镇宏达电子厂拖欠工资", "河源宏达电子有限公司"),
        ("高埔岗那个新源废品回收站电瓶乱堆", "源城区高埔岗街道新源再生资源经营部"),
        ("凤峰(河源)化工有限责任公司的罐车往河里倒东西", "凤峰（河源）化工有限责任公司"),
    ],
    ids=["full-name", "dropped-prefix", "typo-homophone", "homophone-heteronym", "shared-trade-by-town",
         "citizen-industry-word", "bracketed-division"],
)  # fmt: skip
def test_named_firm_is_found(engine: TriageEngine, text: str, name: str) -> None:
    result = engine.analyse(text)
    assert result.enterprise is not None, result.enterprise_candidates
    assert result.enterprise.uscc == uscc_of(engine, name)


@pytest.mark.parametrize(
    "text",
    [
        "我家楼下的几棵大榕树太高了，请园林部门来修剪一下",
        "有个朋友在一个地下炼钢厂打工，用的是中频炉",
        "黄田镇一家玻璃店卖的钢化玻璃厚度不够",
        "四都镇有一家水泥粉磨站，用电量巨大",
    ],
    ids=["no-firm", "generic-steel-works", "generic-shop", "generic-cement"],
)
def test_no_match_when_nothing_is_close_enough(engine: TriageEngine, text: str) -> None:
    assert engine.analyse(text).enterprise is None


def _shared_steel_trades(engine: TriageEngine) -> list[tuple[str, list[int]]]:
    """Trade names held by several 钢铁 firms in different towns."""
    out = []
    for trade, rows in engine.index.by_trade.items():
        steel = [i for i in rows if engine.index.industry[i] == "钢铁"]
        if len({engine.index.rows[i].town for i in steel}) == len(steel) > 1:
            out.append((trade, steel))
    return out


def test_shared_trade_name_without_context_is_no_match(engine: TriageEngine) -> None:
    shared = _shared_steel_trades(engine)
    assert len(shared) >= 5
    for trade, _ in shared[:5]:
        assert engine.analyse(f"{trade}钢厂晚上偷偷炼钢").enterprise is None


def test_shared_trade_name_is_settled_by_town(engine: TriageEngine) -> None:
    for trade, rows in _shared_steel_trades(engine)[:5]:
        for i in rows:
            row = engine.index.rows[i]
            result = engine.analyse(f"{row.town}{trade}钢厂晚上偷偷炼钢")
            assert result.enterprise is not None and result.enterprise.uscc == row.uscc


def test_red_card_firm_is_a_suspected_restart_with_higher_priority(engine: TriageEngine) -> None:
    red = next(r for r in engine.index.rows if r.exit_list == "红牌" and "钢铁" in r.name)
    plain = next(r for r in engine.index.rows if r.exit_list == "" and "钢铁" in r.name)
    red_result = engine.analyse(f"{red.name}晚上又在生产，烟很大")
    plain_result = engine.analyse(f"{plain.name}晚上又在生产，烟很大")
    assert red_result.suspected_restart and not plain_result.suspected_restart
    assert red_result.priority > plain_result.priority


@pytest.mark.parametrize(
    ("name", "parts"),
    [
        ("河源市东源县仙塘镇宏达钢铁有限公司", ("河源市东源县仙塘镇", "宏达", "钢铁", "有限公司")),
        ("广东宏达钢铁有限公司", ("广东", "宏达", "钢铁", "有限公司")),
        ("凤峰（河源）化工有限责任公司", ("河源", "凤峰", "化工", "有限责任公司")),
        ("仙塘镇宏达厂", ("仙塘镇", "宏达", "", "厂")),
        # The longest place would leave too little of the name; a shorter one that leaves enough is taken.
        ("东源县钢厂", ("东源", "县钢", "", "厂")),
    ],
)
def test_a_registered_name_is_split_into_its_parts(name: str, parts: tuple[str, str, str, str]) -> None:
    got = parse_name(name, load_vocabulary(), ("仙塘镇", "东源县", "仙塘", "东源"))
    assert (got.division, got.trade, got.industry, got.form) == parts
