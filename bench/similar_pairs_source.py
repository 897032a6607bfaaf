"""Writes tests/data/similar_pairs.csv, the labelled request pairs of the duplicate suggestions (issue 19).

Each *problem* below is written three times, in the words different requesters use for the same thing
(a netizen's post, a villager at a no-meeting-week visit, an enterprise on the 23rd), and placed in
several villages, roads, enterprises or schools of the county. A pair is

- ``duplicate``: the same problem at the same place in two of its wordings (``group`` equal);
- ``near_miss`` / ``same_place``: another problem at the same place (the hard case for text overlap:
  the place names are shared);
- ``near_miss`` / ``same_problem``: the same problem, worded alike, at another place of the county.

Run once; the CSV is kept in git (``python bench/similar_pairs_source.py`` rewrites it identically:
the choices are seeded).
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "similar_pairs.csv"

VILLAGES = [
    ("江口镇", "红星村"),
    ("高沙镇", "桃花村"),
    ("竹市镇", "柳山村"),
    ("石江镇", "大塘村"),
    ("黄桥镇", "新民村"),
    ("山门镇", "白竹村"),
    ("醪田镇", "清水村"),
    ("洞口镇", "荷叶村"),
]
ROADS = [("洞口镇", "建设路"), ("洞口镇", "人民路"), ("高沙镇", "平溪路"), ("竹市镇", "雪峰大道")]
ENTERPRISES = [
    ("经开区", "宏达电子公司"),
    ("经开区", "金瑞纺织厂"),
    ("高沙镇", "绿源食品公司"),
    ("经开区", "华兴机械厂"),
]
SCHOOLS = [("江口镇", "江口中学"), ("高沙镇", "高沙小学"), ("石江镇", "石江中学"), ("洞口镇", "城西小学")]

# kind → problems; each problem: three (title, content) wordings with {t} township and {p} place.
PROBLEMS: dict[str, list[list[tuple[str, str]]]] = {
    "village": [
        [
            ("{p}自来水经常停水", "{t}{p}最近一个月自来水三天两头停，村民做饭洗衣都成问题，希望水厂尽快检修管网。"),
            ("{p}吃水难", "我们{p}的自来水老是断供，有时候一停就是两三天，老人小孩喝水都困难，请帮忙解决。"),
            ("反映{t}{p}供水不正常", "{p}供水很不稳定，隔几天就没水，估计是水管破了，请派人来查一查。"),
        ],
        [
            ("{p}通组公路坑洼不平", "{t}{p}到三组的通组公路到处是坑，下雨天积水，摩托车经常摔倒，希望硬化修补。"),
            ("{p}村道烂得没法走", "{p}那条进组的路坑坑洼洼，一下雨全是泥巴水，骑车的人摔了好几个，请求修一修。"),
            ("关于修补{p}组级道路的建议", "{p}组级道路破损严重，路面塌陷积水，村民出行不安全，建议尽快安排硬化维修。"),
        ],
        [
            ("{p}垃圾没人清运", "{t}{p}垃圾池堆满了一个多星期没人拉走，臭气熏天，苍蝇很多，请环卫部门及时清运。"),
            ("{p}垃圾堆成山", "{p}村口的垃圾堆了好多天都没人收，夏天气味很大，影响大家生活，希望安排车来运走。"),
            ("{p}生活垃圾长期未清理", "{p}的生活垃圾收集点长期无人清理，垃圾外溢，蚊蝇滋生，请督促保洁公司按时转运。"),
        ],
        [
            ("{p}路灯不亮", "{t}{p}主干道的路灯坏了两个多月，晚上一片漆黑，老人走夜路不安全，请尽快维修。"),
            ("{p}晚上黑灯瞎火", "{p}那几盏太阳能路灯早就不亮了，天一黑啥都看不见，请有关部门来修一下。"),
            ("建议维修{p}损坏路灯", "{p}村道路灯大面积损坏无法照明，夜间出行存在安全隐患，建议尽快检修更换。"),
        ],
        [
            ("{p}河道垃圾淤塞", "{t}{p}门前小河里漂满了垃圾和水草，河水发黑发臭，希望组织清淤。"),
            ("{p}小河又脏又臭", "{p}那条小河好久没人管了，里面全是塑料袋和烂菜叶，水都变黑了，请派人清理。"),
            ("关于{p}河道清淤的建议", "{p}河道淤积严重，水体黑臭，影响周边村民生活和灌溉，建议开展河道清淤保洁。"),
        ],
        [
            ("{p}农田灌溉渠垮塌", "{t}{p}的灌溉水渠去年发大水冲垮了一段，到现在没修，今年插秧放不进水。"),
            ("{p}水渠坏了没法放水", "{p}的水渠塌了一大截，田里放不进水，眼看就要误了农时，请水利部门帮忙修复。"),
            ("请求修复{p}灌溉渠道", "{p}灌溉渠道水毁后一直未修复，影响数百亩农田灌溉，请求安排资金维修。"),
        ],
        [
            ("{p}医保缴费太难", "{t}{p}很多老人不会用手机交医保，村里也没人代办，今年好多人没交上。"),
            ("{p}老人交不了医疗保险", "{p}的老年人不会在手机上缴城乡居民医保，到镇上又远，希望能安排上门代缴。"),
            ("关于{p}居民医保代缴的建议", "{p}老年村民普遍不会线上缴纳居民医保，建议在村部设置代缴点或安排人员帮办。"),
        ],
        [
            ("{p}养猪场臭味扰民", "{t}{p}旁边的养猪场粪水直排，臭味很大，周边住户窗户都不敢开。"),
            ("{p}猪场气味太大", "{p}那个养猪场天天往沟里排粪水，整个组都是臭味，晚上睡觉都受影响，请来管一管。"),
            ("举报{p}养殖场污染", "{p}养殖场粪污未经处理直接排放，空气和水体污染严重，请求生态环境部门查处。"),
        ],
        [
            ("{p}信号太差", "{t}{p}手机信号很差，打电话要跑到山坡上，孩子上网课都卡，希望建个基站。"),
            (
                "{p}没有手机信号",
                "{p}在家里手机经常没信号，网络也连不上，和外出打工的家人视频都困难，请帮忙协调运营商。",
            ),
            ("建议在{p}增设通信基站", "{p}移动通信信号覆盖不足，通话和上网困难，建议协调通信运营商增设基站。"),
        ],
        [
            ("{p}危房改造补助没发", "{t}{p}去年评上危房改造的几户，房子都修好了，补助款到现在还没到账。"),
            ("{p}危改款一直拿不到", "{p}我家危房改造早就验收了，补贴一直没发下来，问了几次都说在走流程。"),
            (
                "关于{p}农村危房改造补助资金拨付的诉求",
                "{p}已竣工验收的农村危房改造户补助资金迟迟未拨付到位，请求尽快兑现。",
            ),
        ],
    ],
    "road": [
        [
            ("{p}下水道堵塞污水外溢", "{t}{p}中段下水道堵了，一下雨污水就冒到路面上，行人只能绕着走。"),
            ("{p}一下雨就淹", "{p}那一段排水不畅，每次下雨马路上都是积水，还有臭味，请疏通一下下水道。"),
            ("请疏通{p}排水管网", "{p}排水管网堵塞，雨天路面积水、污水漫溢，影响通行和环境卫生，请尽快疏通。"),
        ],
        [
            ("{p}占道经营严重", "{t}{p}两边摊贩把人行道都占满了，早上买菜的车堵在路中间，行人没地方走。"),
            ("{p}路边摆摊太乱", "{p}每天早上小摊小贩摆到马路上，车过不去人也走不了，请城管来管理一下。"),
            ("关于整治{p}占道经营的建议", "{p}流动摊贩占道经营现象突出，人行道被占用，交通拥堵，建议加强管理。"),
        ],
        [
            ("{p}红绿灯时间太短", "{t}{p}和学校路口的红绿灯，行人绿灯只有十几秒，老人孩子过不去。"),
            ("{p}路口过马路太危险", "{p}那个十字路口绿灯太短了，带小孩过马路走到一半就变红灯，车又多，很危险。"),
            ("建议延长{p}路口行人信号灯时长", "{p}路口行人通行信号时长过短，老人儿童难以安全通过，建议调整信号配时。"),
        ],
        [
            ("{p}夜间施工噪音扰民", "{t}{p}的工地每天晚上十二点还在打桩，噪音吵得附近居民睡不着觉。"),
            ("{p}工地半夜还在施工", "{p}旁边的工地天天夜里施工，机器轰隆隆响到凌晨，家里老人孩子都睡不好。"),
            ("投诉{p}建筑工地夜间违规作业", "{p}在建工地夜间违规施工，噪声严重超标，影响周边居民休息，请予以查处。"),
        ],
        [
            ("{p}停车难", "{t}{p}周边没有停车场，车子只能停在路边，经常被贴罚单，希望规划停车位。"),
            ("{p}车没地方停", "{p}附近根本找不到地方停车，停路边就被罚款，请政府多划一些停车位。"),
            (
                "关于增设{p}公共停车位的建议",
                "{p}周边公共停车设施不足，车辆乱停乱放，建议规划建设停车场或施划停车泊位。",
            ),
        ],
        [
            ("{p}人行道破损", "{t}{p}人行道的地砖松动翘起，下雨踩上去溅一身泥水，还有老人绊倒过。"),
            ("{p}人行道砖头都翘了", "{p}的人行道砖好多都松了，走路一不小心就崴脚，请尽快修好。"),
            ("请维修{p}破损人行道", "{p}人行道铺装破损松动，存在行人绊倒安全隐患，请相关部门安排维修。"),
        ],
    ],
    "enterprise": [
        [
            ("{p}员工通勤不便", "{p}地处园区，没有公交线路，员工上下班只能骑电动车，很多人因此辞职，希望开通公交。"),
            ("{p}工人上下班没车坐", "{p}所在的园区没有公交车，工人每天上下班很不方便，招工也难，请求增开通勤线路。"),
            ("关于为{p}开通园区公交的建议", "{p}员工通勤困难，流失严重，建议开通县城至园区的公交或通勤班车。"),
        ],
        [
            ("{p}用电负荷不够", "{p}新上了两条生产线，现有变压器容量不够，经常跳闸，希望电力部门增容。"),
            ("{p}经常停电影响生产", "{p}车间老是跳闸停电，设备一停产品就报废，想申请增加变压器容量。"),
            ("请求为{p}办理电力增容", "{p}因扩产用电负荷增加，现有供电容量不足导致频繁停电，请求协调供电公司增容。"),
        ],
        [
            ("{p}环评审批太慢", "{p}的扩建项目环评材料交上去三个月了，一直没有批复，耽误了开工。"),
            (
                "{p}扩建项目环评卡住了",
                "{p}扩建的环评报告早就报上去了，到现在还没批下来，设备都到了没法开工，请帮忙催一催。",
            ),
            ("关于加快{p}项目环评审批的诉求", "{p}扩建项目环境影响评价审批进度缓慢，影响项目建设，请求加快办理。"),
        ],
        [
            ("{p}招工难", "{p}订单多了，普工一直招不满，希望人社部门帮忙组织招聘会。"),
            ("{p}缺工人", "{p}现在缺一百多个工人，在网上发了招聘也招不到人，请政府帮忙对接劳务资源。"),
            ("关于解决{p}用工短缺的诉求", "{p}生产一线用工缺口较大，请求人社部门协助开展专场招聘和劳务对接。"),
        ],
        [
            ("{p}贷款难", "{p}想扩大生产，去银行贷款要抵押，厂房是租的抵押不了，希望政府协调银行。"),
            ("{p}融资困难", "{p}缺流动资金，银行说没有抵押物不给贷，请帮忙对接政策性贷款或担保。"),
            ("关于帮助{p}解决融资问题的诉求", "{p}因缺乏有效抵押物融资受阻，请求协调金融机构提供信用贷款或担保支持。"),
        ],
        [
            ("{p}门前道路被大车压坏", "{p}门口的园区道路被重车压得坑坑洼洼，货车进出很困难，希望尽快修复。"),
            ("{p}门口的路没法走车", "{p}大门外那段路全压烂了，送货的车经常陷进去，请园区管委会安排维修。"),
            ("请求维修{p}门前园区道路", "{p}门前园区道路损毁严重，影响物流车辆通行，请求管委会尽快维修。"),
        ],
    ],
    "school": [
        [
            ("{p}门口修建人行天桥", "{t}{p}门口车流量大，学生放学过马路很危险，建议修一座人行天桥。"),
            ("{p}学生过马路不安全", "{p}大门正对着国道，车开得很快，孩子们每天过马路家长都提心吊胆，能不能建个天桥。"),
            (
                "关于在{p}门前建设过街设施的建议",
                "{p}门前道路车流量大，学生横穿马路安全隐患突出，建议建设人行天桥或地下通道。",
            ),
        ],
        [
            ("{p}食堂饭菜质量差", "{t}{p}食堂的饭菜又贵又难吃，孩子经常饿肚子，希望教育局管一管。"),
            ("{p}学生吃不饱", "{p}食堂菜量少价格高，孩子回家说吃不饱，请相关部门检查一下学校食堂。"),
            ("反映{p}食堂管理问题", "{p}学生食堂饭菜质量不高、价格偏贵，学生反映强烈，请教育部门加强监管。"),
        ],
        [
            ("{p}校车不够", "{t}{p}只有一辆校车，很多偏远村的孩子要走一个多小时山路上学。"),
            ("{p}孩子上学路太远没车", "{p}附近几个村的孩子上学要走很远的山路，校车坐不下，希望增加校车。"),
            ("建议为{p}增配校车", "{p}校车数量不足，偏远村组学生上学路途远、安全隐患大，建议增配校车。"),
        ],
        [
            ("{p}周边网吧接纳未成年人", "{t}{p}旁边的网吧经常有学生逃课去上网，老板也不查身份证。"),
            ("{p}学生逃课去网吧", "{p}附近有家网吧天天有初中生在里面打游戏，家长很担心，请有关部门查一查。"),
            ("举报{p}周边网吧违规接纳未成年人", "{p}周边网吧违规接纳未成年人上网，请文化市场执法部门依法查处。"),
        ],
    ],
}
PLACES = {"village": VILLAGES, "road": ROADS, "enterprise": ENTERPRISES, "school": SCHOOLS}


def _text(kind: str, problem: int, wording: int, place: int) -> tuple[str, str, str]:
    township, name = PLACES[kind][place]
    title, content = PROBLEMS[kind][problem][wording]
    group = f"{kind}-{problem}-{place}"
    return group, title.format(t=township, p=name), content.format(t=township, p=name)


def pairs(seed: int = 19) -> list[dict[str, str]]:
    rng = random.Random(seed)
    rows: list[dict[str, str]] = []
    for kind, problems in PROBLEMS.items():
        for problem in range(len(problems)):
            for place in range(len(PLACES[kind])):
                # Duplicates: two different wordings of the same problem at the same place.
                first, second = rng.sample(range(3), 2)
                rows.append(
                    _row(
                        "duplicate",
                        "paraphrase",
                        _text(kind, problem, first, place),
                        _text(kind, problem, second, place),
                    )
                )
                # Near miss: another problem at the same place.
                other = rng.choice([p for p in range(len(problems)) if p != problem])
                rows.append(
                    _row(
                        "near_miss",
                        "same_place",
                        _text(kind, problem, rng.randrange(3), place),
                        _text(kind, other, rng.randrange(3), place),
                    )
                )
                # Near miss: the same problem in the same words, somewhere else (every second place).
                if place % 2 == 0:
                    elsewhere = rng.choice([p for p in range(len(PLACES[kind])) if p != place])
                    wording = rng.randrange(3)
                    rows.append(
                        _row(
                            "near_miss",
                            "same_problem",
                            _text(kind, problem, wording, place),
                            _text(kind, problem, rng.randrange(3), elsewhere),
                        )
                    )
    return rows


def _row(label: str, kind: str, a: tuple[str, str, str], b: tuple[str, str, str]) -> dict[str, str]:
    return {
        "label": label,
        "kind": kind,
        "a_group": a[0],
        "a_title": a[1],
        "a_content": a[2],
        "b_group": b[0],
        "b_title": b[1],
        "b_content": b[2],
    }


def main() -> None:
    rows = pairs()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"{len(rows)} pairs written to {OUT}")


if __name__ == "__main__":
    main()
