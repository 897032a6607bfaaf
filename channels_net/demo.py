"""Demo data of the 政网 channel for ``seed_demo`` (idempotent, every record within the last 12 months).

Four quarterly forums; for the two latest, through the services as 网信办 (``netoffice``) would
right after a forum: who attended (the demo county leader ``leader`` in the chair, department
heads, netizen representatives by their handles) and the requests raised there, registered and
assigned in one batch. The earlier forum's requests have been signed for by the departments.
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

from . import services
from .models import Forum


@dataclass(frozen=True)
class DemoRequest:
    handle: str
    category: str
    lead: str
    title: str
    content: str
    onsite_answer: str = ""
    nature: str = Issue.Nature.SUGGESTION


# By the forum: [0] the latest, [1] the one before.
REQUESTS = [
    [
        DemoRequest(
            "山村支教亮亮老师",
            "education",
            "jyj",
            "山区教学点冬季取暖设施不足",
            "山门镇几个教学点教室没有取暖设施，冬季学生手脚生冻疮，建议配备安全的取暖设备。",
            "县教育局局长现场答复：年底前完成山区教学点取暖设备摸底，所需资金列入明年预算。",
        ),
        DemoRequest(
            "洞口老街坊",
            "urban",
            "cgj",
            "老城区背街小巷路灯损坏多",
            "老城区多条背街小巷路灯损坏未修，夜间出行不安全，建议集中排查维修。",
        ),
        DemoRequest(
            "江口宝妈",
            "health",
            "wjj",
            "建议乡镇卫生院开设儿科夜间门诊",
            "江口镇卫生院夜间没有儿科医生，孩子半夜发烧只能赶往县城，建议开设儿科夜间门诊或远程会诊。",
            "县卫健局局长现场答复：研究由县人民医院儿科对乡镇卫生院开展夜间远程会诊。",
        ),
    ],
    [
        DemoRequest(
            "高沙学子",
            "transport",
            "jtj",
            "高沙中学门口缺少减速带和斑马线",
            "高沙中学门口车流量大，上下学时段学生过马路危险，建议增设减速带、斑马线和警示标志。",
        ),
        DemoRequest(
            "蓼水河边人",
            "environment",
            "sthj",
            "蓼水河支流入河排污口需排查",
            "蓼水河一条支流有不明排污口，雨后河水发黑有异味，建议排查整治。",
            "县生态环境局局长现场答复：一周内组织对支流入河排污口开展排查。",
        ),
        DemoRequest(
            "竹市种粮大户",
            "rural",
            "nyj",
            "农机购置补贴申请材料太多",
            "农机购置补贴申请要跑多个部门盖章，建议简化材料、推行线上申请。",
        ),
    ],
]
REPRESENTATIVES_EXTRA = ["雪峰山下", "洞口县城通"]


def seed_demo_sessions() -> int:
    """Four quarterly forums within the last 12 months; the two latest recorded with their requests."""
    today = timezone.localdate()
    created = 0
    for quarters_ago in range(4):
        held_on = today - datetime.timedelta(days=20 + 90 * quarters_ago)
        _, new = Forum.objects.get_or_create(
            title=f"第{4 - quarters_ago}季度政网直通车网民座谈会（演示）",
            defaults={
                "held_on": held_on,
                "place": "县委会议中心",
                "chair_title": "县委书记",
                "collect_from": held_on - datetime.timedelta(days=30),
                "collect_until": held_on - datetime.timedelta(days=1),
            },
        )
        created += new
    User = get_user_model()
    leader = User.objects.filter(username="leader", is_active=True).first()
    office = User.objects.filter(username="netoffice", is_active=True).first()
    if leader is None or office is None:  # accounts are seeded first (feedback.demo.seed_demo)
        return created
    titles = [f"第{4 - n}季度政网直通车网民座谈会（演示）" for n in range(2)]
    forums = Forum.objects.filter(title__in=titles, held_on__lte=today).order_by("-held_on")
    # The earlier forum first, so that the references follow the dates.
    for age, (forum, rows) in reversed(list(enumerate(zip(forums, REQUESTS, strict=False)))):
        _seed_forum(forum, rows, leader, office, earlier=age > 0)
    return created


@transaction.atomic
def _seed_forum(forum: Forum, rows: list[DemoRequest], leader: Any, office: Any, *, earlier: bool) -> None:
    if forum.intakes.exists():
        return
    departments = Department.objects.in_bulk([r.lead for r in rows], field_name="code")
    # Recorded and registered the evening of the forum, live (feedback.demo_clock).
    with happened_at(local_moment(forum.held_on, 17)):
        if forum.chair_id is None:
            handles = [r.handle for r in rows] + REPRESENTATIVES_EXTRA
            services.record_forum(
                actor=office,
                forum=forum,
                data=services.ForumData(
                    title=forum.title,
                    held_on=forum.held_on,
                    place=forum.place,
                    chair=leader,
                    chair_title=forum.chair_title,
                    leaders=[leader],
                    departments_present=[departments[r.lead] for r in rows],
                    representatives=[services.RepresentativeData(handle=h) for h in handles],
                    minutes=f"县委书记主持召开网民座谈会，{len(handles)}名网民代表发言，到会部门负责人逐一现场回应；"
                    "会后各部门须以盖章、一把手签字的书面形式答复。",
                    collect_from=forum.collect_from,
                    collect_until=forum.collect_until,
                ),
            )
        categories = {c.code: c for c in Category.objects.filter(code__in={r.category for r in rows})}
        issues = services.record_forum_requests(
            actor=office,
            forum=forum,
            rows=[
                services.ForumRequest(
                    handle=r.handle,
                    category=categories[r.category],
                    lead=departments[r.lead],
                    title=r.title,
                    content=r.content,
                    onsite_answer=r.onsite_answer,
                    nature=r.nature,
                )
                for r in rows
            ],
        )
    if not earlier:
        return
    with happened_at(local_moment(forum.held_on + datetime.timedelta(days=1), 9)):  # signed for the next morning
        for issue in issues:
            for assignment in issue.assignments.select_related("department"):
                head = assignment.department.members.filter(is_head=True).select_related("user").first()
                if head is not None:
                    core.acknowledge_assignment(actor=head.user, assignment=assignment)
