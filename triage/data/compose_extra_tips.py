"""Compose tips_extra.jsonl: training tips in citizens' words, built from symptom phrases per subtype.

Run `python -m triage.data.compose_extra_tips` to rewrite the file (deterministic, seeded). The phrases are
written from domain.md §3.2–3.3 and ordinary citizen language, not from the held-out tips.
"""

import csv
import json
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
REGISTER = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "enterprises.csv"  # ../shared
PER_SUBTYPE = 45

SYMPTOMS: dict[str, list[str]] = {
    "env/emission": [
        "烟囱天天冒黑烟，晾的衣服都是黑点",
        "晚上偷偷排放浓烟，一股烧塑料的味道",
        "厂里的废水从暗管直接排到河里，河水都变黑了",
        "排出来的水有一股酸臭味，沟里的鱼全死了",
        "粉尘很大，周边的菜叶子上全是灰",
        "半夜排废气，刺鼻得睡不着觉",
        "车间的烟不经过处理直接从天窗冒出去",
        "排污口流出来的水是红色的，还冒泡",
        "除尘设备从来不开，整个村子灰蒙蒙的",
        "一到下雨天就把污水往排洪沟里放",
        "臭味很重，老人小孩都咳嗽",
        "白天不排晚上排，烟是黄色的，呛得人眼睛疼",
    ],
    "env/solid_waste": [
        "把炉渣拉到山沟里倒，堆得像小山",
        "半夜用货车往荒地里倒废渣",
        "废料直接倒在河边，下雨全冲进河里",
        "钢渣和废砂到处乱堆，也不盖",
        "把一桶桶的废机油埋在厂后面的地里",
        "拉了好几车粉煤灰倒在村口的鱼塘边",
        "收来的废电瓶露天堆放，酸水流到田里",
        "窑灰和废耐火砖乱倒在路边",
        "危险废物没有台账，随便卖给收破烂的",
        "用泥头车把工业垃圾倒进水库边的山坳",
    ],
    "env/no_permit": [
        "没有办排污许可证就开始生产了",
        "厂开了一年多，环评都没做",
        "没有任何环保手续，废水直接排",
        "新上的生产线没有环保审批，先建了再说",
        "问他们要排污许可，老板说还在办，其实一直在排",
        "环保设施一样没有，就开工了",
        "未批先建，厂房盖好就投产了",
    ],
    "env/monitoring_fraud": [
        "在线监测设备经常断电，检查的时候才开",
        "监测探头被布包起来了，数据一直很好看",
        "往采样管里掺空气，数据造假",
        "治污设施平时不开，只有来检查才开",
        "在线数据一直达标，可烟明显很大",
        "篡改在线监控的参数，上传的数据是假的",
        "监测站的电脑被他们的人动过，数据是改出来的",
        "脱硫塔根本没运行，监测数据却显示正常",
    ],
    "energy/energy_overuse": [
        "用电量大得吓人，单位产品电耗肯定超过限额",
        "老式窑炉一天烧几十吨煤，能耗高得离谱",
        "设备都是几十年前的，耗电特别大，能耗不达标",
        "吨产品煤耗比别的厂高一倍，应该查一下能耗",
        "属于高耗能企业，一直没做节能改造",
        "电炉没订单也开着保温，浪费大量电",
        "做了两套能耗台账应付检查，实际能耗超标",
        "燃煤锅炉老掉牙了，烧煤量很大",
    ],
    "energy/price_evasion": [
        "从高压线上私拉电线生产，逃避电费",
        "把电表倍率改了，交的电费少得可怜",
        "用别人的户头用电，躲阶梯电价",
        "挂了黄牌要交惩罚性电价，结果晚上用发电机生产",
        "把用电类别报成普通工业，逃避差别电价",
        "另外开了一个户号把负荷转过去，电价按普通的算",
        "晚上偷接隔壁的电，白天电表不走",
    ],
    "tech/ditiaogang": [
        "收一车车废钢进去，出来的是钢坯",
        "晚上十一点开炉，嗡嗡响到天亮",
        "用中频炉化废铁，浇成钢锭卖",
        "厂里有几台小炉子，熔了废钢直接轧成钢筋，没有厂标",
        "没挂牌子，半夜炼钢，窗户透出红光",
        "拉进去的都是旧钢筋头、废铁，出来的是方坯",
        "工频炉炼钢，钢筋一折就断",
        "打着铸造的幌子，其实在炼地条钢",
        "铁皮棚里装了感应炉，电线从高压那边单独拉过来",
        "炼出来的钢材没有质量证明书，价格特别便宜",
    ],
    "tech/outdated_equipment": [
        "还在用立窑烧水泥熟料",
        "烧砖用的还是土窑，早就该淘汰了",
        "小高炉还在炼铁，容积很小",
        "玻璃厂还在用平拉法生产",
        "用冲天炉化铁水再倒进小转炉炼钢",
        "水泥磨直径不到3米，按规定该拆了",
        "湿法窑还在转，这种工艺不是淘汰了吗",
        "设备是国家明令淘汰的落后设备，一直没拆",
        "倒焰窑还在烧，属于淘汰类",
    ],
    "tech/restart": [
        "去年已经关停了，最近晚上又开工了",
        "挂了红牌关了，现在偷偷恢复生产",
        "注销好几年了，厂房又亮灯冒烟",
        "说是拆除了设备，其实是假拆除，现在又复产",
        "被取缔以后换了个名字重新开工",
        "关了又开，白天关门晚上生产",
        "停产整治期间偷偷复工，机器又响了",
        "设备搬到隔壁村又开起来了",
    ],
    "quality/unlicensed": [
        "没有生产许可证在生产电线电缆",
        "无证生产防水卷材，卖给装修队",
        "没有营业执照也没有许可证，一直在生产",
        "钢筋上的许可证号是冒用别人的",
        "生产许可证早就过期了，还在生产",
        "在自家院子里无证生产化肥",
        "偷偷磨水泥卖，没有水泥生产许可证",
    ],
    "quality/substandard": [
        "卖的钢管壁厚不够，标的2.75实际2.2",
        "生产的瓷砖铺了半年就开裂",
        "钢筋一折就断，质量不合格",
        "把次品重新打包当正品卖",
        "假冒别人的牌子卖水泥",
        "玻璃说是钢化的，装上没多久自己爆了",
        "空心砖强度不够，墙都裂了",
        "螺纹钢重量偏差超标，抽检肯定不合格",
        "产品以次充好，没有合格证",
    ],
    "safety/hazard": [
        "车间安全隐患很多，消防通道堆满杂物",
        "工人没有任何防护就在铁水边干活",
        "起重机没年检，吊钩都变形了",
        "电线私拉乱接，配电箱都是敞开的",
        "特种作业人员无证上岗，也没做安全培训",
        "冲床的防护装置拆了，工人手被压伤",
        "煤气管道老化漏气，车间里味道很重",
        "有工人被烫伤了，企业瞒着不上报",
        "熔炼炉旁边积水，随时可能铁水爆炸",
        "厂房是危房，墙都裂开了还在生产",
    ],
    "safety/hazchem": [
        "危化品随便堆在铁皮房里，旁边就是民房",
        "液氨管道老化，经常闻到氨水味",
        "用普通货车拉液氯钢瓶，没有任何标志",
        "储罐区的硫酸罐锈得厉害，一直滴漏",
        "私自收购转卖化工原料，天那水酒精都有",
        "危险化学品没有登记，晚上偷偷往外卖",
        "气瓶乱放，氧气瓶和乙炔瓶放在一起",
    ],
}
URGENT_SYMPTOMS: dict[str, list[str]] = {
    "env/emission": [
        "现在正在往河里排绿色的废水，岸边全是死鱼，下游就是取水口",
        "此刻浓烟把整个村罩住了，有老人喘不上气送医院了",
    ],
    "env/solid_waste": [
        "现在有辆槽罐车正在往河里倒东西，河水都变红了，快来人",
        "刚刚几台泥头车正在往河道倒废渣，水都堵住了",
    ],
    "safety/hazard": [
        "煤气泄漏，已经有工人晕倒了，还在生产，快派人",
        "车间起火了，火很大，里面还有人",
        "铁水包翻了，有两个工人被烫伤送医院",
    ],
    "safety/hazchem": [
        "储罐正在泄漏，冒大量白烟，附近村民眼睛刺痛，请立即派人疏散",
        "硫酸罐破了流了一地，有工人腿被烧伤",
    ],
}
OTHER = [
    "拖欠我们三个月工资，老板一直躲着不见人",
    "公司不给我们交社保，请问该找哪个部门",
    "楼上装修天天砸墙，周末也不停",
    "小区门口的路灯坏了一个月了",
    "广场舞音响太大，每天跳到十点",
    "网上买的东西是假货，商家不给退款",
    "建议增开一条公交线路",
    "路上有个大坑，摩托车在那里摔了",
    "咨询一下养老保险怎么办理",
    "房东不退押金",
    "高价回收废铁废铜，上门收购，电话联系",
    "代开发票，点数低，加微信",
    "手机信号太差，希望建个基站",
    "表扬一下工作人员，上次的事情处理得很及时",
    "招工说包吃住，进去后扣押身份证",
    "孩子上学的事情想咨询一下",
    "邻居养的狗半夜一直叫",
    "物业费乱收，业主意见很大",
    "工地的泥头车把路压坏了，希望修一下",
    "试用期延长到六个月合理吗",
]
OPENINGS = [
    "",
    "",
    "来电人反映：",
    "举报：",
    "市民来电称：",
    "我是附近村民，",
    "反映一个情况，",
    "诉求人来电反映：",
]
CLOSINGS = [
    "",
    "",
    "请有关部门查处。",
    "希望尽快来看看！",
    "没人管吗？？",
    "麻烦核实一下。",
    "已经拍了照片。",
    " 求求你们管一管",
]
URGENT_OPEN = ["紧急！", "现在！！", "快来人！", "来电人紧急反映："]
INDUSTRY_SUBJECT = [
    "钢铁厂",
    "铸造厂",
    "水泥厂",
    "建材厂",
    "五金厂",
    "轧钢厂",
    "化工厂",
    "陶瓷厂",
    "电镀厂",
    "玻璃厂",
]


def _load_firms() -> list[dict[str, str]]:
    with REGISTER.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _subject(rng: random.Random, firms: list[dict[str, str]]) -> tuple[str, dict[str, str] | None]:
    """Who the tip is about: an unnamed place most of the time, a firm from the register sometimes."""
    firm = rng.choice(firms)
    town = firm["town"]
    roll = rng.random()
    if roll < 0.35:
        return f"{town}有一家{rng.choice(INDUSTRY_SUBJECT)}", None
    if roll < 0.5:
        return f"{firm['county']}{town}一个没挂牌的厂", None
    if roll < 0.6:
        return rng.choice(["我们村附近有个厂", "有个小厂", "那家工厂", "村里有家作坊"]), None
    return f"{town}的{firm['name']}", firm


def compose(seed: int = 20240601) -> list[dict[str, object]]:
    rng = random.Random(seed)
    firms = _load_firms()
    tips: list[dict[str, object]] = []
    for label, phrases in SYMPTOMS.items():
        category, subtype = label.split("/")
        for _ in range(PER_SUBTYPE):
            urgent = label in URGENT_SYMPTOMS and rng.random() < 0.25
            phrase = rng.choice(URGENT_SYMPTOMS[label] if urgent else phrases)
            subject, firm = _subject(rng, firms)
            opening = rng.choice(URGENT_OPEN if urgent else OPENINGS)
            text = f"{opening}{subject}{phrase}，{rng.choice(CLOSINGS)}".rstrip("，")
            tips.append(_tip(len(tips), text, category, subtype, urgent, firm))
    for _ in range(PER_SUBTYPE * 2):
        subject, firm = _subject(rng, firms) if rng.random() < 0.4 else ("", None)
        text = f"{rng.choice(OPENINGS)}{subject}{rng.choice(OTHER)}{rng.choice(CLOSINGS)}"
        tips.append(_tip(len(tips), text, "other", "other", False, firm))
    return tips


def _tip(
    n: int, text: str, category: str, subtype: str, urgent: bool, firm: dict[str, str] | None
) -> dict[str, object]:
    return {
        "id": f"x{n:04d}",
        "channel": "composed",
        "text": text,
        "gold": {
            "category": category,
            "subtype": subtype,
            "urgent": urgent,
            "county": firm["county_code"] if firm else None,
            "enterprise_uscc": firm["uscc"] if firm else None,
        },
    }


if __name__ == "__main__":
    out = HERE / "tips_extra.jsonl"
    out.write_text("".join(json.dumps(t, ensure_ascii=False) + "\n" for t in compose()), encoding="utf-8")
    print(f"wrote {out}")
