"""What the busiest pages cost in statements: the same for 5 rows as for 60 (issue 16, goal 3).

bench/profile_pages.py measures the same pages at 200,000 and 1,000,000 issues; these tests hold the
shape that keeps them cheap: no statement per row, the per-request fixed cost paid once, the ledger's
待审核 badge looked up for the page's rows only, and the hot topics clustered once while kept.
"""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from feedback import services
from feedback.models import Assignment
from tests.conftest import reply_pdf
from tests.factories import assigned

pytestmark = pytest.mark.django_db


def statements(client: Client, path: str) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200, path
    return [q["sql"] for q in captured.captured_queries]


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def add_issues(office, n: int, *, start: int = 0) -> list:
    today = timezone.localdate()
    made = []
    for i in range(start, start + n):
        issue, _ = assigned(
            office,
            lead=("zjj", "hqz")[i % 2],
            co=("jtj",),
            assigned_on=today - datetime.timedelta(days=(i // 2 % 2) * 40 + i % 7),  # half overdue
            name=f"群众{i}",
            title=f"学校门口修建人行天桥{i}",
        )
        made.append(issue)
    return made


def submit(head, issue) -> None:
    """The lead's reply, submitted and waiting for the office's review (待审核)."""
    assignment = issue.assignments.get(role=Assignment.Role.LEAD)
    services.acknowledge_assignment(actor=head, assignment=assignment)
    services.submit_reply(
        actor=head,
        assignment=assignment,
        file=reply_pdf(),
        signer_name="王局长",
        signer_title="局长",
        signed_on=timezone.localdate(),
        result="explained",
        summary="经测算，暂不具备建设条件。",
    )


PAGES = [
    ("netoffice", "/issues/"),
    ("netoffice", "/issues/?awaiting_review=1"),
    ("netoffice", "/issues/?awaiting_review=0"),
    ("netoffice", "/issues/?page=2"),
    ("zjj_head", "/inbox/"),
    ("zjj_head", "/inbox/?tab=in_progress"),
    ("zjj_head", "/inbox/?tab=overdue"),
    ("leader", "/dashboard/"),
]


def test_the_ledger_inbox_and_dashboard_take_as_many_statements_for_60_rows_as_for_5(
    netoffice, zjj_head, leader, settings
):
    settings.HOT_TOPICS_CACHE_SECONDS = 0  # clustered on every load: the dashboard's whole cost
    users = {"netoffice": netoffice, "zjj_head": zjj_head, "leader": leader}
    clients = {name: logged_in(user) for name, user in users.items()}
    issues = add_issues(netoffice, 5)
    submit(zjj_head, issues[0])
    few = {(who, path): len(statements(clients[who], path)) for who, path in PAGES}
    more = add_issues(netoffice, 55, start=5)
    for issue in more[::10]:
        if issue.assignments.get(role=Assignment.Role.LEAD).department.code == "zjj":
            submit(zjj_head, issue)
    many = {(who, path): len(statements(clients[who], path)) for who, path in PAGES}
    assert many == few


def test_the_issue_page_takes_as_many_statements_with_four_co_handlers_as_with_one(netoffice, leader, zjj_head):
    one, _ = assigned(netoffice, lead="zjj", co=("jtj",))
    four, _ = assigned(netoffice, lead="zjj", co=("jtj", "hqz", "jyj", "gsz"))
    for issue in (one, four):
        submit(zjj_head, issue)
    for user in (netoffice, leader, zjj_head):
        client = logged_in(user)
        assert len(statements(client, f"/issues/{one.pk}/")) == len(statements(client, f"/issues/{four.pk}/"))


def test_a_page_reads_the_user_with_its_membership_and_department_in_one_statement(netoffice):
    client = logged_in(netoffice)
    sql = statements(client, "/issues/")
    user_reads = [s for s in sql if 'FROM "auth_user"' in s]
    assert len(user_reads) == 1
    assert '"feedback_membership"' in user_reads[0] and '"feedback_department"' in user_reads[0]
    assert not any(s.lstrip().startswith('SELECT "feedback_membership"') for s in sql)
    assert not any('"auth_group"' in s for s in sql if s is not user_reads[0])  # the role groups too
    assert not any('"feedback_notification"' in s for s in sql if s is not user_reads[0])  # and the bell


def test_the_bell_counts_the_unread_notifications_read_with_the_user(netoffice, rf):
    from feedback.context_processors import UNREAD, portal
    from feedback.models import Notification

    client = logged_in(netoffice)
    assert '<span class="unread">' not in client.get("/issues/").content.decode()
    for n in range(2):
        Notification.objects.create(recipient=netoffice, kind="assigned", deadline_version=n + 1, title="通知", body="")
    assert '<span class="unread">2</span>' in client.get("/issues/").content.decode()
    client.post("/notifications/read/")
    assert '<span class="unread">' not in client.get("/issues/").content.decode()
    # A page drawn after a write (a POST) counts again; a GET trusts the count read with the user.
    Notification.objects.create(recipient=netoffice, kind="assigned", deadline_version=9, title="通知", body="")
    setattr(netoffice, UNREAD, 5)
    for method, expected in (("get", 5), ("post", 1)):
        request = getattr(rf, method)("/")
        request.user = netoffice
        assert portal(request)["unread_notifications"] == expected


def test_a_leader_taken_out_of_the_group_loses_the_dashboard_at_the_next_request(leader, admin_user):
    """The role groups are read with the session's user on every request (access.role_group_flags), not
    kept in the session: a change of role counts at once."""
    from django.contrib.auth.models import Group

    from feedback.access import GROUP_NAMES, Role

    client = logged_in(leader)
    assert client.get("/dashboard/").status_code == 200
    leader.groups.remove(Group.objects.get(name=GROUP_NAMES[Role.LEADER]))
    assert client.get("/dashboard/").status_code == 404
    admin_user.is_superuser = False
    admin_user.save()
    admin = logged_in(admin_user)
    assert admin.get("/dashboard/").status_code == 200  # still in the admin group
    admin_user.groups.clear()
    assert admin.get("/dashboard/").status_code == 404
    from feedback.security.auth import SESSION_USER

    # Its statement is built once per process, its template never evaluated: no user is kept there.
    assert SESSION_USER._template is None or SESSION_USER._template._result_cache is None


def test_the_ledger_marks_awaiting_review_for_its_page_rows_only(netoffice, zjj_head):
    issues = add_issues(netoffice, 3)
    submit(zjj_head, issues[0])
    client = logged_in(netoffice)
    sql = statements(client, "/issues/")
    # The page's rows are read without the EXISTS over assignments, which PostgreSQL answers by
    # hashing every submitted assignment of the county whatever the LIMIT; the badge is looked up
    # for the page's ids in one statement.
    page_reads = [s for s in sql if 'FROM "feedback_issue"' in s and "LIMIT" in s and "COUNT(" not in s]
    assert page_reads and not any('"status" = ' in s and "EXISTS" in s for s in page_reads)
    page = client.get("/issues/").content.decode()
    badge = 'st-awaiting-review">有回复待审核'
    assert page.count(badge) == 1
    row = page[page.index(issues[0].ref) :]
    assert badge in row[: row.index("</tr>")]


def test_the_dashboards_hot_topics_cost_no_statement_while_kept(leader, netoffice, settings):
    add_issues(netoffice, 5)
    client = logged_in(leader)
    settings.HOT_TOPICS_CACHE_SECONDS = 0
    computed = len(statements(client, "/dashboard/"))
    settings.HOT_TOPICS_CACHE_SECONDS = 300
    statements(client, "/dashboard/")  # clusters and keeps
    kept = len(statements(client, "/dashboard/"))
    assert kept <= computed - 2  # the period's texts and the townships they are assigned to


def test_the_inbox_pages_its_tab_by_the_tabs_count_and_counts_again_only_for_a_search(netoffice, zjj_head):
    from feedback.views.common import PAGE_SIZE

    add_issues(netoffice, 2 * PAGE_SIZE + 6)  # pending: every other one led by zjj
    client = logged_in(zjj_head)
    pending = Assignment.objects.filter(department__code="zjj", status="pending").count()
    assert pending > PAGE_SIZE
    sql = statements(client, "/inbox/")
    assert not [s for s in sql if s.startswith('SELECT COUNT(*) AS "__count" FROM "feedback_assignment"')]
    page = client.get("/inbox/").context["page"]
    assert page.paginator.count == pending and page.paginator.num_pages == 2
    assert len(client.get("/inbox/?page=2").context["page"].object_list) == pending - PAGE_SIZE
    searched = statements(client, "/inbox/?q=天桥")
    assert [s for s in searched if s.startswith('SELECT COUNT(*) AS "__count" FROM "feedback_assignment"')]
    assert client.get("/inbox/?q=不存在的标题").context["page"].paginator.count == 0


def test_the_inbox_counts_are_each_tabs_own_count(netoffice, zjj_head):
    """inbox_counts reads per status and the open rows' due dates; each count must stay the tab's rows."""
    from feedback import access
    from feedback.selectors import inbox_counts, inbox_filters

    issues = add_issues(netoffice, 12)  # half overdue, half due later; led by zjj or hqz, jtj co-handling
    for issue in issues[0:8:2]:  # led by zjj
        submit(zjj_head, issue)  # submitted: 办理中
    lead = issues[8].assignments.get(department__code="zjj")
    services.acknowledge_assignment(actor=zjj_head, assignment=lead)
    services.accept_reply(actor=netoffice, reply=issues[0].assignments.get(role="lead").replies.get())  # 已回复
    today = timezone.localdate()
    for soon in (today + datetime.timedelta(days=3), today + datetime.timedelta(days=40)):
        rows = access.assignments_for(zjj_head)
        expected = {tab: rows.filter(q).count() for tab, q in inbox_filters(today, soon).items()}
        assert inbox_counts(rows, today, soon) == expected
        assert all(expected.values()) or soon == today + datetime.timedelta(days=3)
