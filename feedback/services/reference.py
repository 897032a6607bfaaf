"""Reference data of docs/api.md: categories, departments, role groups and default deadline policies."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import Group
from django.db import transaction

from feedback.access import GROUP_NAMES
from feedback.models import Category, Channel, DeadlinePolicy, DeadlineUnit, Department, Issue
from feedback.services.calendar import recompute_deadlines
from feedback.workcalendar import seed_from_chinesecalendar

CATEGORIES = [
    ("education", "教育"),
    ("health", "医疗卫生"),
    ("transport", "交通出行"),
    ("employment", "就业创业"),
    ("social_security", "社会保障"),
    ("housing", "住房和城乡建设"),
    ("environment", "生态环境"),
    ("rural", "乡村振兴"),
    ("business", "营商环境"),
    ("public_safety", "社会治安"),
    ("civil_affairs", "民政服务"),
    ("urban", "城市管理"),
    ("culture", "文化旅游"),
    ("other", "其他"),
]

OFFICES = [
    ("wxb", "县委网信办", Channel.NET),
    ("jkq", "经开区管委会", Channel.ENTERPRISE),
    ("xfj", "县信访局", Channel.CITIZEN),
]
BUREAUS = [
    ("jyj", "县教育局"),
    ("wjj", "县卫生健康局"),
    ("zjj", "县住房和城乡建设局"),
    ("jtj", "县交通运输局"),
    ("rsj", "县人力资源和社会保障局"),
    ("sthj", "县生态环境局"),
    ("nyj", "县农业农村局"),
    ("slj", "县水利局"),
    ("zrj", "县自然资源局"),
    ("scj", "县市场监督管理局"),
    ("gaj", "县公安局"),
    ("mzj", "县民政局"),
    ("cgj", "县城市管理和综合执法局"),
    ("fgj", "县发展和改革局"),
    ("gxj", "县工业和信息化局"),
]
# docs/api.md: the short names (简称) ledgers use; a township's name is its own short name.
SHORT_NAMES = {
    "jyj": "教育局",
    "wjj": "卫健局",
    "zjj": "住建局",
    "jtj": "交通运输局",
    "rsj": "人社局",
    "sthj": "生态环境局",
    "nyj": "农业农村局",
    "slj": "水利局",
    "zrj": "自然资源局",
    "scj": "市场监管局",
    "gaj": "公安局",
    "mzj": "民政局",
    "cgj": "城管局",
    "fgj": "发改局",
    "gxj": "工信局",
    "wxb": "网信办",
    "jkq": "经开区",
    "xfj": "信访局",
}
TOWNSHIPS = [
    ("jkz", "江口镇"),
    ("gsz", "高沙镇"),
    ("zsz", "竹市镇"),
    ("sjz", "石江镇"),
    ("hqz", "黄桥镇"),
    ("smz", "山门镇"),
    ("ltz", "醪田镇"),
    ("dkz", "洞口镇"),
]


@dataclass(frozen=True)
class PolicySeed:
    channel: str
    nature: str
    name: str
    amount: int
    unit: str
    extension: int
    extension_unit: str
    basis: str


W, C = DeadlineUnit.WORKING_DAY, DeadlineUnit.CALENDAR_DAY
# DOMAIN.md "Deadlines" defaults; the county confirms them and edits them in the admin.
POLICIES = [
    PolicySeed(Channel.NET, "", "政网书面回复", 10, W, 10, W, "参照武汉网民留言、广东12345建议类"),
    PolicySeed(Channel.NET, Issue.Nature.CONSULT, "政网咨询类回复", 3, W, 0, W, "参照株洲网民留言办理办法"),
    PolicySeed(Channel.ENTERPRISE, "", "政企书面回复", 15, W, 15, W, "参照山东企业诉求接诉即办（复杂事项≤30工作日）"),
    PolicySeed(Channel.CITIZEN, "", "政民信访事项办结", 60, C, 30, C, "《信访工作条例》第三十四条"),
]


@transaction.atomic
def load_reference_data() -> dict[str, int]:
    """Idempotent: creates what is missing, never overwrites what administrators changed."""
    created = {"categories": 0, "departments": 0, "groups": 0, "policies": 0}
    for order, (code, name) in enumerate(CATEGORIES):
        _, new = Category.objects.get_or_create(code=code, defaults={"name": name, "sort_order": order})
        created["categories"] += new
    rows: list[tuple[str, str, str, str]] = [(c, n, Department.Kind.OFFICE, ch) for c, n, ch in OFFICES]
    rows += [(c, n, Department.Kind.BUREAU, "") for c, n in BUREAUS]
    rows += [(c, n, Department.Kind.TOWNSHIP, "") for c, n in TOWNSHIPS]
    for order, (code, name, kind, channel) in enumerate(rows):
        department, new = Department.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "kind": kind,
                "channel": channel,
                "sort_order": order,
                "short_names": SHORT_NAMES.get(code, ""),
            },
        )
        created["departments"] += new
        if not new and not department.short_names and code in SHORT_NAMES:  # added later; never overwritten
            Department.objects.filter(pk=department.pk).update(short_names=SHORT_NAMES[code])
    for name in GROUP_NAMES.values():
        _, new = Group.objects.get_or_create(name=name)
        created["groups"] += new
    for seed in POLICIES:
        if not DeadlinePolicy.objects.filter(channel=seed.channel, nature=seed.nature).exists():
            DeadlinePolicy.objects.create(
                channel=seed.channel,
                nature=seed.nature,
                name=seed.name,
                amount=seed.amount,
                unit=seed.unit,
                extension_max_amount=seed.extension,
                extension_unit=seed.extension_unit,
                legal_basis=seed.basis,
            )
            created["policies"] += 1
    new_years = seed_from_chinesecalendar()
    created["calendar_years"] = len(new_years)
    # A newer chinesecalendar may bring a year our open deadlines counted provisionally.
    created["recomputed"] = recompute_deadlines(actor=None, years=set(new_years))
    return created
