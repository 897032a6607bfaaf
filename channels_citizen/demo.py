"""Demo data of the 政民 channel for ``seed_demo`` (idempotent, every record within the last 12 months).

No-meeting weeks for the last 11 months; villages for every township; a roster for each week
(the demo county leader ``leader`` with accompanying departments); and, for the three latest weeks,
visits recorded through the services as the petitions bureau (``petitionoffice``) would: a
collective reception and a village visit with a lawyer, cases brought down, a courtyard meeting,
the case of the week, and the requests raised there, registered and assigned in one batch.
"""

from __future__ import annotations

import datetime

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from feedback.demo_clock import happened_at, local_moment
from feedback.models import Category, Department, Issue
from feedback.workcalendar import load_calendar

from . import services
from .models import NoMeetingWeek, Village, Visit

VILLAGES = {
    "jkz": ["江口村", "青山村", "大屋村"],
    "gsz": ["高沙村", "白竹村", "大田村"],
    "zsz": ["竹市村", "金龙村", "塘湾村"],
    "sjz": ["石江村", "桥边村", "平溪村"],
    "hqz": ["迴龙洲村", "黄桥村", "桐山村"],
    "smz": ["山门村", "木瓜村", "茶铺村"],
    "ltz": ["醪田村", "清水村", "杉木村"],
    "dkz": ["洞口村", "平山村", "蓼湾村"],
}
# Departments that go down with the leader, by the township's position in the rotation.
COMPANIONS = [["zjj", "mzj"], ["rsj", "nyj"], ["zrj", "slj"], ["gaj", "jtj"]]
# requester, village index, category, nature, lead, accused, content
REQUESTS = [
    ("王某某", 0, "housing", "help", "zjj", "", "迴龙洲搬迁安置补偿标准不一致，请求统一核定"),
    ("李某某", 1, "social_security", "help", "rsj", "", "外出务工多年，养老保险转移接续办不下来"),
    ("赵某某", 2, "rural", "report", "{town}", "zrj", "举报村里违规占用基本农田建房，自然资源部门长期不管"),
    ("陈某某", 1, "public_safety", "complaint", "gaj", "", "邻里宅基地纠纷多次调解未果，要求依法处理"),
]


def seed_demo_sessions() -> int:
    """Weeks, villages, roster and visits; returns the number of weeks created."""
    created = _seed_weeks()
    _seed_villages()
    User = get_user_model()
    leader = User.objects.filter(username="leader", is_active=True).first()
    office = User.objects.filter(username="petitionoffice", is_active=True).first()
    if leader is None or office is None:  # accounts are seeded first (feedback.demo.seed_demo)
        return created
    weeks = list(NoMeetingWeek.objects.filter(ends_on__lt=timezone.localdate()).order_by("-month")[:11])
    for index, week in enumerate(reversed(weeks)):
        _seed_roster(week, index, leader, office)
    for week in reversed(weeks[:3]):
        _seed_visits(week, leader, office)
    return created


def _seed_weeks() -> int:
    """The last five working days of each of the last 11 months."""
    today = timezone.localdate()
    calendar = load_calendar(today - datetime.timedelta(days=400), today + datetime.timedelta(days=40))
    created = 0
    first = today.replace(day=1)
    for _ in range(11):
        last_of_previous = first - datetime.timedelta(days=1)
        first = last_of_previous.replace(day=1)
        days: list[datetime.date] = []
        day = last_of_previous
        while len(days) < 5:
            if calendar.is_workday(day):
                days.append(day)
            day -= datetime.timedelta(days=1)
        _, new = NoMeetingWeek.objects.get_or_create(
            month=first, defaults={"starts_on": days[-1], "ends_on": days[0], "confirmed": True}
        )
        created += new
    return created


def _seed_villages() -> None:
    for code, names in VILLAGES.items():
        township = Department.objects.filter(code=code).first()
        if township is None:
            continue
        for name in names:
            Village.objects.get_or_create(township=township, name=name)


def _towns(index: int) -> list[Department]:
    """Two townships a week, in turn."""
    codes = list(VILLAGES)
    return list(
        Department.objects.filter(code__in=[codes[(2 * index) % 8], codes[(2 * index + 1) % 8]]).order_by(
            "sort_order", "code"
        )
    )


def _seed_roster(week: NoMeetingWeek, index: int, leader: object, office: object) -> None:
    if week.roster.exists():
        return
    for n, town in enumerate(_towns(index)):
        companions = list(Department.objects.filter(code__in=COMPANIONS[(index + n) % len(COMPANIONS)]))
        services.add_roster_entry(actor=office, week=week, leader=leader, township=town, departments=companions)


@transaction.atomic
def _seed_visits(week: NoMeetingWeek, leader: object, office: object) -> None:
    if week.visits.exists():
        return
    towns = [entry.township for entry in week.roster.select_related("township")] or _towns(0)
    reception_town, village_town = towns[0], towns[-1]
    days = sorted({week.starts_on, min(week.starts_on + datetime.timedelta(days=2), week.ends_on)})
    # Each visit and its requests are entered the evening of the visit, live (feedback.demo_clock).
    with happened_at(local_moment(days[0], 17)):
        reception = services.record_visit(
            actor=office,
            week=week,
            kind=Visit.Kind.RECEPTION,
            township=reception_town,
            held_on=days[0],
            leader=leader,
            notes=f"县领导带随行部门负责人在{reception_town.name}集中接访，群众逐一登记诉求，部门现场答复政策问题。",
        )
        _seed_requests(reception, office, REQUESTS[:2])
    # The village visit brings down open cases raised at earlier weeks' visits (带案下访).
    cases = list(
        Issue.objects.filter(channel="citizen", citizen_intake__visit__held_on__lt=week.starts_on)
        .exclude(status=Issue.Status.CLOSED)
        .exclude(accused_department__isnull=False)
        .order_by("-received_on", "-id")[:2]
    )
    village = Village.objects.filter(township=village_town, active=True).order_by("name").first()
    if village is None:
        return
    with happened_at(local_moment(days[-1], 17, 30)):
        visit = services.record_visit(
            actor=office,
            week=week,
            kind=Visit.Kind.VILLAGE,
            township=village_town,
            village=village,
            held_on=days[-1],
            leader=leader,
            cases=cases,
            lawyer_present=True,
            lawyer_name="刘律师（县法律援助中心）",
            notes=f"背包式下访：县领导带律师进{village.name}，入户了解情况，现场召开院落会议。",
            meetings=[
                services.MeetingData(
                    attendance=36,
                    place=f"{village.name}村部院坝",
                    outcome="讲解征收补偿政策，群众代表与镇村干部达成分步解决方案。",
                )
            ],
            case_of_week=cases[0] if cases else None,
        )
        issues = _seed_requests(visit, office, REQUESTS[2:])
        if not cases and issues:
            services.set_case_of_week(actor=office, week=week, issue=issues[-1])


def _seed_requests(visit: Visit, office: object, rows: list[tuple[str, int, str, str, str, str, str]]) -> list[Issue]:
    villages = list(Village.objects.filter(township=visit.township, active=True).order_by("name"))
    requests = []
    for name, village_index, category, nature, lead, accused, content in rows:
        lead_code = visit.township.code if lead == "{town}" else lead
        requests.append(
            services.VisitRequest(
                requester_name=name,
                requester_phone=f"139{visit.pk:04d}{len(requests):04d}",
                village=villages[village_index % len(villages)] if villages else None,
                category=Category.objects.get(code=category),
                nature=nature,
                lead=Department.objects.get(code=lead_code),
                accused_department=Department.objects.get(code=accused) if accused else None,
                content=content,
            )
        )
    return services.record_visit_requests(actor=office, visit=visit, rows=requests)
