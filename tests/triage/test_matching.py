"""Enterprise matching: abbreviations, typos, homophones, shared trade names, and saying "no match"."""

import pytest
from sqlalchemy.orm import Session

from models import Enterprise
from triage.analysis import TriageEngine, load_register
from triage.analysis.names import load_vocabulary, parse_name
from triage.analysis.pinyin import readings


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
        ("Xinkang Steel in Changtang is smoking every night", "河源新康钢铁有限公司"),
        ("xinkang gangtie wanshang mao heiyan", "河源新康钢铁有限公司"),
        ("xin1kang1 gang1tie3 wan3shang4 mao4 hei1yan1", "河源新康钢铁有限公司"),
        ("河源xinkang钢铁晚上冒黑烟", "河源新康钢铁有限公司"),
        ("Hongda Textile Co. Ltd in Haoyi dumps dye water into the river", "紫金县宏达纺织有限公司"),
        ("taishun hunningtu zai xinjiang jiedao luan dao feizha", "河源市泰顺混凝土有限责任公司"),
        ("长塘镇那个钢铁厂（新康）晚上冒黑烟", "河源新康钢铁有限公司"),
        ("和平长塘有个钢厂，厂牌上写的新康，晚上冒黑烟", "河源新康钢铁有限公司"),
        ("Guangtong Iron & Steel at Xingang town uses far too much power", "东源县广通钢铁有限公司"),
    ],
    ids=["full-name", "dropped-prefix", "typo-homophone", "homophone-heteronym", "shared-trade-by-town",
         "citizen-industry-word", "bracketed-division", "english", "pinyin", "pinyin-tone-digits",
         "pinyin-trade-chinese-industry", "english-shared-trade-by-town", "pinyin-shared-trade-by-street",
         "trade-in-brackets-after", "trade-said-after", "english-iron-and-steel"],
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
        "The steel plant near the river smokes every night",
        "wo men cun de gangchang wanshang mao heiyan",
        "wo jia fu jin de gangchang mei tian wan shang pai hei yan",
    ],
    ids=[
        "no-firm",
        "generic-steel-works",
        "generic-shop",
        "generic-cement",
        "english-generic",
        "pinyin-generic",
        "pinyin-words-apart-before-industry",
    ],
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


def _pinyin(word: str) -> str:
    return "".join(readings(ch)[0] for ch in word)


def _english_town(town: str) -> str:
    for suffix, english in (("街道", "Street"), ("镇", "Town"), ("乡", "Township")):
        if town.endswith(suffix):
            return f"{_pinyin(town[: -len(suffix)]).title()} {english}"
    return _pinyin(town).title()


# One tip about a steel firm, written in characters, in pinyin and in English; town "" for none.
WRITINGS = {
    "characters": lambda trade, town: f"{town}{trade}钢厂晚上偷偷炼钢",
    "pinyin": lambda trade, town: f"{_pinyin(town)} {_pinyin(trade)} gangchang wanshang toutou liangang",
    "english": lambda trade, town: (
        f"{_pinyin(trade).title()} Steel {'in ' + _english_town(town) if town else ''} melts scrap at night"
    ),
}


@pytest.mark.parametrize("writing", WRITINGS)
def test_shared_trade_name_without_context_is_no_match(engine: TriageEngine, writing: str) -> None:
    shared = _shared_steel_trades(engine)
    assert len(shared) >= 5
    for trade, _ in shared[:5]:
        assert engine.analyse(WRITINGS[writing](trade, "")).enterprise is None


@pytest.mark.parametrize("writing", WRITINGS)
def test_shared_trade_name_is_settled_by_town(engine: TriageEngine, writing: str) -> None:
    for trade, rows in _shared_steel_trades(engine)[:5]:
        for i in rows:
            row = engine.index.rows[i]
            result = engine.analyse(WRITINGS[writing](trade, row.town))
            assert result.enterprise is not None and result.enterprise.uscc == row.uscc, WRITINGS[writing](
                trade, row.town
            )


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


def _firms_by_boss(engine: TriageEngine) -> tuple[list[int], list[tuple[int, int]]]:
    """Steel firms that are the only one of their town with their boss's surname, and pairs of firms of
    one town whose bosses share a surname."""
    unique, shared = [], []
    for (_town, industry), bosses in engine.index.bosses.items():
        if industry != "钢铁":
            continue
        rows = bosses.rows
        by_surname: dict[str, list[int]] = {}
        for i in rows:
            by_surname.setdefault(engine.index.rows[i].legal_rep[0], []).append(i)
        unique += [firms[0] for firms in by_surname.values() if len(firms) == 1]
        shared += [(firms[0], firms[1]) for firms in by_surname.values() if len(firms) > 1]
    return unique, shared


def test_a_firm_is_found_by_its_boss_town_and_trade(engine: TriageEngine) -> None:
    unique, _ = _firms_by_boss(engine)
    assert len(unique) >= 5
    for i in unique[:5]:
        row = engine.index.rows[i]
        for text in (
            f"{row.town}{row.legal_rep}开的钢铁厂晚上冒黑烟",
            f"{row.town}姓{row.legal_rep[0]}的那个钢铁厂晚上冒黑烟",
        ):
            found = engine.analyse(text).enterprise
            assert found is not None and found.uscc == row.uscc, text


def test_a_surname_two_firms_of_the_town_share_is_no_match(engine: TriageEngine) -> None:
    _, shared = _firms_by_boss(engine)
    assert shared
    for a, b in shared[:5]:
        row, other = engine.index.rows[a], engine.index.rows[b]
        assert engine.analyse(f"{row.town}{row.legal_rep[0]}老板的钢铁厂晚上冒黑烟").enterprise is None
        if row.legal_rep != other.legal_rep:  # the full name tells them apart
            found = engine.analyse(f"{row.town}{row.legal_rep}开的钢铁厂晚上冒黑烟").enterprise
            assert found is not None and found.uscc == row.uscc


def test_bosses_are_read_from_the_database_register(db: Session) -> None:
    """The register rows the engine loads carry the legal representative (on SQLite and PostgreSQL): without
    it a firm named by its boss is never found."""
    db.add_all(
        [
            Enterprise(uscc="91441625MA4W000001", name="东源县宏达钢铁有限公司", county_code="441625",
                       county="东源县", town="仙塘镇", legal_rep="何超"),
            Enterprise(uscc="91441625MA4W000002", name="东源县广通钢铁有限公司", county_code="441625",
                       county="东源县", town="仙塘镇", legal_rep="唐秀"),
        ]
    )  # fmt: skip
    db.commit()
    engine = TriageEngine(load_register(db), None)

    found = engine.analyse("仙塘镇唐秀开的钢铁厂晚上偷偷炼钢").enterprise
    assert found is not None and found.uscc == "91441625MA4W000002"
