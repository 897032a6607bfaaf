"""Demo data of the 政企 channel for ``seed_demo`` (idempotent, every record within the last 12 months).

The enterprise days of the last 11 months and of this month once its date has passed (history,
which the scheduler never creates), then the channel's own scheduler for this month's day when it
is still ahead and the coming month's; the zone's enterprise registry; and, through the services as
经开区 (``ezoneoffice``) would: each day's duty (the demo county leader ``leader``, departments,
enterprises visited), every past day confirmed held, and the problems raised at the two latest
days, registered and assigned in one batch, with a 三长会诊 on the hardest.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from feedback import services as core
from feedback.demo_clock import happened_at, local_moment
from feedback.models import Category, Department, Issue
from feedback.workcalendar import load_calendar

from . import services
from .models import Enterprise, EnterpriseDay
from .schedule import plan_month

PLACE = "经开区企业服务中心"
PARK = "洞口经济开发区"


@dataclass(frozen=True)
class DemoEnterprise:
    name: str
    # 9 (工商) 1 (企业) 430525 (洞口县) + organisation code + check: valid by GB 32100 and GB 11714
    # (tests/channels/test_enterprise_demo.py checks both).
    credit_code: str
    park: str
    sector: str
    contact_name: str
    contact_phone: str


# The first five are the requesters of the 政企 demo issues (feedback.demo.SAMPLES): same names.
ENTERPRISES = [
    DemoEnterprise(
        "湘洞电子科技有限公司", "91430525MA4L2R8D5R", f"{PARK}电子信息产业园", "电子元器件制造", "曾某某", "13907390101"
    ),
    DemoEnterprise("雪峰食品有限公司", "91430525392581747G", f"{PARK}食品产业园", "食品加工", "肖某某", "13907390102"),
    DemoEnterprise(
        "宝瑶新材料有限公司", "91430525687203516N", f"{PARK}新材料产业园", "新材料", "尹某某", "13907390103"
    ),
    DemoEnterprise(
        "洞口县纺织有限公司", "914305250641398297", f"{PARK}轻纺产业园", "纺织服装", "戴某某", "13907390104"
    ),
    DemoEnterprise(
        "蓼湘农业开发有限公司", "914305255731846018", f"{PARK}农产品加工园", "农产品冷链", "邓某某", "13907390105"
    ),
    DemoEnterprise(
        "湖南雪峰山竹木制品有限公司", "91430525MA4PCX3T99", f"{PARK}新材料产业园", "竹木加工", "黄某某", "07397220106"
    ),
]
# Departments that go with the leader, in turn, month by month.
COMPANIONS = [["gxj", "fgj", "rsj"], ["scj", "zrj", "jtj"], ["zjj", "sthj", "gxj"], ["fgj", "nyj", "scj"]]


@dataclass(frozen=True)
class DemoProblem:
    enterprise: int  # index into ENTERPRISES
    category: str
    nature: str
    lead: str
    co: tuple[str, ...]
    title: str
    content: str
    onsite_answer: str = ""


# By the day: [0] the latest held day, [1] the one before.
PROBLEMS = [
    [
        DemoProblem(
            0,
            "transport",
            Issue.Nature.HELP,
            "jtj",
            ("gxj",),
            "园区夜班员工下班无公交",
            "园区至县城通勤公交末班车为19:30，夜班员工22:00下班后无车可乘，部分员工因此离职，希望增开夜间班次。",
            "县交通运输局现场答复：两周内调研夜班通勤需求，研究增开夜间班次。",
        ),
        DemoProblem(
            2,
            "business",
            Issue.Nature.HELP,
            "fgj",
            ("gxj",),
            "新建生产线用电增容办理慢",
            "新建第二条生产线需用电增容至4000千伏安，申请已提交两个月，希望协调加快办理。",
        ),
        DemoProblem(
            1,
            "employment",
            Issue.Nature.HELP,
            "rsj",
            (),
            "春节前季节性用工缺口约80人",
            "春节前订单集中，预计用工缺口约80人，希望人社部门组织专场招聘。",
            "县人社局现场答复：12月中旬在经开区举办企业专场招聘会，优先安排该企业展位。",
        ),
    ],
    [
        DemoProblem(
            4,
            "business",
            Issue.Nature.HELP,
            "fgj",
            ("nyj",),
            "冷链仓储项目流动资金授信不足",
            "冷链仓储项目二期投产后流动资金缺口约1000万元，现有授信即将到期，续贷压力大，希望协调金融机构支持。",
        ),
        DemoProblem(
            3,
            "housing",
            Issue.Nature.HELP,
            "zjj",
            ("cgj",),
            "厂区门前道路雨季积水影响运输",
            "厂区门前园区道路排水管网未接通，雨季积水深达30厘米，货车无法进出。",
        ),
        DemoProblem(
            5,
            "environment",
            Issue.Nature.CONSULT,
            "sthj",
            (),
            "环评批复前能否先行安装设备",
            "新上竹材炭化生产线，环评报告已报审，咨询批复前能否先行安装调试设备。",
            "县生态环境局现场答复：可先行安装，批复前不得投入生产，并将书面答复办理要求。",
        ),
    ],
]
CONSULTATION = (
    ["县长", "县发展和改革局局长", "县农业农村局局长", "洞口农商银行行长", "邮储银行洞口县支行行长"],
    "农商银行新增流动资金授信800万元，邮储银行对到期贷款办理无还本续贷；县农业农村局将该项目纳入冷链物流补助申报名单。",
)


def seed_demo_sessions() -> int:
    """Days, registry, duty, confirmations and problems; returns the number of days created."""
    before = EnterpriseDay.objects.count()
    _seed_history()
    services.schedule_enterprise_days()  # this month's day if still ahead, and the coming month's
    created = EnterpriseDay.objects.count() - before
    User = get_user_model()
    leader = User.objects.filter(username="leader", is_active=True).first()
    office = User.objects.filter(username="ezoneoffice", is_active=True).first()
    if leader is None or office is None:  # accounts are seeded first (feedback.demo.seed_demo)
        return created
    enterprises = _seed_registry(office)
    today = timezone.localdate()
    days = list(EnterpriseDay.objects.filter(held_on__gte=today - datetime.timedelta(days=366)).order_by("held_on"))
    for index, day in enumerate(days):
        _seed_day(day, index, leader, office, enterprises, today)
    held = [day for day in days if day.held_on < today]
    # The earlier day first, so that the references follow the dates.
    for age, (day, rows) in reversed(list(enumerate(zip(reversed(held), PROBLEMS, strict=False)))):
        _seed_problems(day, rows, office, enterprises, earlier=age > 0)
    return created


def _seed_history() -> None:
    """The days of the last 11 months and this month's once passed: the 23rd or the next working day."""
    today = timezone.localdate()
    calendar = load_calendar(today - datetime.timedelta(days=400), today + datetime.timedelta(days=40))
    year, month = today.year, today.month
    for _ in range(12):
        plan = plan_month(year, month, calendar)
        if plan.held_on < today:
            EnterpriseDay.objects.get_or_create(
                month=plan.month,
                defaults={
                    "held_on": plan.held_on,
                    "notice_on": plan.notice_on,
                    "provisional": plan.provisional,
                    "place": PLACE,
                },
            )
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)


def _seed_registry(office: Any) -> list[Enterprise]:
    """The registry, entered once: an enterprise whose credit code is registered is left as it is."""
    registered = {
        e.credit_code: e for e in Enterprise.objects.filter(credit_code__in=[d.credit_code for d in ENTERPRISES])
    }
    out = []
    for data in ENTERPRISES:
        enterprise = registered.get(data.credit_code) or services.register_enterprise(
            actor=office,
            name=data.name,
            credit_code=data.credit_code,
            park=data.park,
            sector=data.sector,
            contact_name=data.contact_name,
            contact_phone=data.contact_phone,
        )
        out.append(enterprise)
    return out


def _seed_day(
    day: EnterpriseDay, index: int, leader: Any, office: Any, enterprises: list[Enterprise], today: datetime.date
) -> None:
    """Duty for a day that has none; a past day not yet confirmed is confirmed held."""
    if not day.leaders.exists() and day.held_at is None:
        departments = list(Department.objects.filter(code__in=COMPANIONS[index % len(COMPANIONS)]))
        visited = [enterprises[(2 * index) % len(enterprises)], enterprises[(2 * index + 1) % len(enterprises)]]
        services.set_day_duty(
            actor=office,
            day=day,
            leaders=[leader],
            departments=departments,
            enterprises=visited,
            place=day.place or PLACE,
            note="县长、分管副县长带队",
        )
    if day.held_on < today and day.held_at is None:
        depts = "、".join(d.name for d in day.departments.order_by("sort_order"))
        visited = "、".join(e.name for e in day.enterprises.order_by("name"))
        with happened_at(local_moment(day.held_on, 17)):  # confirmed the evening of the day
            services.mark_day_held(
                actor=office,
                day=day,
                summary=f"县领导带{depts}负责人到{visited}现场办公，逐一听取企业诉求，能当场答复的当场答复，"
                "其余问题登记交办、限时书面答复。",
            )


@transaction.atomic
def _seed_problems(
    day: EnterpriseDay, rows: list[DemoProblem], office: Any, enterprises: list[Enterprise], *, earlier: bool
) -> None:
    if day.intakes.exists():
        return
    categories = {c.code: c for c in Category.objects.filter(code__in={r.category for r in rows})}
    departments = Department.objects.in_bulk([c for r in rows for c in (r.lead, *r.co)], field_name="code")
    # Registered the evening of the day, live (feedback.demo_clock).
    with happened_at(local_moment(day.held_on, 17, 30)):
        intakes = services.raise_problems(
            actor=office,
            day=day,
            problems=[
                services.ProblemData(
                    enterprise=enterprises[r.enterprise],
                    category=categories[r.category],
                    title=r.title,
                    content=r.content,
                    nature=r.nature,
                    onsite_answer=r.onsite_answer,
                    lead=departments[r.lead],
                    co=[departments[c] for c in r.co],
                )
                for r in rows
            ],
        )
    if not earlier:
        return
    # An earlier day's problems: the departments have signed for them, and the hardest went to 三长会诊.
    with happened_at(local_moment(day.held_on + datetime.timedelta(days=1), 9)):  # signed for the next morning
        for intake in intakes:
            for assignment in intake.issue.assignments.select_related("department"):
                head = assignment.department.members.filter(is_head=True).select_related("user").first()
                if head is not None:
                    core.acknowledge_assignment(actor=head.user, assignment=assignment)
    participants, outcome = CONSULTATION
    consulted = min(timezone.localdate(), day.held_on + datetime.timedelta(days=10))
    with happened_at(local_moment(consulted, 15)):
        services.record_consultation(
            actor=office, intake=intakes[0], participants=participants, outcome=outcome, held_on=consulted
        )
