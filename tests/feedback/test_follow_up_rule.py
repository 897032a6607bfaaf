"""回访 before 办结 (issue 13 §2, docs/decisions/0600): every order of the office's moves.

Every sequence of up to four of 审核通过 / 回访 / 未能回访 / 办结 / 重办 on one issue with one or two
assignments is walked depth first (a savepoint per step, rolled back after its subtree). After each
step: the service either moved as the rules below say, or refused with a named error in Chinese and
wrote nothing; and the statistics summary, as the API computes it, equals a recount of the issue's
history (an independent reading of what happened, not of the issue's columns).
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field, replace

import pytest
from django.db import transaction
from django.utils import timezone

from feedback import services
from feedback.errors import IllegalTransition, InvalidInput, WorkflowError
from feedback.figures import statistics
from feedback.models import Assignment, HistoryEntry, Issue, SignedReply
from tests.conftest import make_user, reply_pdf
from tests.factories import assigned, register

ACTIONS = ("accept", "follow_up", "skip", "close", "reopen")
DEPTH = 4
# A follow-up recorded again replaces the last one: the n-th of a sequence gives the n-th of these.
RATINGS_IN_TURN = ("unreachable", "dissatisfied", "satisfied", "basically")
LABELS = {value: str(label) for value, label in Issue.Satisfaction.choices}
RATED = {"satisfied", "basically", "dissatisfied"}
CHINESE = re.compile(r"[\u4e00-\u9fff]")


@dataclass(frozen=True)
class Model:
    """What the rules say the issue is: DOMAIN.md's workflow plus the 回访 rule."""

    status: str = Issue.Status.ASSIGNED
    accepted: frozenset[int] = frozenset()  # assignment indexes with an accepted reply
    rating: str = ""
    skipped: bool = False
    follow_ups: int = 0
    handled: tuple[int, ...] = field(default=(0,))

    def expect(self, action: str, assignments: int) -> Model | None:
        """The model after ``action``, or None when the rules refuse it (``self`` for a no-op)."""
        open_ = self.status in (Issue.Status.REPLIED, Issue.Status.FOLLOWED_UP)
        if action == "accept":
            waiting = [n for n in range(assignments) if n not in self.accepted]
            if not waiting:
                return self  # every reply already accepted: nothing to review
            accepted = self.accepted | {waiting[0]}
            done = len(accepted) == assignments and self.status == Issue.Status.ASSIGNED
            return replace(self, accepted=accepted, status=Issue.Status.REPLIED if done else self.status)
        if action == "follow_up":
            if not open_:
                return None
            rating = RATINGS_IN_TURN[self.follow_ups % len(RATINGS_IN_TURN)]
            return replace(
                self,
                status=Issue.Status.FOLLOWED_UP,
                rating=rating,
                follow_ups=self.follow_ups + 1,
                skipped=self.skipped and rating == "unreachable",
            )
        if action == "skip":
            return replace(self, skipped=True) if open_ and self.rating not in RATED else None
        if action == "close":
            if self.status == Issue.Status.CLOSED:
                return self
            return (
                replace(self, status=Issue.Status.CLOSED) if open_ and (self.rating in RATED or self.skipped) else None
            )
        if action == "reopen":
            if self.status not in (Issue.Status.REPLIED, Issue.Status.FOLLOWED_UP, Issue.Status.CLOSED):
                return None
            # 重办 restarts the lead (index 0); the others keep their accepted replies.
            return replace(self, status=Issue.Status.ASSIGNED, accepted=self.accepted - {0}, rating="", skipped=False)
        raise AssertionError(action)


def _do(action: str, issue: Issue, handlers: list[object], office: object, follow_ups: int) -> None:
    issue.refresh_from_db()
    if action == "accept":
        waiting = [a for a in issue.assignments.order_by("id") if a.status != Assignment.Status.ACCEPTED]
        if not waiting:
            services.accept_reply(actor=office, reply=SignedReply.objects.filter(assignment__issue=issue).latest("id"))
            return
        a = waiting[0]
        reply = a.replies.filter(review_status=SignedReply.Review.PENDING).first()
        if reply is None:  # the department answers again after 重办
            reply = services.submit_reply(
                actor=handlers[issue.assignments.filter(id__lt=a.id).count()],
                assignment=a,
                file=reply_pdf(),
                signer_name="王局长",
                signer_title="局长",
                signed_on=a.assigned_on,
                result="explained",
                summary="已答复",
            )
        services.accept_reply(actor=office, reply=reply)
    elif action == "follow_up":
        rating = RATINGS_IN_TURN[follow_ups % len(RATINGS_IN_TURN)]
        services.record_follow_up(actor=office, issue=issue, satisfaction=rating, comment="电话回访")
    elif action == "skip":
        services.record_follow_up_skipped(actor=office, issue=issue, reason="refused")
    elif action == "close":
        services.close_issue(actor=office, issue=issue)
    elif action == "reopen":
        services.reopen_issue(actor=office, issue=issue, reason="群众不满意，重新办理")


def recount(issue: Issue) -> dict[str, int]:
    """The summary's counts for this one issue, read from its history only."""
    rating, skipped, closed, rehandled = "", False, False, False
    last_move: dict[int, str] = {}
    for h in HistoryEntry.objects.filter(issue=issue).order_by("at", "id"):
        if h.assignment_id is not None and h.action in ("submit_reply", "accept_reply", "return_reply", "rehandle"):
            last_move[h.assignment_id] = h.action
        if h.action == "follow_up":
            rating = next(v for v, label in LABELS.items() if h.note.split("：")[0] == label)
            skipped = skipped and rating == "unreachable"
        elif h.action == "follow_up_skipped":
            skipped = True
        elif h.action == "close":
            closed = True
        elif h.action == "reopen":
            rating, skipped, closed, rehandled = "", False, False, True
        elif h.action == "return_reply":
            rehandled = True
    assignments = list(issue.assignments.values_list("id", flat=True))
    replied = sum(1 for a in assignments if last_move.get(a) == "accept_reply")
    return {
        "issues": 1,
        "assignments": len(assignments),
        "assignments_replied": replied,
        "replied": int(replied == len(assignments) > 0),
        "closed": int(closed),
        "followed_up": int(rating != ""),
        "rated": int(rating in RATED),
        "satisfied": int(rating in ("satisfied", "basically")),
        "dissatisfied": int(rating == "dissatisfied"),
        "unreachable": int(rating == "unreachable"),
        "follow_up_skipped": int(skipped),
        "rehandled": int(rehandled),
    }


def figures(office: object) -> dict[str, int]:
    """The summary as GET /api/v1/stats/summary/ computes it for the office (its scoped cohort)."""
    issues, _ = statistics.scoped(office)
    summary = statistics.summary(statistics.cohort(issues), as_of=timezone.localdate())
    return {name: getattr(summary, name) for name in FIGURES}


FIGURES = (
    "issues",
    "assignments",
    "assignments_replied",
    "replied",
    "closed",
    "followed_up",
    "rated",
    "satisfied",
    "dissatisfied",
    "unreachable",
    "follow_up_skipped",
    "rehandled",
)


def _snapshot(issue: Issue) -> tuple[object, ...]:
    issue.refresh_from_db()
    return (
        issue.status,
        issue.satisfaction,
        issue.follow_up_skipped,
        issue.closed_on,
        HistoryEntry.objects.filter(issue=issue).count(),
        tuple(issue.assignments.order_by("id").values_list("status", flat=True)),
    )


@pytest.mark.parametrize(
    ("co", "depth"),
    # Two assignments need two 审核通过 before anything else moves: one step deeper.
    [((), DEPTH), (("jyj",), DEPTH + 1)],
    ids=["one assignment", "lead and co-handler"],
)
def test_every_order_of_review_follow_up_close_and_rehandle_keeps_the_rule_and_the_figures(netoffice, co, depth):
    received = timezone.localdate() - datetime.timedelta(days=20)
    handlers = [make_user("zjj_loop", department="zjj"), *(make_user(f"{c}_loop", department=c) for c in co)]
    issue, made = assigned(netoffice, co=co, assigned_on=received)
    for who, a in zip(handlers, made, strict=True):
        services.submit_reply(
            actor=who,
            assignment=a,
            file=reply_pdf(),
            signer_name="王局长",
            signer_title="局长",
            signed_on=received,
            result="explained",
            summary="已答复",
        )
    walked = refused = 0

    def walk(model: Model, path: tuple[str, ...]) -> None:
        nonlocal walked, refused
        if len(path) == depth:
            return
        for action in ACTIONS:
            expected = model.expect(action, len(made))
            point = transaction.savepoint()
            before = _snapshot(issue)
            try:
                _do(action, issue, handlers, netoffice, model.follow_ups)
            except WorkflowError as exc:
                assert expected is None, (path, action, exc.message)
                assert isinstance(exc, IllegalTransition | InvalidInput), (path, action)
                assert CHINESE.search(exc.message), exc.message
                assert _snapshot(issue) == before, (path, action)  # nothing written
                refused += 1
                transaction.savepoint_rollback(point)
                continue
            walked += 1
            assert expected is not None, (path, action, "moved, but the rules refuse it")
            after = _snapshot(issue)
            assert (after[0], after[1], bool(after[2])) == (expected.status, expected.rating, expected.skipped), (
                path,
                action,
            )
            assert figures(netoffice) == recount(issue), (*path, action)
            walk(expected, (*path, action))
            transaction.savepoint_rollback(point)

    assert figures(netoffice) == recount(issue)
    walk(Model(), ())
    # Both branches were taken many times: the walk is not vacuous.
    assert walked >= 60 and refused >= 25, (walked, refused)


def test_closing_before_the_follow_up_is_refused_with_the_way_out(netoffice, zjj_head):
    issue, (a,) = assigned(netoffice)
    reply = services.submit_reply(
        actor=zjj_head,
        assignment=a,
        file=reply_pdf(),
        signer_name="王局长",
        signer_title="局长",
        signed_on=a.assigned_on,
        result="resolved",
        summary="已解决",
    )
    services.accept_reply(actor=netoffice, reply=reply)
    with pytest.raises(IllegalTransition, match="尚未回访，不能办结") as caught:
        services.close_issue(actor=netoffice, issue=issue)
    assert "未能回访" in caught.value.message  # the message names the way out

    services.record_follow_up(actor=netoffice, issue=issue, satisfaction="unreachable")
    with pytest.raises(IllegalTransition, match="回访未联系上，还不能办结"):
        services.close_issue(actor=netoffice, issue=issue)

    services.record_follow_up_skipped(actor=netoffice, issue=issue, reason="unreachable", note="三次未接")
    services.close_issue(actor=netoffice, issue=issue)
    issue.refresh_from_db()
    assert (issue.status, issue.satisfaction, issue.follow_up_skipped) == ("closed", "unreachable", "unreachable")
    assert list(issue.history.values_list("action", flat=True))[-3:] == ["follow_up", "follow_up_skipped", "close"]


def test_other_as_the_reason_needs_a_note_and_an_unknown_reason_is_refused(netoffice, zjj_head):
    issue, (a,) = assigned(netoffice)
    services.accept_reply(
        actor=netoffice,
        reply=services.submit_reply(
            actor=zjj_head,
            assignment=a,
            file=reply_pdf(),
            signer_name="王局长",
            signer_title="局长",
            signed_on=a.assigned_on,
            result="resolved",
            summary="已解决",
        ),
    )
    with pytest.raises(InvalidInput, match="其他") as caught:
        services.record_follow_up_skipped(actor=netoffice, issue=issue, reason="other", note="  ")
    assert caught.value.field == "follow_up_skip_note"
    with pytest.raises(InvalidInput, match="未能回访的原因"):
        services.record_follow_up_skipped(actor=netoffice, issue=issue, reason="busy")
    services.record_follow_up_skipped(actor=netoffice, issue=issue, reason="other", note="诉求人已去世")
    issue.refresh_from_db()
    assert (issue.follow_up_skipped, issue.follow_up_skip_note) == ("other", "诉求人已去世")


def test_a_rating_after_a_recorded_reason_replaces_it(netoffice, zjj_head):
    issue, (a,) = assigned(netoffice)
    services.accept_reply(
        actor=netoffice,
        reply=services.submit_reply(
            actor=zjj_head,
            assignment=a,
            file=reply_pdf(),
            signer_name="王局长",
            signer_title="局长",
            signed_on=a.assigned_on,
            result="resolved",
            summary="已解决",
        ),
    )
    services.record_follow_up_skipped(actor=netoffice, issue=issue, reason="moved_away")
    services.record_follow_up(actor=netoffice, issue=issue, satisfaction="basically")  # the requester called back
    issue.refresh_from_db()
    assert (issue.satisfaction, issue.follow_up_skipped) == ("basically", "")
    with pytest.raises(IllegalTransition, match="无需登记未能回访"):
        services.record_follow_up_skipped(actor=netoffice, issue=issue, reason="refused")


def test_only_the_channel_office_records_a_reason(netoffice, ezoneoffice, zjj_head):
    issue = register(netoffice)
    with pytest.raises(WorkflowError, match="直通车办公室"):
        services.record_follow_up_skipped(actor=ezoneoffice, issue=issue, reason="refused")
    with pytest.raises(IllegalTransition, match="书面回复通过审核后"):
        services.record_follow_up_skipped(actor=netoffice, issue=issue, reason="refused")
