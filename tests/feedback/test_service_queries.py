"""The services' cost in queries, and that none of it is statistics work.

The rollup is kept current out of the write path (``tasks.refresh_stats_rollup``, every minute): a
service writes its rows, the triggers of migration 0008 mark the statistics keys, and that is all.
docs/architecture.md ("The write path") quotes these counts, before and after the change.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from feedback import services
from feedback.figures import rollup
from feedback.models import Department, StatsRollup, StatsRollupDirtyKey
from tests.conftest import reply_pdf
from tests.factories import register

pytestmark = pytest.mark.django_db

ROLLUP_TABLES = (
    "feedback_statsrollup",
    "feedback_statsmonthrollup",
    "feedback_statsdepartment",
    "feedback_statsopendue",
    "feedback_statsmonthrequesters",
    "feedback_statsrollupdirtykey",
)

# The most queries each service may take for one issue with one assignment (measured on PostgreSQL;
# SQLite takes the same or fewer). A service that starts doing rollup work again exceeds them.
# Before the rollup left the write path they took 27, 31, 8, 10 and 26 (11, 11, 1, 1 and 11 of them
# rollup work).
# assign_issue and accept_reply move the issue: one more query each (issue 19) for the issues merged into
# it, which follow its status (states.move → follow_lead).
# accept_reply: one more (issue 19) to find the requests merged into the issue it answers, which hear the
# answer (merging.pass_on_answer; nothing more when there are none), and one more for the public
# suggestions merged into it on the 政网 triage page (channels.merged_requesters), told the answer too.
# submit_reply: 9 + 2 for the channel office's 待审核 notice (its members, one INSERT for all; issue 13).
BUDGET = {"register_issue": 12, "assign_issue": 19, "acknowledge_assignment": 7, "submit_reply": 11, "accept_reply": 16}


def _rollup_queries(captured: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in captured.captured_queries if any(t in q["sql"] for t in ROLLUP_TABLES)]


def test_each_service_stays_within_its_query_budget_and_does_no_rollup_work(netoffice, zjj_head):
    counts: dict[str, int] = {}
    rollup_work: dict[str, list[str]] = {}

    def measure(name, call):
        with CaptureQueriesContext(connection) as captured:
            result = call()
        counts[name] = len(captured.captured_queries)
        rollup_work[name] = _rollup_queries(captured)
        return result

    issue = measure("register_issue", lambda: register(netoffice))
    (a,) = measure(
        "assign_issue",
        lambda: services.assign_issue(actor=netoffice, issue=issue, lead=Department.objects.get(code="zjj"), co=[]),
    )
    measure("acknowledge_assignment", lambda: services.acknowledge_assignment(actor=zjj_head, assignment=a))
    reply = measure(
        "submit_reply",
        lambda: services.submit_reply(
            actor=zjj_head,
            assignment=a,
            file=reply_pdf(),
            signer_name="王局长",
            signer_title="局长",
            signed_on=timezone.localdate(),
            result="explained",
            summary="经测算，暂不具备建设条件。",
        ),
    )
    measure("accept_reply", lambda: services.accept_reply(actor=netoffice, reply=reply))

    print("queries per service call:", counts)
    assert rollup_work == {name: [] for name in counts}
    assert {name: counts[name] <= BUDGET[name] for name in counts} == dict.fromkeys(counts, True), counts


def test_the_minute_refresh_sums_what_the_services_marked(netoffice):
    register(netoffice)
    assert StatsRollupDirtyKey.objects.exists()  # marked by the trigger, not summed by the service
    assert not StatsRollup.objects.exists()
    assert rollup.refresh() == 1
    assert not StatsRollupDirtyKey.objects.exists()
    assert StatsRollup.objects.get().issues == 1


def test_every_process_knows_the_tasks_the_services_queue_by_name():
    """A web process or a command never imports feedback.tasks itself; the services look tasks up
    by name (services.queue), so the app registers them when Django starts."""
    import os
    import subprocess
    import sys

    script = (
        "import django; django.setup(); from celery import current_app; "
        "print(sorted(n for n in current_app.tasks if n.startswith('feedback.tasks.')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "zhitongche.test_settings"},
    )
    assert "'feedback.tasks.build_export'" in out.stdout and "'feedback.tasks.send_pending_emails'" in out.stdout
