"""Writes of the net channel's public intake: submit, accept (through the core), merge into an
issue already being handled (并单), decline, publish.

Acceptance goes through ``feedback.services.register_issue``, so an accepted suggestion is an
ordinary issue with its history; the channel keeps the link (``NetIntake``) and the public face
(``PublicSubmission``: tracking code, consent, the redacted summary the office chose to publish).
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from feedback import services, states
from feedback.access import GROUP_NAMES, Role, can_register, issues_for, registrable_channels
from feedback.channels import CallbackRequester
from feedback.errors import IllegalTransition, InvalidInput, NotPermitted
from feedback.models import Category, Channel, Department, Issue, Requester
from feedback.privacy import redact
from feedback.services.batches import all_or_none
from feedback.wording import title_from

from .models import Forum, NetIntake, NetRepresentative, PublicSubmission

TITLE_LENGTH = 30
# Issues that have an answer the office may make public.
ANSWERED = (Issue.Status.REPLIED, Issue.Status.FOLLOWED_UP, Issue.Status.CLOSED)


def _require_net_office(actor: User | None) -> User:
    if actor is None or not can_register(actor) or Channel.NET not in registrable_channels(actor):
        raise NotPermitted("只有县委网信办可以处理网上征集的意见。")
    return actor


def open_forum(today: object = None) -> Forum | None:
    """The forum whose collection window is open today, if any."""
    today = today or timezone.localdate()
    return Forum.objects.filter(collect_from__lte=today, collect_until__gte=today).order_by("held_on").first()


@transaction.atomic
def submit_suggestion(
    *, category: Category, content: str, name: str = "", phone: str = "", consent_to_publish: bool = False
) -> PublicSubmission:
    if not category.active:
        raise InvalidInput(f"分类“{category.name}”已停用。", field="category")
    if not content.strip():
        raise InvalidInput("请填写意见建议。", field="content")
    return PublicSubmission.objects.create(
        forum=open_forum(),
        category=category,
        content=content.strip(),
        name=name.strip(),
        phone=phone.strip(),
        consent_to_publish=consent_to_publish,
    )


def _lock(submission: PublicSubmission) -> PublicSubmission:
    return PublicSubmission.objects.select_for_update().get(pk=submission.pk)


@transaction.atomic
def accept_submission(
    *, actor: User | None, submission: PublicSubmission, category: Category | None = None, title: str = ""
) -> Issue:
    _require_net_office(actor)
    submission = _lock(submission)
    if submission.status != PublicSubmission.Status.RECEIVED:
        raise IllegalTransition("该意见已处理过。")
    content = submission.content
    issue = services.register_issue(
        actor=actor,
        channel=Channel.NET,
        category=category or submission.category,
        requester=services.RequesterData(
            name=submission.name or f"匿名网民{submission.pk}", phone=submission.phone, kind=Requester.Kind.NETIZEN
        ),
        title=(title.strip() or title_from(content, TITLE_LENGTH)),
        content=content,
        received_on=timezone.localdate(submission.submitted_at),
    )
    NetIntake.objects.create(issue=issue, forum=submission.forum, handle=submission.name[:100])
    submission.status = PublicSubmission.Status.ACCEPTED
    submission.issue = issue
    submission.decided_by = actor
    submission.decided_at = timezone.now()
    submission.save(update_fields=["status", "issue", "decided_by", "decided_at"])
    return issue


# The history action of a merge; its label is registered for the timeline in apps.py.
MERGED_ACTION = "submission_merged"
MERGED_LABEL = "并入网上征集意见"


def _merge_target(actor: User, ref: str) -> Issue:
    """The issue named by ``ref``, locked, among those the actor may see: an unknown reference and one
    out of scope get the same answer (access.py), so a clerk never learns what else exists. A reference
    typed in lower case finds ZW2026-00012; one imported in lower case (a ledger's own) is found as typed."""
    found: dict[str, Issue] = {
        i.ref: i for i in issues_for(actor).select_for_update().filter(ref__in={ref, ref.upper()})
    }
    issue = found.get(ref) or found.get(ref.upper())
    if issue is None:
        raise InvalidInput(f"未找到编号为“{ref}”的诉求，或您无权查看。", field="issue_ref")
    if issue.channel != Channel.NET:
        raise InvalidInput(
            f"诉求 {ref} 属于{issue.get_channel_display()}，网上征集的意见只能并入政网直通车的诉求。", field="issue_ref"
        )
    if issue.status == Issue.Status.CLOSED:
        raise IllegalTransition(f"诉求 {ref} 已办结，不能并入；如需办理请受理为新诉求。", field="issue_ref")
    return issue


@transaction.atomic
def merge_submission(*, actor: User | None, submission: PublicSubmission, issue_ref: str, note: str = "") -> Issue:
    """并单: the suggestion raises what an open net issue already handles, so it joins that issue
    instead of becoming a new one. The issue's history records it (with the suggestion's text,
    phone and ID numbers masked: departments read the history); the submitter's tracking page then
    follows the issue's status.

    Locks the submission first, then the issue (the order ``accept_submission`` follows too), so two
    clerks triaging the same suggestion at once are serialised and the second is refused, and an
    issue closed meanwhile is seen closed."""
    office = _require_net_office(actor)
    ref = issue_ref.strip()
    if not ref:
        raise InvalidInput("请填写要并入的诉求编号。", field="issue_ref")
    submission = _lock(submission)
    if submission.status != PublicSubmission.Status.RECEIVED:
        raise IllegalTransition("该意见已处理过。")
    issue = _merge_target(office, ref)
    submission.status = PublicSubmission.Status.MERGED
    submission.merged_into = issue
    submission.decided_by = actor
    submission.decided_at = timezone.now()
    submission.save(update_fields=["status", "merged_into", "decided_by", "decided_at"])
    who = submission.name or "匿名网民"
    text = [
        f"网上征集意见（{timezone.localtime(submission.submitted_at):%Y-%m-%d}，{who}）并入本诉求：",
        redact(submission.content),
    ]
    if note.strip():
        text.append(f"说明：{note.strip()}")
    states.record(issue, MERGED_ACTION, actor=actor, note="\n".join(text))
    if issue.status in ANSWERED:
        # Merged into an issue already answered: the office calls this submitter back now (issue 19).
        services.pass_on_answer(
            actor=actor, lead=issue, others=_callbacks([submission]), key=f"submission-{submission.pk}"
        )
    return issue


def _callbacks(submissions: Sequence[PublicSubmission]) -> list[CallbackRequester]:
    return [
        CallbackRequester(
            channel=Channel.NET,
            label=f"网上征集意见（{timezone.localtime(s.submitted_at):%Y-%m-%d} 提交）",
            name=s.name or "匿名网民",
            phone=s.phone,
        )
        for s in submissions
    ]


def merged_requesters(issue_ids: list[int]) -> list[CallbackRequester]:
    """The public suggestions merged on the triage page into these issues (``ChannelPlugin``'s hook):
    their submitters are told the answer with the merged issues' requesters (issue 19). One query."""
    merged = PublicSubmission.objects.filter(status=PublicSubmission.Status.MERGED, merged_into_id__in=issue_ids)
    return _callbacks(list(merged.order_by("submitted_at", "pk")))


@transaction.atomic
def decline_submission(*, actor: User | None, submission: PublicSubmission, reason: str) -> PublicSubmission:
    _require_net_office(actor)
    if not reason.strip():
        raise InvalidInput("请填写不予受理的理由。", field="reason")
    submission = _lock(submission)
    if submission.status != PublicSubmission.Status.RECEIVED:
        raise IllegalTransition("该意见已处理过。")
    submission.status = PublicSubmission.Status.DECLINED
    # The reason is shown on the public tracking page: masked like everything published.
    submission.decline_reason = redact(reason.strip())
    submission.decided_by = actor
    submission.decided_at = timezone.now()
    submission.save(update_fields=["status", "decline_reason", "decided_by", "decided_at"])
    return submission


@transaction.atomic
def publish_reply(*, actor: User | None, submission: PublicSubmission, summary: str) -> PublicSubmission:
    """Publish the office's summary of the answer: only with the netizen's consent, only once the
    issue has an accepted reply, and always redacted (phone and ID numbers masked)."""
    _require_net_office(actor)
    submission = _lock(submission)
    if not submission.consent_to_publish:
        raise IllegalTransition("提交人未同意公开，不能公开答复。")
    if submission.issue is None or submission.issue.status not in ANSWERED:
        raise IllegalTransition("诉求尚未答复，不能公开。")
    if not summary.strip():
        raise InvalidInput("请填写公开答复摘要。", field="summary")
    submission.published_summary = redact(summary.strip())
    submission.published_at = timezone.now()
    submission.save(update_fields=["published_summary", "published_at"])
    return submission


@transaction.atomic
def unpublish_reply(*, actor: User | None, submission: PublicSubmission) -> PublicSubmission:
    _require_net_office(actor)
    submission = _lock(submission)
    submission.published_at = None
    submission.save(update_fields=["published_at"])
    return submission


# --- forums -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RepresentativeData:
    handle: str
    real_name: str = ""
    phone: str = ""


@dataclass(frozen=True)
class ForumData:
    title: str
    held_on: datetime.date
    place: str = ""
    chair: User | None = None
    chair_title: str = ""
    leaders: Sequence[User] = ()
    departments_present: Sequence[Department] = ()
    representatives: Sequence[RepresentativeData] = ()
    minutes: str = ""
    collect_from: datetime.date | None = None
    collect_until: datetime.date | None = None


def leader_name(user: User) -> str:
    return user.get_full_name() or user.get_username()


def _check_leaders(users: Sequence[User]) -> None:
    group = GROUP_NAMES[Role.LEADER]
    for user in users:
        if not user.is_active:
            raise InvalidInput(f"{leader_name(user)}的账号已停用，不能列为出席领导。", field="leaders")
        if not user.groups.filter(name=group).exists():
            raise InvalidInput(f"{leader_name(user)}不是县领导，不能列为出席领导。", field="leaders")


def _check_representatives(reps: Sequence[RepresentativeData]) -> list[RepresentativeData]:
    clean: list[RepresentativeData] = []
    seen: set[str] = set()
    for rep in reps:
        handle = rep.handle.strip()
        phone = rep.phone.strip().replace(" ", "").replace("-", "")
        if not handle:
            raise InvalidInput("网民代表须填写网名。", field="representatives")
        if handle in seen:
            raise InvalidInput(f"网民代表“{handle}”重复。", field="representatives")
        if phone and not (phone.isdigit() and 7 <= len(phone) <= 15):
            raise InvalidInput(f"网民代表“{handle}”的电话格式不正确。", field="representatives")
        seen.add(handle)
        clean.append(RepresentativeData(handle=handle[:100], real_name=rep.real_name.strip()[:50], phone=phone))
    return clean


def _check_forum(data: ForumData, *, forum: Forum | None) -> None:
    if not data.title.strip():
        raise InvalidInput("请填写座谈会名称。", field="title")
    # A forum dated in the past is one recorded afterwards (补录, issue 13 §3): accepted, and
    # _save_forum keeps the day it was entered. Only a date that cannot be right is refused.
    if data.held_on.year < 2000:
        raise InvalidInput("座谈会日期有误。", field="held_on")
    same_day = Forum.objects.filter(held_on=data.held_on)
    if forum is not None:
        same_day = same_day.exclude(pk=forum.pk)
    if same_day.exists():
        raise InvalidInput(f"{data.held_on:%Y-%m-%d} 已有座谈会。", field="held_on")
    if (data.collect_from is None) != (data.collect_until is None):
        raise InvalidInput("征集开始和截止日期需同时填写。", field="collect_from")
    if data.collect_from and data.collect_until:
        if data.collect_from > data.collect_until:
            raise InvalidInput("征集开始日期不能晚于截止日期。", field="collect_from")
        if data.collect_until > data.held_on:
            raise InvalidInput("征集截止日期不能晚于座谈会日期。", field="collect_until")
    if data.chair is not None:
        _check_leaders([data.chair])
    _check_leaders(data.leaders)
    for dept in data.departments_present:
        if dept.kind == Department.Kind.OFFICE:
            raise InvalidInput("到会部门应为县直部门或乡镇。", field="departments_present")


@transaction.atomic
def _save_forum(actor: User | None, forum: Forum | None, data: ForumData) -> Forum:
    _require_net_office(actor)
    if forum is not None:
        forum = Forum.objects.select_for_update().get(pk=forum.pk)
    _check_forum(data, forum=forum)
    reps = _check_representatives(data.representatives)
    forum = forum or Forum()
    forum.title = data.title.strip()
    today = timezone.localdate()
    if data.held_on < today and (forum.pk is None or forum.held_on != data.held_on):
        forum.recorded_on = today  # entered (or moved) after the day it was held: 补录
    elif data.held_on >= today:
        forum.recorded_on = None
    forum.held_on = data.held_on
    forum.place = data.place.strip()
    forum.chair = data.chair
    forum.chair_title = data.chair_title.strip()
    forum.minutes = data.minutes.strip()
    forum.collect_from, forum.collect_until = data.collect_from, data.collect_until
    forum.save()
    # The chair attends: keeping it among the leaders lets attendance count one relation.
    leaders = {u.pk: u for u in data.leaders}
    if data.chair is not None:
        leaders[data.chair.pk] = data.chair
    forum.leaders.set(leaders.values())
    forum.departments_present.set(data.departments_present)
    forum.representatives.all().delete()
    NetRepresentative.objects.bulk_create(
        NetRepresentative(forum=forum, handle=r.handle, real_name=r.real_name, phone=r.phone) for r in reps
    )
    return forum


def plan_forum(*, actor: User | None, data: ForumData) -> Forum:
    """Plan a forum (网信办 or an administrator), or record one already held (a date in the past:
    the forum keeps ``recorded_on``, the day it was entered)."""
    return _save_forum(actor, None, data)


def record_forum(*, actor: User | None, forum: Forum, data: ForumData) -> Forum:
    """Update a forum: who attended, the representatives, the minutes."""
    return _save_forum(actor, forum, data)


# --- batch intake after a forum ------------------------------------------------------------------


@dataclass(frozen=True)
class ForumRequest:
    """One speaker's request as entered right after the forum."""

    handle: str
    category: Category
    lead: Department
    content: str
    title: str = ""
    co: Sequence[Department] = ()
    onsite_answer: str = ""
    nature: str = Issue.Nature.SUGGESTION
    phone: str = ""
    duplicate: services.DuplicateChoice | None = None  # 并入 a suggested issue, or kept apart (issue 19)


@transaction.atomic
def record_forum_requests(*, actor: User | None, forum: Forum, rows: Sequence[ForumRequest]) -> list[Issue]:
    """Register and assign every request raised at a forum, all or nothing.

    Each row runs in its own savepoint so that every bad row is reported, not only the first;
    any error then rolls the whole batch back (the outer transaction)."""
    _require_net_office(actor)
    if forum.held_on > timezone.localdate():
        raise InvalidInput("座谈会尚未召开，不能登记现场诉求。", field="forum")
    if not rows:
        raise InvalidInput("请至少填写一行诉求。")

    # A forum recorded afterwards: its requests were handed to the departments present on the day,
    # so they are assigned on the forum's date too and the deadlines run from it (decision 0610).
    assigned_on = forum.held_on if forum.recorded_on else None

    def register(row: ForumRequest) -> Issue:
        content = row.content.strip()
        issue = services.register_at_intake(
            actor=actor,
            duplicate=row.duplicate,
            assigned_on=assigned_on,
            lead=row.lead,
            co=row.co,
            channel=Channel.NET,
            category=row.category,
            requester=services.RequesterData(name=row.handle, phone=row.phone, kind=Requester.Kind.NETIZEN),
            title=row.title.strip() or title_from(content, TITLE_LENGTH),
            content=content,
            received_on=forum.held_on,
            nature=row.nature,
            onsite_answer=row.onsite_answer,
        )
        NetIntake.objects.create(issue=issue, forum=forum, handle=row.handle.strip()[:100])
        return issue

    issues = all_or_none(rows, register)
    # assign_issue moved each issue on a locked copy: hand back the rows as stored, in row order.
    fresh = Issue.objects.in_bulk([i.pk for i in issues])
    return [fresh[i.pk] for i in issues]
