"""What only PostgreSQL does for us: the append-only trigger and row locks under real concurrency."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.utils import timezone

from feedback import services
from feedback.errors import ConcurrentChange, DuplicateReference
from feedback.models import HistoryEntry, Issue, SignedReply
from tests.concurrency import run_together
from tests.conftest import reply_pdf
from tests.factories import assigned, register

pytestmark = [pytest.mark.postgres]


@pytest.mark.django_db
def test_the_history_table_refuses_raw_updates_and_deletes(netoffice):
    from django.db.utils import DatabaseError

    register(netoffice)
    for sql in ("UPDATE feedback_historyentry SET note = 'x'", "DELETE FROM feedback_historyentry"):
        with pytest.raises(DatabaseError, match="只能追加"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    assert HistoryEntry.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_people_submitting_at_once_one_reply_wins_the_other_is_told(reference, netoffice, zjj_head, zjj_staff):
    for _ in range(10):
        _, (a,) = assigned(netoffice)

        def submit(user, a=a):
            return services.submit_reply(
                actor=user,
                assignment=a,
                file=reply_pdf(),
                signer_name="王",
                signer_title="局长",
                signed_on=timezone.localdate(),
                result="resolved",
                summary="已解决",
            )

        outcomes = run_together(lambda: submit(zjj_head), lambda: submit(zjj_staff))
        assert sorted(type(o).__name__ for o in outcomes) == ["ConcurrentChange", "SignedReply"], outcomes
        assert any(isinstance(o, ConcurrentChange) and "请勿重复提交" in o.message for o in outcomes)
        assert SignedReply.objects.filter(assignment=a).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_clerks_registering_one_reference_at_once_leave_one_issue(reference, netoffice, ezoneoffice):
    for n in range(10):
        ref = f"RACE-{n}"
        outcomes = run_together(*[lambda ref=ref: register(netoffice, ref=ref)] * 2)
        assert sorted(type(o).__name__ for o in outcomes) == ["DuplicateReference", "Issue"], outcomes
        assert Issue.objects.filter(ref=ref).count() == 1
    assert all(isinstance(o, (Issue, DuplicateReference)) for o in outcomes)


@pytest.mark.django_db(transaction=True)
def test_accepting_two_co_handled_replies_at_once_marks_the_issue_replied_once(
    reference, netoffice, zjj_head, jyj_head
):
    issue, (lead, co) = assigned(netoffice, co=("jyj",))
    replies = [
        services.submit_reply(
            actor=user,
            assignment=a,
            file=reply_pdf(),
            signer_name="王",
            signer_title="局长",
            signed_on=timezone.localdate(),
            result="resolved",
            summary="已解决",
        )
        for user, a in ((zjj_head, lead), (jyj_head, co))
    ]
    outcomes = run_together(*(lambda r=r: services.accept_reply(actor=netoffice, reply=r) for r in replies))
    assert all(isinstance(o, SignedReply) for o in outcomes), outcomes
    issue.refresh_from_db()
    assert issue.status == Issue.Status.REPLIED
    assert issue.history.filter(action="all_replied").count() == 1
