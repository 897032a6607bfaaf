"""Writes of the net channel's public intake: submit, accept (through the core), decline, publish.

Acceptance goes through ``feedback.services.register_issue``, so an accepted suggestion is an
ordinary issue with its history; the channel keeps the link (``NetIntake``) and the public face
(``PublicSubmission``: tracking code, consent, the redacted summary the office chose to publish).
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from feedback import services
from feedback.access import can_register, registrable_channels
from feedback.errors import IllegalTransition, InvalidInput, NotPermitted
from feedback.models import Category, Channel, Issue, Requester
from feedback.privacy import redact

from .models import Forum, NetIntake, PublicSubmission

TITLE_LENGTH = 30
# Issues that have an answer the office may make public.
ANSWERED = (Issue.Status.REPLIED, Issue.Status.FOLLOWED_UP, Issue.Status.CLOSED)


def _require_net_office(actor: User | None) -> None:
    if actor is None or not can_register(actor) or Channel.NET not in registrable_channels(actor):
        raise NotPermitted("只有县委网信办可以处理网上征集的意见。")


def open_forum(today: object = None) -> Forum | None:
    """The forum whose collection window is open today, if any."""
    today = today or timezone.localdate()
    return (Forum.objects.filter(collect_from__lte=today, collect_until__gte=today)
            .order_by("held_on").first())


@transaction.atomic
def submit_suggestion(*, category: Category, content: str, name: str = "", phone: str = "",
                      consent_to_publish: bool = False) -> PublicSubmission:
    if not category.active:
        raise InvalidInput(f"分类“{category.name}”已停用。", field="category")
    if not content.strip():
        raise InvalidInput("请填写意见建议。", field="content")
    return PublicSubmission.objects.create(
        forum=open_forum(), category=category, content=content.strip(), name=name.strip(),
        phone=phone.strip(), consent_to_publish=consent_to_publish,
    )


def _lock(submission: PublicSubmission) -> PublicSubmission:
    return PublicSubmission.objects.select_for_update().get(pk=submission.pk)


@transaction.atomic
def accept_submission(*, actor: User | None, submission: PublicSubmission,
                      category: Category | None = None, title: str = "") -> Issue:
    _require_net_office(actor)
    submission = _lock(submission)
    if submission.status != PublicSubmission.Status.RECEIVED:
        raise IllegalTransition("该意见已处理过。")
    content = submission.content
    issue = services.register_issue(
        actor=actor, channel=Channel.NET, category=category or submission.category,
        requester=services.RequesterData(name=submission.name or f"匿名网民{submission.pk}",
                                         phone=submission.phone, kind=Requester.Kind.NETIZEN),
        title=(title.strip() or content.replace("\n", " ")[:TITLE_LENGTH]),
        content=content, received_on=timezone.localdate(submission.submitted_at),
    )
    NetIntake.objects.create(issue=issue, forum=submission.forum, handle=submission.name[:100])
    submission.status = PublicSubmission.Status.ACCEPTED
    submission.issue = issue
    submission.decided_by = actor
    submission.decided_at = timezone.now()
    submission.save(update_fields=["status", "issue", "decided_by", "decided_at"])
    return issue


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
