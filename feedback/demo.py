"""Demo accounts and issues for ``seed_demo`` (docs/api.md). Every write goes through services."""

from __future__ import annotations

import datetime
import functools
import io
import math
import random
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from feedback import services
from feedback.access import GROUP_NAMES, Role
from feedback.channels import REGISTRY
from feedback.demo_clock import happened_at, local_moment, seeding
from feedback.figures.bulletins import previous_month
from feedback.models import Assignment, Bulletin, Category, Channel, Department, Issue, Membership, SignedReply
from feedback.passwords import DEMO_PASSWORD
from feedback.services.reference import load_reference_data

DEMO_ISSUES = 48

SAMPLES = {
    Channel.NET: [
        ("山村支教亮亮老师", "education", "jyj", "建议为山区教学点配备网络教学设备"),
        ("洞口老街坊", "urban", "cgj", "老城区夜市油烟扰民问题"),
        ("蓼水河边人", "environment", "sthj", "蓼水河支流有黑臭水体"),
        ("高沙学子", "transport", "jtj", "学校附近增设人行天桥或斑马线"),
        ("竹市种粮大户", "rural", "nyj", "农机补贴申请流程太繁琐"),
        ("江口宝妈", "health", "wjj", "乡镇卫生院儿科夜间无人值班"),
    ],
    Channel.ENTERPRISE: [
        ("湘洞电子科技有限公司", "business", "gxj", "员工通勤不便，建议开通园区通勤公交"),
        ("雪峰食品有限公司", "business", "scj", "食品生产许可证延续审批时间长"),
        ("宝瑶新材料有限公司", "employment", "rsj", "技术工人招聘难，希望组织专场招聘会"),
        ("洞口县纺织有限公司", "housing", "zjj", "厂区配套道路未完工影响运输"),
        ("蓼湘农业开发有限公司", "rural", "nyj", "冷链仓储用地指标紧张"),
    ],
    Channel.CITIZEN: [
        ("王某某", "housing", "zjj", "迴龙洲搬迁安置补偿问题"),
        ("李某某", "social_security", "rsj", "养老保险转移接续办理困难"),
        ("张某某", "civil_affairs", "mzj", "低保资格复核结果有异议"),
        ("刘某某", "rural", "hqz", "村组道路硬化进度缓慢"),
        ("陈某某", "public_safety", "gaj", "邻里宅基地纠纷多次调解未果"),
    ],
}
OFFICE_USERS = {
    "netoffice": ("wxb", "网信办工作人员"),
    "ezoneoffice": ("jkq", "经开区工作人员"),
    "petitionoffice": ("xfj", "信访局工作人员"),
}


@functools.cache
def _demo_password_hash() -> str:
    # Hashing once: ~50 accounts times a full PBKDF2 run would take many seconds.
    return make_password(DEMO_PASSWORD)


def _user(
    username: str,
    *,
    full_name: str,
    group: str | None = None,
    department: Department | None = None,
    is_head: bool = False,
    superuser: bool = False,
) -> bool:
    User = get_user_model()
    user, created = User.objects.get_or_create(
        username=username,
        defaults={
            "first_name": full_name,
            "is_staff": superuser,
            "is_superuser": superuser,
            "password": _demo_password_hash(),
            "email": f"{username}@example.org",
        },
    )
    if not user.email:  # accounts seeded before the demo had addresses (issue 13 §5)
        user.email = f"{username}@example.org"
        user.save(update_fields=["email"])
    if group:
        user.groups.add(Group.objects.get(name=group))
    if department is not None:
        Membership.objects.get_or_create(
            user=user,
            defaults={"department": department, "is_head": is_head, "title": "主要负责人" if is_head else "工作人员"},
        )
    return created


def seed_accounts() -> int:
    created = 0
    created += _user("admin", full_name="系统管理员", superuser=True, group=GROUP_NAMES[Role.ADMIN])
    created += _user("leader", full_name="县领导（演示）", group=GROUP_NAMES[Role.LEADER])
    for username, (code, full_name) in OFFICE_USERS.items():
        created += _user(
            username, full_name=full_name, group=GROUP_NAMES[Role.OFFICE], department=Department.objects.get(code=code)
        )
    for dept in Department.objects.exclude(kind=Department.Kind.OFFICE):
        created += _user(
            f"{dept.code}_head",
            full_name=f"{dept.name}负责人",
            department=dept,
            is_head=True,
            group=GROUP_NAMES[Role.DEPARTMENT],
        )
        created += _user(
            f"{dept.code}_staff", full_name=f"{dept.name}工作人员", department=dept, group=GROUP_NAMES[Role.DEPARTMENT]
        )
    return created


# A CJK font for the demo letters, where Debian's fonts-noto-cjk put it (bin/test installs it).
CJK_FONTS = (
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
)
SEAL_RED = (200, 30, 30)


def _font(size: int) -> Any:
    """A Pillow font with Chinese glyphs, or None."""
    from PIL import ImageFont

    for path in CJK_FONTS:
        try:
            return ImageFont.truetype(path, size, index=2)  # the collection's simplified-Chinese face
        except OSError:
            continue
    return None


def demo_letter_pdf(
    title: str, department: str = "", signer: str = "", signed_on: datetime.date | None = None
) -> bytes:
    """A one-page A4 PDF standing in for the scan of a stamped, signed reply letter: heading, body,
    signature, date and a red seal. Drawn with Pillow; without a CJK font the text lines are grey bars."""
    from PIL import Image, ImageDraw

    width, height = 827, 1169  # A4 at 100 dpi
    page = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(page)
    heading, text, small = _font(34), _font(22), _font(20)
    date = f"{signed_on:%Y年%-m月%-d日}" if signed_on else ""
    lines = [
        f"关于“{title}”的答复",
        "",
        "县直通车办公室：",
        f"    交办的“{title}”一事收悉。我单位高度重视，",
        "已组织人员现场核实，研究提出处理意见如下：",
        "    一、已安排专人跟进办理，明确责任和时限；",
        "    二、办理情况将及时向诉求人反馈。",
        "    特此答复。",
    ]
    y = 140
    for n, line in enumerate(lines):
        font = heading if n == 0 else text
        if font is None:  # no CJK font on this machine: the letter's shape, in grey
            margin = 100 if n else 200
            if line:
                draw.rectangle((margin, y + 8, width - margin, y + 22), fill=(190, 190, 190))
        elif n == 0:
            draw.text((width // 2, y), line, fill="black", font=font, anchor="ma")
        else:
            draw.text((100, y), line, fill="black", font=font)
        y += 64 if n == 0 else 44
    sign_y = y + 80
    if text is not None:
        draw.text((width - 120, sign_y), department, fill="black", font=text, anchor="ra")
        draw.text((width - 120, sign_y + 44), f"负责人：{signer}", fill="black", font=text, anchor="ra")
        draw.text((width - 120, sign_y + 88), date, fill="black", font=text, anchor="ra")
    # The seal over the signature: a red ring, a star, the unit's name.
    cx, cy, r = width - 230, sign_y + 50, 95
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=SEAL_RED, width=7)
    star = []
    for k in range(10):
        angle = math.pi / 2 + k * math.pi / 5
        radius = 34 if k % 2 == 0 else 14
        star.append((cx + radius * math.cos(angle), cy - 12 - radius * math.sin(angle)))
    draw.polygon(star, fill=SEAL_RED)
    if small is not None and department:
        draw.text((cx, cy + 38), department[:8], fill=SEAL_RED, font=small, anchor="mm")
    out = io.BytesIO()
    page.save(out, "PDF", resolution=100.0, title=title)
    return out.getvalue()


def seed_issues() -> int:
    """Issues in every state, received within the last 12 months (idempotent by reference)."""
    rng = random.Random(20261129)
    today = timezone.localdate()
    office_users = {Channel.NET: "netoffice", Channel.ENTERPRISE: "ezoneoffice", Channel.CITIZEN: "petitionoffice"}
    User = get_user_model()
    created = 0
    for n in range(DEMO_ISSUES):
        channel = list(SAMPLES)[n % 3]
        requester, category, dept_code, title = SAMPLES[channel][n // 3 % len(SAMPLES[channel])]
        ref = f"DEMO-{services.REF_PREFIX[channel]}-{n + 1:03d}"
        if Issue.objects.filter(ref=ref).exists():
            continue
        received = today - datetime.timedelta(days=rng.randint(3, 350))
        stage = rng.choice(["registered", "assigned", "acknowledged", "replied", "followed", "closed", "closed"])
        if received > today - datetime.timedelta(days=20) and stage in ("followed", "closed"):
            stage = "acknowledged"
        with transaction.atomic():
            created += 1
            _demo_issue(
                ref=ref,
                channel=channel,
                requester=requester,
                category=Category.objects.get(code=category),
                lead=Department.objects.get(code=dept_code),
                title=title,
                received=received,
                stage=stage,
                office=User.objects.get(username=office_users[channel]),
                rng=rng,
                today=today,
            )
    return created


def _demo_issue(
    *,
    ref: str,
    channel: str,
    requester: str,
    category: Category,
    lead: Department,
    title: str,
    received: datetime.date,
    stage: str,
    office: object,
    rng: random.Random,
    today: datetime.date,
) -> None:
    kind = {Channel.NET: "netizen", Channel.ENTERPRISE: "enterprise", Channel.CITIZEN: "person"}[channel]
    phone = f"138{rng.randint(10000000, 99999999)}" if channel != Channel.NET else ""
    # Each step runs as at the moment it happened (feedback.demo_clock, decision 0650), so that the
    # history, the reply's submission time, the notices and the audit rows tell the issue's own
    # dates: received → assigned → acknowledged → replied → accepted → followed up → closed. The
    # minute comes from the reference, not the generator, so the demo's figures are unchanged.
    minute = int(ref.rsplit("-", 1)[1]) % 50
    with happened_at(local_moment(received, 9, minute)):
        issue = services.register_issue(
            actor=office,
            ref=ref,
            channel=channel,
            category=category,
            requester=services.RequesterData(
                name=requester, phone=phone, kind=kind, organization=requester if kind == "enterprise" else ""
            ),
            title=title,
            content=f"{title}。请相关部门研究解决并书面答复。",
            received_on=received,
        )
    if stage == "registered":
        return
    co = []
    if rng.random() < 0.3:
        co = [
            Department.objects.exclude(pk=lead.pk)
            .exclude(kind=Department.Kind.OFFICE)
            .order_by("code")[rng.randint(0, 10)]
        ]
    assigned_on = received + datetime.timedelta(days=rng.randint(0, 2))
    with happened_at(local_moment(assigned_on, 10, minute)):
        assignments = services.assign_issue(actor=office, issue=issue, lead=lead, co=co, assigned_on=assigned_on)
    if stage != "assigned":
        with happened_at(local_moment(assigned_on + datetime.timedelta(days=1), 9, minute)):
            for a in assignments:
                head = a.department.members.filter(is_head=True).first().user
                services.acknowledge_assignment(actor=head, assignment=a)
    if stage == "acknowledged" and int(ref.rsplit("-", 1)[1]) % 2 == 0:
        # Every other one has its lead's reply waiting for the office's review (待审核, issue 13):
        # dated and worded without the generator, so the rest of the demo is unchanged.
        lead_assignment = next(a for a in assignments if a.role == Assignment.Role.LEAD)
        signed = min(today, lead_assignment.assigned_on + datetime.timedelta(days=5))
        with happened_at(local_moment(signed, 15, minute)):
            _demo_reply(lead_assignment, title, signed, SignedReply.Result.RESOLVED)
    if stage in ("assigned", "acknowledged"):
        # Issue 13 §4: for work still open, the ladder steps already past are recorded and the
        # departments hear the current state once, as after a ledger import — not a flood of old
        # reminders from the first sweep, nor a "已列入月度通报" the bulletin below would not bear
        # out. (Replied issues close their assignments below: nothing of their ladder is left.)
        services.settle_passed_steps(assignments, now=timezone.now(), when="生成演示数据时")
        return
    # Each department's reply is submitted on the day it was signed and accepted the next morning;
    # the steps of all departments are taken in the order they happened. (Drawn first, in the
    # order the generator always drew them.)
    replies = []
    for a in assignments:
        signed = min(today, a.assigned_on + datetime.timedelta(days=rng.randint(3, 25)))
        replies.append((a, signed, rng.choice(SignedReply.Result.values)))
    steps = [(local_moment(signed, 15, minute), 0, i) for i, (_, signed, _) in enumerate(replies)]
    steps += [
        (local_moment(signed + datetime.timedelta(days=1), 10, minute), 1, i)
        for i, (_, signed, _) in enumerate(replies)
    ]
    submitted: dict[int, SignedReply] = {}
    for moment, accept, i in sorted(steps):
        a, signed, result = replies[i]
        with happened_at(moment):
            if accept:
                services.accept_reply(actor=office, reply=submitted[i])
            else:
                submitted[i] = _demo_reply(a, title, signed, result)
    if stage == "replied":
        return
    rating = rng.choice(["satisfied", "satisfied", "basically", "dissatisfied", "unreachable"])
    last_reply = max(a.replied_on for a in issue.assignments.all())
    followed = min(today, last_reply + datetime.timedelta(days=2))
    with happened_at(local_moment(followed, 11, minute)):
        services.record_follow_up(actor=office, issue=issue, satisfaction=rating, on=followed)
    if stage == "closed":
        closed = min(today, last_reply + datetime.timedelta(days=3))
        with happened_at(local_moment(closed, 16, minute)):
            if rating == "unreachable":
                # 回访 before 办结 (docs/decisions/0600): a requester never reached is closed with the
                # office's reason (未能回访). Chosen without the generator, so the rest of the demo is unchanged.
                services.record_follow_up_skipped(
                    actor=office, issue=issue, reason="unreachable", note="工作日三次电话均无人接听"
                )
            services.close_issue(actor=office, issue=issue, on=closed)


def _demo_reply(a: Assignment, title: str, signed: datetime.date, result: str) -> SignedReply:
    """The department head uploads a stamped reply letter (a generated PDF) for assignment ``a``."""
    head = a.department.members.filter(is_head=True).first().user
    return services.submit_reply(
        actor=head,
        assignment=a,
        file=SimpleUploadedFile(
            f"{a.department.code}-reply.pdf",
            demo_letter_pdf(title, a.department.name, f"{a.department.name}负责人", signed),
            "application/pdf",
        ),
        signer_name=f"{a.department.name}负责人",
        signer_title="局长" if a.department.kind == "bureau" else "镇长",
        signed_on=signed,
        result=result,
        summary=f"关于“{title}”的答复：已研究并提出处理意见。",
    )


# Who publishes each of last month's bulletins: the channel's office its own, an administrator the
# all-channel one (feedback.bulletins.can_publish).
BULLETIN_PUBLISHERS = {
    "": "admin",
    Channel.NET: "netoffice",
    Channel.ENTERPRISE: "ezoneoffice",
    Channel.CITIZEN: "petitionoffice",
}


def seed_bulletins() -> int:
    """Last month's bulletins, drafted as the month-end task does and published; a published one is
    left as it is (frozen). Returns the number published."""
    services.draft_month_end_bulletins()
    User = get_user_model()
    month = previous_month(timezone.localdate())
    published = 0
    for bulletin in Bulletin.objects.filter(month=month, status=Bulletin.Status.DRAFT).order_by("channel"):
        actor = User.objects.get(username=BULLETIN_PUBLISHERS[bulletin.channel])
        services.publish_bulletin(actor=actor, bulletin=bulletin)
        published += 1
    return published


def _settle_open_work(after_issue: int) -> None:
    """The channels' demos register a session's requests on the session's day (feedback.demo_clock):
    the ladder steps of this run's open work already past are recorded, not announced by the first
    sweep (issue 13 §4, decision 0610). Only issues this run created (ids above ``after_issue``)."""
    open_work = Assignment.objects.open().filter(issue_id__gt=after_issue)
    services.settle_passed_steps(list(open_work), now=timezone.now(), when="生成演示数据时")


def seed_demo() -> dict[str, int]:
    with seeding():  # no seeded step is stamped later than now (feedback.demo_clock)
        before = Issue.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        counts = load_reference_data()
        counts["accounts"] = seed_accounts()
        counts["sessions"] = sum(plugin.seed_demo() for plugin in REGISTRY.values())
        counts["issues"] = seed_issues()
        _settle_open_work(before)
        counts["bulletins"] = seed_bulletins()
    return counts
