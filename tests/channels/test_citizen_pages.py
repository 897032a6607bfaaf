"""The 政民 channel in the browser (Django's test client): plan a no-meeting week and its roster,
hold a visit, enter the requests raised there in one batch, and the departments find them in their
inbox; bad input refused with its reason; the accused unit sees nothing; 404 out of scope; bounded
queries on every list."""

from __future__ import annotations

import datetime
import re

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from channels_citizen import services
from channels_citizen.models import CitizenIntake, CourtyardMeeting, NoMeetingWeek, RosterEntry, Village, Visit
from feedback.access import Role
from feedback.models import Assignment, Category, Issue, Requester
from tests.conftest import make_user
from tests.factories import register

from .citizen_factories import VillageFactory, dept, petition, roster_entry, visit, week

pytestmark = pytest.mark.django_db
D = datetime.date
NOW = datetime.datetime(2026, 11, 29, 10, 0, tzinfo=datetime.UTC)  # Sunday; the week is 11-24 … 11-30


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def login(client: Client, user: object) -> Client:
    client.force_login(user)
    return client


def text(response) -> str:
    return response.content.decode()


def management(total: int = 8) -> dict[str, str]:
    return {
        "rows-TOTAL_FORMS": str(total),
        "rows-INITIAL_FORMS": "0",
        "rows-MIN_NUM_FORMS": "0",
        "rows-MAX_NUM_FORMS": "100",
    }


def row(i: int, **overrides: object) -> dict[str, str]:
    values = {
        "requester_name": f"信访人{i}",
        "requester_phone": f"1381234{i:04d}",
        "village": "",
        "category": Category.objects.get(code="housing").pk,
        "nature": "help",
        "accused_department": "",
        "departments": "住建局",
        "title": "",
        "content": f"第{i}条诉求：搬迁安置补偿问题",
    }
    values.update(overrides)
    return {f"rows-{i}-{k}": str(v) for k, v in values.items()}


@pytest.fixture
def zrj_head(reference):
    return make_user("zrj_head", department="zrj", role=Role.DEPARTMENT, is_head=True)


# --- the whole cycle --------------------------------------------------------------------------------


def test_plan_hold_enter_assign_and_the_departments_find_the_requests_in_their_inbox(
    client, petitionoffice, leader, zjj_head, hqz_head
):
    office = login(client, petitionoffice)
    village = VillageFactory(township=dept("hqz"), name="迴龙洲村")
    old_case = register(petitionoffice, channel="citizen", title="迴龙洲搬迁安置十年未决")

    # Plan: the week list proposes the default dates; generate, confirm, put a leader on the roster.
    page = text(office.get(reverse("channels_citizen:week_list")))
    assert "2026-11-24 至 2026-11-30" in page and "生成无会周" in page
    response = office.post(reverse("channels_citizen:week_plan"), {"month": "2026-11"})
    the_week = NoMeetingWeek.objects.get(month=D(2026, 11, 1))
    assert response.status_code == 302 and response["Location"] == reverse(
        "channels_citizen:week_detail", args=[the_week.pk]
    )
    response = office.post(
        reverse("channels_citizen:week_confirm", args=[the_week.pk]),
        {"starts_on": "2026-11-24", "ends_on": "2026-11-30"},
    )
    assert response.status_code == 302
    response = office.post(
        reverse("channels_citizen:roster_create", args=[the_week.pk]),
        {"leader": leader.pk, "township": dept("hqz").pk, "departments": [dept("zjj").pk, dept("jtj").pk]},
    )
    assert response.status_code == 302
    page = text(office.get(reverse("channels_citizen:week_detail", args=[the_week.pk])))
    assert "已确认" in page and "黄桥镇" in page and "县住房和城乡建设局、县交通运输局" in page

    # Hold: a village visit with a lawyer, a case brought down, a courtyard meeting, the case of the week.
    response = office.post(
        reverse("channels_citizen:visit_create", args=[the_week.pk]),
        {
            "kind": "village",
            "township": dept("hqz").pk,
            "village": village.pk,
            "held_on": "2026-11-25",
            "leader": leader.pk,
            "lawyer_present": "on",
            "lawyer_name": "刘律师",
            "cases": old_case.ref,
            "case_of_week": old_case.ref,
            "notes": "入户走访",
            "meeting_place": "村部院坝",
            "meeting_attendance": "36",
            "meeting_outcome": "达成分步解决方案",
        },
    )
    assert response.status_code == 302, text(response)
    the_visit = Visit.objects.get()
    assert response["Location"] == reverse("channels_citizen:visit_detail", args=[the_visit.pk])
    assert (the_visit.village, the_visit.leader, the_visit.lawyer_name) == (village, leader, "刘律师")
    assert list(the_visit.cases.all()) == [old_case]
    assert CourtyardMeeting.objects.get().attendance == 36
    assert NoMeetingWeek.objects.get().case_of_week == old_case

    # Enter: the requests raised there, in one batch, registered and assigned at once.
    url = reverse("channels_citizen:visit_intake", args=[the_visit.pk])
    assert 'name="rows-7-requester_name"' in text(office.get(url))
    response = office.post(
        url,
        {
            **management(),
            **row(0, village=village.pk, departments="住建局；jtj"),
            **row(
                1,
                departments="黄桥镇",
                nature="report",
                accused_department=dept("zrj").pk,
                category=Category.objects.get(code="rural").pk,
                content="举报违规占用耕地",
            ),
        },
    )
    assert response.status_code == 302, text(response)
    first, second = Issue.objects.filter(citizen_intake__visit=the_visit).order_by("ref")
    assert (first.channel, first.received_on, first.status) == ("citizen", D(2026, 11, 25), "assigned")
    assert first.citizen_intake.village == village and first.citizen_intake.week == the_week
    assert first.citizen_intake.township == dept("hqz")
    assert second.accused_department == dept("zrj") and second.nature == "report"
    lead = first.assignments.get(role="lead")
    # 政民: 60 calendar days from the assignment, from the channel's deadline policy. The visit was
    # entered on the 29th for the 25th: recorded afterwards (补录), so assigned on the visit's date.
    assert (lead.department, lead.deadline_amount, lead.deadline_unit) == (dept("zjj"), 60, "calendar_day")
    assert lead.assigned_on == D(2026, 11, 25) and lead.due_date == D(2027, 1, 25)
    assert first.assignments.get(role="co").department == dept("jtj")

    page = text(office.get(reverse("channels_citizen:visit_detail", args=[the_visit.pk])))
    assert first.ref in page and second.ref in page and old_case.ref in page and "达成分步解决方案" in page
    assert "138****0000" in page and "13812340000" not in page  # phones masked

    # Each department finds its request in its inbox.
    inbox = text(login(Client(), zjj_head).get(reverse("inbox")))
    assert first.ref in inbox and second.ref not in inbox
    inbox = text(login(Client(), hqz_head).get(reverse("inbox")))
    assert second.ref in inbox and first.ref not in inbox


# --- bad input ----------------------------------------------------------------------------------------


def test_a_visit_outside_its_week_is_refused_with_the_reason_and_nothing_is_written(client, petitionoffice):
    the_week = week(petitionoffice)
    response = login(client, petitionoffice).post(
        reverse("channels_citizen:visit_create", args=[the_week.pk]),
        {"kind": "reception", "township": dept("hqz").pk, "held_on": "2026-11-20"},
    )
    assert response.status_code == 400
    assert "接访日期必须在本月无会周内（2026-11-24 至 2026-11-30）。" in text(response)
    assert not Visit.objects.exists()


def test_a_visit_cannot_be_moved_out_of_its_week_nor_off_the_date_of_its_requests(client, petitionoffice):
    the_week = week(petitionoffice)
    the_visit = visit(petitionoffice, the_week, held_on=D(2026, 11, 25))
    url = reverse("channels_citizen:visit_edit", args=[the_visit.pk])
    office = login(client, petitionoffice)
    assert office.get(url).status_code == 200
    body = {"kind": "reception", "township": dept("hqz").pk, "held_on": "2026-12-01"}
    assert "接访日期必须在本月无会周内" in text(office.post(url, body))
    petition(petitionoffice, the_visit)
    response = office.post(url, {**body, "held_on": "2026-11-26"})
    assert "已登记现场诉求，不能再修改接访日期" in text(response)
    assert Visit.objects.get().held_on == D(2026, 11, 25)
    response = office.post(url, {**body, "held_on": "2026-11-25", "notes": "补记"})
    assert response.status_code == 302 and Visit.objects.get().notes == "补记"


def test_an_inactive_leader_is_refused_on_the_roster_with_the_reason(client, petitionoffice, leader):
    the_week = week(petitionoffice)
    entry = roster_entry(petitionoffice, the_week, leader, "jkz")
    leader.is_active = False
    leader.save()
    office = login(client, petitionoffice)
    url = reverse("channels_citizen:roster_create", args=[the_week.pk])
    assert "（已停用）" in text(office.get(url))
    response = office.post(url, {"leader": leader.pk, "township": dept("hqz").pk})
    assert response.status_code == 400
    assert "县领导“leader”的账号已停用，不能排入无会周。" in text(response)
    assert RosterEntry.objects.count() == 1
    # Editing the existing row keeps the rule too.
    response = office.post(
        reverse("channels_citizen:roster_edit", args=[entry.pk]), {"leader": leader.pk, "township": dept("gsz").pk}
    )
    assert response.status_code == 400 and "账号已停用" in text(response)
    assert RosterEntry.objects.get().township == dept("jkz")


def test_the_roster_is_edited_and_rows_removed_in_the_browser(client, petitionoffice, leader):
    the_week = week(petitionoffice)
    entry = roster_entry(petitionoffice, the_week, leader, "jkz")
    roster_entry(petitionoffice, the_week, leader, "gsz")
    office = login(client, petitionoffice)
    response = office.post(
        reverse("channels_citizen:roster_edit", args=[entry.pk]), {"leader": leader.pk, "township": dept("gsz").pk}
    )
    assert "已安排县领导到高沙镇" in text(response)
    response = office.post(
        reverse("channels_citizen:roster_edit", args=[entry.pk]),
        {"leader": leader.pk, "township": dept("hqz").pk, "departments": [dept("slj").pk]},
    )
    assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.township == dept("hqz") and [d.code for d in entry.departments.all()] == ["slj"]
    assert office.post(reverse("channels_citizen:roster_delete", args=[entry.pk])).status_code == 302
    assert list(RosterEntry.objects.values_list("township__code", flat=True)) == ["gsz"]


def test_a_bad_batch_row_refuses_the_whole_batch_with_a_message_per_row(client, petitionoffice):
    the_visit = visit(petitionoffice, week(petitionoffice), held_on=D(2026, 11, 25))
    url = reverse("channels_citizen:visit_intake", args=[the_visit.pk])
    office = login(client, petitionoffice)
    # Rows 2 and 3 fail in the service (accused unit as lead; a bad phone): nothing at all is written.
    response = office.post(
        url,
        {
            **management(),
            **row(0),
            **row(1, nature="report", accused_department=dept("zjj").pk),
            **row(2, requester_phone="12-34"),
        },
    )
    page = text(response)
    assert response.status_code == 400
    assert "有 2 行填写有误，本批诉求均未登记" in page
    assert "第 2 行：“县住房和城乡建设局”是本诉求的被举报单位，不能交由其办理" in page
    assert "第 3 行：联系电话格式不正确" in page
    assert not Issue.objects.exists() and not CitizenIntake.objects.exists()
    assert not Assignment.objects.exists() and not Requester.objects.exists()
    # A row refused by the form (an unknown co-handler; an accused unit on a request for help).
    response = office.post(
        url, {**management(), **row(0, departments="住建局；nosuch"), **row(1, accused_department=dept("jyj").pk)}
    )
    page = text(response)
    assert "未知单位“nosuch”，请从列表中选择单位名称" in page
    assert "只有举报、投诉（检举控告）类诉求可以填写被检举控告单位" in page
    assert not Issue.objects.exists()
    # Only blank rows.
    assert "请至少填写一行诉求" in text(office.post(url, management()))


def test_requests_of_a_visit_not_yet_held_are_refused(client, petitionoffice):
    the_visit = visit(petitionoffice, week(petitionoffice), held_on=D(2026, 11, 30))
    office = login(client, petitionoffice)
    url = reverse("channels_citizen:visit_intake", args=[the_visit.pk])
    assert "接访活动尚未进行" in text(office.get(url))
    assert "接访活动尚未进行" in text(office.post(url, {**management(), **row(0)}))
    assert not Issue.objects.exists()


def test_week_dates_outside_the_month_are_refused_with_the_reason(client, petitionoffice):
    the_week = week(petitionoffice)
    response = login(client, petitionoffice).post(
        reverse("channels_citizen:week_confirm", args=[the_week.pk]),
        {"starts_on": "2026-11-28", "ends_on": "2026-12-04"},
    )
    assert response.status_code == 400 and "无会周必须在2026年11月之内。" in text(response)
    assert not NoMeetingWeek.objects.get().confirmed


def test_a_provisional_week_is_marked_until_confirmed(client, petitionoffice):
    page = text(login(client, petitionoffice).get(reverse("channels_citizen:week_list")))
    # Today is 2026-11-29: January 2027 has no calendar data yet.
    assert "2027年1月" in page and "2027-01-25 至 2027-01-29" in page and "日期暂定" in page
    client.post(reverse("channels_citizen:week_plan"), {"month": "2027-01"})
    the_week = NoMeetingWeek.objects.get(month=D(2027, 1, 1))
    assert the_week.provisional
    assert "日期暂定" in text(client.get(reverse("channels_citizen:week_detail", args=[the_week.pk])))


def test_the_case_of_the_week_is_picked_by_reference_among_visible_citizen_issues(client, petitionoffice, netoffice):
    the_week = week(petitionoffice)
    mine = register(petitionoffice, channel="citizen")
    other = register(netoffice, channel="net", title="政网的诉求")
    office = login(client, petitionoffice)
    url = reverse("channels_citizen:week_case", args=[the_week.pk])
    response = office.post(url, {"ref": other.ref})
    assert response.status_code == 400 and f"未找到诉求编号：{other.ref}（或您无权查看）" in text(response)
    assert office.post(url, {"ref": mine.ref}).status_code == 302
    assert NoMeetingWeek.objects.get().case_of_week == mine
    assert office.post(url, {"ref": ""}).status_code == 302
    assert NoMeetingWeek.objects.get().case_of_week is None


def test_courtyard_meetings_need_people_and_an_outcome(client, petitionoffice):
    the_visit = visit(petitionoffice, week(petitionoffice))
    office = login(client, petitionoffice)
    url = reverse("channels_citizen:courtyard_create", args=[the_visit.pk])
    response = office.post(url, {"attendance": "0", "outcome": "x"})
    assert response.status_code == 400 and "参会人数至少为 1 人。" in text(response)
    assert office.post(url, {"attendance": "12", "outcome": "化解", "place": "院坝"}).status_code == 302
    assert CourtyardMeeting.objects.get().place == "院坝"
    # On the visit form, a meeting without its attendance is refused before anything is written.
    response = office.post(
        reverse("channels_citizen:visit_create", args=[the_visit.week_id]),
        {"kind": "reception", "township": dept("hqz").pk, "held_on": "2026-11-26", "meeting_outcome": "化解"},
    )
    assert "召开院落会议时请填写参会人数" in text(response) and Visit.objects.count() == 1


def test_the_lead_department_is_listed_before_its_co_handler(client, petitionoffice):
    the_visit = visit(petitionoffice, week(petitionoffice))
    petition(petitionoffice, the_visit, co=[dept("jtj")])  # 住建局 leads, 交通运输局 co-handles
    the_visit.cases.set(Issue.objects.all())
    page = text(login(client, petitionoffice).get(reverse("channels_citizen:visit_detail", args=[the_visit.pk])))
    # Once under 现场诉求, once under 带案下访.
    assert page.count("县住房和城乡建设局（主办）、县交通运输局（协办）") == 2


def test_villages_are_added_renamed_and_retired_and_the_quiet_count_follows(client, petitionoffice):
    office = login(client, petitionoffice)
    url = reverse("channels_citizen:village_list")
    assert office.post(url, {"township": dept("hqz").pk, "name": "桥头村"}).status_code == 302
    assert office.post(url, {"township": dept("hqz").pk, "name": "新田村"}).status_code == 302
    response = office.post(url, {"township": dept("hqz").pk, "name": "桥头村"})
    assert response.status_code == 400 and "黄桥镇已有桥头村" in text(response)
    bridge = Village.objects.get(name="桥头村")
    the_visit = visit(petitionoffice, week(petitionoffice), held_on=D(2026, 11, 25))
    petition(petitionoffice, the_visit, village=bridge)
    page = text(office.get(url))
    assert '<td data-label="年份">2026</td><td data-label="无访村">1</td><td data-label="村总数">2</td>' in page
    assert "启用 2 个村，2026年无访村 1 个" in page
    # The chart shows the years the channel recorded anything in: here only 2026.
    assert 'id="citizen-quiet-data"' in page and '"years": ["2026"], "quiet": [1]' in page
    assert '<td data-label="年份">2025</td><td data-label="无访村"><span class="muted">无记录</span></td>' in page
    edit = reverse("channels_citizen:village_edit", args=[bridge.pk])
    assert "黄桥镇已有新田村" in text(office.post(edit, {"name": "新田村", "active": "on"}))
    assert office.post(edit, {"name": "桥头新村"}).status_code == 302  # unticked: retired
    bridge.refresh_from_db()
    assert (bridge.name, bridge.active) == ("桥头新村", False)
    assert services.quiet_villages([2026])[0] == services.QuietVillageYear(2026, 1, 1)


def test_output_is_escaped(client, petitionoffice):
    village = VillageFactory(township=dept("hqz"), name="<b>村</b>")
    the_visit = visit(petitionoffice, week(petitionoffice), held_on=D(2026, 11, 25), notes="<script>x()</script>")
    petition(petitionoffice, the_visit, requester_name="<img src=x>", village=village)
    office = login(client, petitionoffice)
    page = text(office.get(reverse("channels_citizen:visit_detail", args=[the_visit.pk])))
    assert "<script>x()" not in page and "&lt;script&gt;x()&lt;/script&gt;" in page
    assert "<img src=x>" not in page and "&lt;img src=x&gt;" in page
    page = text(office.get(reverse("channels_citizen:village_list")))
    assert "<b>村</b>" not in page and "&lt;b&gt;村&lt;/b&gt;" in page


def test_posts_need_the_csrf_token(petitionoffice, leader):
    the_week = week(petitionoffice)
    entry = roster_entry(petitionoffice, the_week, leader)
    client = Client(enforce_csrf_checks=True)
    client.force_login(petitionoffice)
    assert client.post(reverse("channels_citizen:roster_delete", args=[entry.pk])).status_code == 403
    page = text(client.get(reverse("channels_citizen:week_detail", args=[the_week.pk])))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    response = client.post(reverse("channels_citizen:roster_delete", args=[entry.pk]), {"csrfmiddlewaretoken": token})
    assert response.status_code == 302 and not RosterEntry.objects.exists()


# --- access -------------------------------------------------------------------------------------------


@pytest.fixture
def scene(petitionoffice, leader):
    """A week with its roster, a visit with a courtyard meeting, a case brought down, the requests
    raised there — one of them an accusation against 县自然资源局 — and a village."""
    the_week = week(petitionoffice)
    roster_entry(petitionoffice, the_week, leader)
    village = VillageFactory(township=dept("hqz"), name="迴龙洲村")
    case = register(petitionoffice, channel="citizen", title="带下去的案件")
    the_visit = visit(
        petitionoffice,
        the_week,
        held_on=D(2026, 11, 25),
        kind="village",
        village=village,
        leader=leader,
        cases=[case],
        meetings=[services.MeetingData(attendance=20, outcome="化解", place="院坝")],
    )
    plain = petition(petitionoffice, the_visit, village=village)
    accusation = petition(
        petitionoffice,
        the_visit,
        lead=dept("hqz"),
        nature="report",
        accused_department=dept("zrj"),
        content="举报县自然资源局违规审批",
        village=village,
    )
    services.set_case_of_week(actor=petitionoffice, week=the_week, issue=accusation)
    return {
        "week": the_week,
        "visit": the_visit,
        "village": village,
        "case": case,
        "plain": plain,
        "accusation": accusation,
        "entry": the_week.roster.get(),
    }


def read_urls(scene: dict) -> list[str]:
    return [
        reverse("channels_citizen:week_list"),
        reverse("channels_citizen:week_detail", args=[scene["week"].pk]),
        reverse("channels_citizen:visit_detail", args=[scene["visit"].pk]),
        reverse("channels_citizen:village_list"),
    ]


def write_urls(scene: dict) -> list[str]:
    return [
        reverse("channels_citizen:roster_create", args=[scene["week"].pk]),
        reverse("channels_citizen:roster_edit", args=[scene["entry"].pk]),
        reverse("channels_citizen:visit_create", args=[scene["week"].pk]),
        reverse("channels_citizen:visit_edit", args=[scene["visit"].pk]),
        reverse("channels_citizen:visit_intake", args=[scene["visit"].pk]),
        reverse("channels_citizen:village_edit", args=[scene["village"].pk]),
    ]


def post_urls(scene: dict) -> list[str]:
    return [
        reverse("channels_citizen:week_plan"),
        reverse("channels_citizen:week_confirm", args=[scene["week"].pk]),
        reverse("channels_citizen:week_case", args=[scene["week"].pk]),
        reverse("channels_citizen:roster_delete", args=[scene["entry"].pk]),
        reverse("channels_citizen:courtyard_create", args=[scene["visit"].pk]),
    ]


def test_the_accused_department_sees_the_accusation_on_none_of_the_pages(client, scene, zrj_head):
    ref = scene["accusation"].ref
    member = login(client, zrj_head)
    home = member.get(reverse("channels_citizen:home"))
    assert home.status_code == 200 and ref not in text(home)
    for url in read_urls(scene) + write_urls(scene):
        assert member.get(url).status_code == 404, url
    assert ref not in text(member.get(reverse("inbox")))
    # Even an administrator who belongs to the accused unit does not see it on any page.
    admin_there = login(Client(), make_user("zrj_admin", department="zrj", role=Role.ADMIN))
    for url in [reverse("channels_citizen:home"), *read_urls(scene), *write_urls(scene)]:
        response = admin_there.get(url)
        assert response.status_code == 200 and ref not in text(response), url
    assert scene["plain"].ref in text(
        admin_there.get(reverse("channels_citizen:visit_detail", args=[scene["visit"].pk]))
    )
    assert ref not in text(admin_there.get(reverse("channels_citizen:week_detail", args=[scene["week"].pk])))
    # Anyone else who reads the channel sees it.
    page = text(
        login(Client(), make_user("reader", role=Role.LEADER)).get(
            reverse("channels_citizen:visit_detail", args=[scene["visit"].pk])
        )
    )
    assert ref in page and "检举控告" in page


def test_departments_see_only_the_issues_assigned_to_them(client, scene, zjj_head):
    home = text(login(client, zjj_head).get(reverse("channels_citizen:home")))
    assert scene["plain"].ref in home
    assert scene["case"].ref not in home and scene["accusation"].ref not in home


@pytest.mark.parametrize("who", ["zjj_head", "netoffice", "nobody"])
def test_out_of_scope_users_get_404_on_every_planning_page(client, scene, who, request):
    user = make_user("nobody") if who == "nobody" else request.getfixturevalue(who)
    member = login(client, user)
    assert member.get(reverse("channels_citizen:home")).status_code == 200
    for url in read_urls(scene) + write_urls(scene):
        assert member.get(url).status_code == 404, url
    for url in post_urls(scene):
        assert member.post(url, {}).status_code == 404, url
    assert RosterEntry.objects.count() == 1 and CourtyardMeeting.objects.count() == 1


def test_leaders_read_every_page_and_write_none(client, scene, leader):
    reader = login(client, leader)
    for url in read_urls(scene):
        assert reader.get(url).status_code == 200, url
    for url in write_urls(scene):
        assert reader.get(url).status_code == 404, url
    for url in post_urls(scene):
        assert reader.post(url, {}).status_code == 404, url
    assert (
        reader.post(reverse("channels_citizen:village_list"), {"township": dept("hqz").pk, "name": "某村"}).status_code
        == 404
    )
    assert not Village.objects.filter(name="某村").exists()


def test_anonymous_visitors_are_sent_to_the_login_page(client, scene):
    for url in [reverse("channels_citizen:home"), *read_urls(scene), *write_urls(scene)]:
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], url


def test_no_page_fails_for_anyone(client, scene, petitionoffice, admin_user, leader, zjj_head, hqz_head):
    for user in (petitionoffice, admin_user, leader, zjj_head, hqz_head):
        member = login(Client(), user)
        for url in [reverse("channels_citizen:home"), *read_urls(scene), *write_urls(scene)]:
            assert member.get(url).status_code in (200, 404), (user, url)
    # Pages with nothing in them yet.
    office = login(client, petitionoffice)
    empty = week(petitionoffice, D(2026, 12, 1))
    for url in [
        reverse("channels_citizen:week_detail", args=[empty.pk]),
        reverse("channels_citizen:visit_create", args=[empty.pk]),
        reverse("channels_citizen:roster_create", args=[empty.pk]),
        reverse("channels_citizen:week_list") + "?page=99",
    ]:
        assert office.get(url).status_code == 200, url


# --- queries ------------------------------------------------------------------------------------------


def grow(office, leader, size: int) -> dict:
    """``size`` weeks, each with two roster rows and a visit; the November visit with ``size`` requests,
    cases and courtyard meetings; ``size`` villages."""
    months = [D(2026 - (m // 12), 12 - (m % 12), 1) for m in range(1, size + 1)]  # November 2026 backwards
    weeks = [week(office, month) for month in months]
    for n, w in enumerate(weeks):
        if not w.roster.exists():
            roster_entry(office, w, leader, "jkz", ("zjj", "jtj"))
            roster_entry(office, w, leader, "gsz", ("rsj",))
        if not w.visits.exists() and w.starts_on <= D(2026, 11, 29):
            visit(office, w, held_on=w.starts_on, leader=leader if n % 2 else None)
    the_visit = weeks[0].visits.get()
    for n in range(size):
        v = VillageFactory(township=dept(["hqz", "jkz", "gsz"][n % 3]), name=f"村{n}")
        petition(
            office, the_visit, village=v, requester_name=f"人{n}", requester_phone=f"1390000{n:04d}", co=[dept("jtj")]
        )
        services.record_courtyard_meeting(actor=office, visit=the_visit, attendance=n + 1, outcome="化解")
    the_visit.cases.set(Issue.objects.filter(citizen_intake__visit=the_visit))
    return {"week": weeks[0], "visit": the_visit}


@pytest.mark.parametrize(
    "name, bound", [("home", 19), ("week_list", 15), ("week_detail", 12), ("visit_detail", 14), ("village_list", 12)]
)
def test_lists_use_a_bounded_number_of_queries_at_two_sizes(
    client, petitionoffice, leader, name, bound, django_assert_max_num_queries
):
    office = login(client, petitionoffice)
    for size in (2, 12):
        made = grow(petitionoffice, leader, size)
        args = {"week_detail": [made["week"].pk], "visit_detail": [made["visit"].pk]}.get(name, [])
        url = reverse(f"channels_citizen:{name}", args=args)
        with django_assert_max_num_queries(bound):
            response = office.get(url)
        assert response.status_code == 200
    assert Issue.objects.filter(citizen_intake__visit=made["visit"]).count() == 14
