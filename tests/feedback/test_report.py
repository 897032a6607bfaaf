"""The county's report, reproduced: a hand-computed period and the lists behind each figure.

Received in May 2026 (and I7 in April, outside the period):

| issue | channel | nature | requester | assignments → accepted reply (result)        |
|-------|---------|--------|-----------|----------------------------------------------|
| I1    | 政网    | 建议   | 张三      | zjj → 已解决                                  |
| I2    | 政网    | 建议   | 张三      | zjj → none                                    |
| I3    | 政网    | 咨询   | 李四      | zjj → 解释说明                                |
| I4    | 政企    | 求助   | 甲公司    | jtj → 已解决                                  |
| I5    | 政企    | 求助   | 乙公司    | jtj → 列入计划                                |
| I6    | 政企    | 建议   | 丙公司    | zjj lead → 已解决, jtj co → 不予支持           |
| I7    | 政企    | 求助   | 丁公司    | jtj → 已解决 (April: outside)                  |

Requesters 5 (张三 twice); issues 6; replied 5 (all but I2) → 83.3%; suggestions collected 3 (I1, I2, I6),
handled 2 (I1, I6); enterprise problems solved 2 (I4, and I6 whose lead says 已解决).

The channels' own records (fixture ``sessions``; the rows are written directly, only the read side is
under test here), period 2026-05-01 to 2026-05-31:

| record                                   | date        | led by           | counted            |
|------------------------------------------|-------------|------------------|--------------------|
| 政民 visit, 江口镇 reception              | 04-30       | 县领导甲          | no: before         |
| 政民 visit, 黄桥镇 reception              | 05-01       | 县领导甲          | yes (first day)    |
| 政民 visit, 高沙镇 reception              | 05-27       | nobody recorded  | no: not led        |
| 政民 visit, 黄桥镇桥头村                   | 05-31       | 县领导乙          | yes (last day)     |
| 政民 visit, 黄桥镇 reception              | 06-01       | 县领导甲          | no: after          |
| 政企 enterprise day, confirmed held      | 04-23       | 县领导甲          | no: before         |
| 政企 enterprise day, confirmed held      | 05-25       | 甲 and 乙         | yes, once          |
| 政网 forum                               | 05-10       | nobody           | no: not led        |
| 政网 forum                               | 05-20       | 乙 attends       | yes                |
| 政网 forum                               | 05-31       | 甲 chairs        | yes                |
| 政网 forum                               | 06-01       | 甲 chairs        | no: after          |

Leader-led sessions: 政民 2 + 政企 1 + 政网 2 = 5. Villages: 黄桥镇 桥头村 / 迴龙洲村 / 新田村, 高沙镇 高沙村, and
a retired 旧村. 政民 petitions from 桥头村 (05-31), 迴龙洲村 (04-30), 新田村 (06-01), one with no village (05-10):
of the 4 active villages only 桥头村 had a petition in May, so 无访村 = 3.
"""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from channels_citizen import services as citizen
from channels_citizen.models import NoMeetingWeek, Village, Visit
from channels_enterprise.models import EnterpriseDay
from channels_net.models import Forum
from feedback import services
from feedback.access import Role
from feedback.figures import report
from feedback.models import Category, Department, Issue
from tests.conftest import make_user, reply_pdf

pytestmark = pytest.mark.django_db

D = datetime.date
PERIOD = {"from": "2026-05-01", "to": "2026-05-31"}


def make(name: str, *, channel: str, nature: str, received: D, results: dict[str, str | None]) -> Issue:
    issue = services.register_issue(
        actor=None,
        channel=channel,
        category=Category.objects.get(code="housing"),
        nature=nature,
        requester=services.RequesterData(name=name),
        title=f"{name}的诉求",
        content="请研究答复。",
        received_on=received,
    )
    codes = list(results)
    assignments = services.assign_issue(
        actor=None,
        issue=issue,
        lead=Department.objects.get(code=codes[0]),
        co=[Department.objects.get(code=c) for c in codes[1:]],
        assigned_on=received,
    )
    for a in assignments:
        result = results[a.department.code]
        if result:
            submitted = services.submit_reply(
                actor=None,
                assignment=a,
                file=reply_pdf(),
                signer_name="王局长",
                signer_title="局长",
                signed_on=received + datetime.timedelta(days=5),
                result=result,
                summary="答复如下。",
            )
            services.accept_reply(actor=None, reply=submitted)
    return issue


@pytest.fixture
def may(reference):
    return {
        "i1": make("张三", channel="net", nature="suggestion", received=D(2026, 5, 4), results={"zjj": "resolved"}),
        "i2": make("张三", channel="net", nature="suggestion", received=D(2026, 5, 5), results={"zjj": None}),
        "i3": make("李四", channel="net", nature="consult", received=D(2026, 5, 6), results={"zjj": "explained"}),
        "i4": make("甲公司", channel="enterprise", nature="help", received=D(2026, 5, 7), results={"jtj": "resolved"}),
        "i5": make("乙公司", channel="enterprise", nature="help", received=D(2026, 5, 8), results={"jtj": "planned"}),
        "i6": make(
            "丙公司",
            channel="enterprise",
            nature="suggestion",
            received=D(2026, 5, 9),
            results={"zjj": "resolved", "jtj": "declined"},
        ),
        "i7": make("丁公司", channel="enterprise", nature="help", received=D(2026, 4, 9), results={"jtj": "resolved"}),
    }


def lines(response) -> dict[str, object]:
    return {line.label: line for line in response.context["lines"]}


def refs_listed(client, url: str) -> set[str]:
    page = client.get(url)
    return {issue.ref for issue in page.context["page"].object_list}


def test_the_report_reproduces_a_hand_computed_period(may, leader, client):
    client.force_login(leader)
    got = lines(client.get(reverse("county_report"), PERIOD))
    assert got["诉求人"].value == "5 人"
    assert got["诉求"].value == "6 件"
    assert got["回复率"].value == "83.3%"
    assert got["收集建议"].value == "3 条"
    assert got["办理建议"].value == "2 条"
    assert got["解决企业问题"].value == "2 个"


def test_the_report_exports_to_excel_with_the_same_figures(may, leader, netoffice, zjj_head, client):
    import io

    from openpyxl import load_workbook

    from feedback.ledger.export import report_value

    client.force_login(leader)
    page = lines(client.get(reverse("county_report"), PERIOD))
    response = client.get(reverse("county_report_export"), PERIOD)
    assert response.status_code == 200
    assert "20260501-20260531.xlsx" in response["Content-Disposition"]  # 县级报告 …, UTF-8 encoded
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.values)
    assert rows[0] == ("指标（单位）", "数值", "口径")
    # Values are numbers, the unit in the label: 诉求（件） 6, 回复率（%） 83.3; "—" stays an empty cell.
    expected = {}
    for label, line in page.items():
        number, unit = report_value(line.value)
        expected[f"{label}（{unit}）" if unit else label] = number
        assert number is None or f"{number}" in line.value.replace(" ", "")
    assert {label: value for label, value, _ in rows[1:]} == expected
    assert all(isinstance(v, (int, float)) for _, v, _ in rows[1:] if v is not None)
    assert "回复率" in {r[0]: r[2] for r in rows[1:]}["回复率（%）"]  # the formula travels with the figure
    assert sheet.page_setup.orientation == "landscape" and sheet.print_title_rows == "$1:$1"
    assert all(sheet.row_dimensions[n].height for n in range(2, len(rows) + 1))  # explanations fully shown

    bad = client.get(reverse("county_report_export"), {"from": "2026-05-31", "to": "2026-05-01"})
    assert bad.status_code == 400 and "统计区间有误" in bad.content.decode()
    client.force_login(zjj_head)  # a department has no county report, nor its export
    assert client.get(reverse("county_report_export"), PERIOD).status_code == 404


def test_each_figure_links_to_exactly_its_issues(may, leader, client):
    client.force_login(leader)
    got = lines(client.get(reverse("county_report"), PERIOD))
    ref = {k: v.ref for k, v in may.items()}
    assert refs_listed(client, got["诉求"].link) == {ref[k] for k in ("i1", "i2", "i3", "i4", "i5", "i6")}
    assert refs_listed(client, got["回复率"].link) == {ref["i2"]}  # what is missing from 100%
    assert refs_listed(client, got["收集建议"].link) == {ref["i1"], ref["i2"], ref["i6"]}
    assert refs_listed(client, got["办理建议"].link) == {ref["i1"], ref["i6"]}
    assert refs_listed(client, got["解决企业问题"].link) == {ref["i4"], ref["i6"]}


# --- the channels' figures: sessions led by county leaders, 无访村 -------------------------------------


def dept(code: str) -> Department:
    return Department.objects.get(code=code)


def week(month: D, starts: D, ends: D) -> NoMeetingWeek:
    return NoMeetingWeek.objects.create(month=month, starts_on=starts, ends_on=ends, confirmed=True)


def visit(on: D, township: str, leader=None, village: Village | None = None) -> Visit:
    w = NoMeetingWeek.objects.get(month=on.replace(day=1))
    return Visit.objects.create(
        week=w,
        kind="village" if village else "reception",
        township=dept(township),
        village=village,
        held_on=on,
        leader=leader,
    )


def enterprise_day(on: D, confirmed_by, *leaders) -> EnterpriseDay:
    held = datetime.datetime.combine(on, datetime.time(17), tzinfo=timezone.get_current_timezone())
    day = EnterpriseDay.objects.create(
        month=on.replace(day=1), held_on=on, place="经开区电子产业园", held_at=held, held_by=confirmed_by
    )
    day.leaders.set(leaders)
    return day


def forum(on: D, chair=None, *attending) -> Forum:
    f = Forum.objects.create(title=f"{on:%Y年%m月%d日}网民座谈会", held_on=on, place="县融媒体中心", chair=chair)
    f.leaders.set([*attending, *([chair] if chair else [])])
    return f


def petition(village: Village | None, received: D) -> Issue:
    return citizen.register_citizen_issue(
        actor=None,
        village=village,
        category=Category.objects.get(code="rural"),
        requester=services.RequesterData(name="村民"),
        title="灌溉水渠",
        content="水渠年久失修。",
        received_on=received,
        nature="help",
    )


@pytest.fixture
def sessions(reference, leader, ezoneoffice):
    leader.first_name = "县领导甲"
    leader.save()
    second = make_user("leader2", role=Role.LEADER)
    second.first_name = "县领导乙"
    second.save()
    for month, starts, ends in (
        (D(2026, 4, 1), D(2026, 4, 24), D(2026, 4, 30)),
        (D(2026, 5, 1), D(2026, 5, 1), D(2026, 5, 31)),
        (D(2026, 6, 1), D(2026, 6, 1), D(2026, 6, 5)),
    ):
        week(month, starts, ends)
    qiaotou, huilongzhou, xintian = (
        Village.objects.create(township=dept("hqz"), name=n) for n in ("桥头村", "迴龙洲村", "新田村")
    )
    gaosha = Village.objects.create(township=dept("gsz"), name="高沙村")
    Village.objects.create(township=dept("gsz"), name="旧村", active=False)
    records = {
        "visits": [
            visit(D(2026, 4, 30), "jkz", leader),
            visit(D(2026, 5, 1), "hqz", leader),
            visit(D(2026, 5, 27), "gsz"),
            visit(D(2026, 5, 31), "hqz", second, village=qiaotou),
            visit(D(2026, 6, 1), "hqz", leader),
        ],
        "days": [
            enterprise_day(D(2026, 4, 23), ezoneoffice, leader),
            enterprise_day(D(2026, 5, 25), ezoneoffice, leader, second),
        ],
        "forums": [
            forum(D(2026, 5, 10)),
            forum(D(2026, 5, 20), None, second),
            forum(D(2026, 5, 31), leader),
            forum(D(2026, 6, 1), leader),
        ],
    }
    petition(qiaotou, D(2026, 5, 31))
    petition(huilongzhou, D(2026, 4, 30))
    petition(xintian, D(2026, 6, 1))
    petition(None, D(2026, 5, 10))
    return {**records, "quiet": {huilongzhou.name, xintian.name, gaosha.name}}


def listed(client, url: str):
    response = client.get(url)
    assert response.status_code == 200
    return response.context["items"]


def column(items, name: str) -> list[str]:
    index = items.columns.index(name)
    return [row[index][1] for row in items.rows]


def test_leader_led_sessions_add_up_the_three_channels_within_inclusive_dates(sessions, leader, client):
    client.force_login(leader)
    line = lines(client.get(reverse("county_report"), PERIOD))["县级领导带队场次"]
    assert line.value == "5 场"
    assert [(p.label, p.value) for p in line.parts] == [
        ("政网直通车网民座谈会", "2 场"),
        ("政企直通车企业家日", "1 场"),
        ("政民直通车集中接访和进村走访", "2 场"),
    ]
    assert "登记了带队县领导" in line.formula and "每个企业家日计1场" in line.formula
    # An enterprise day counts once 经开区 has confirmed it was held.
    EnterpriseDay.objects.filter(held_on=D(2026, 5, 25)).update(held_at=None)
    assert lines(client.get(reverse("county_report"), PERIOD))["县级领导带队场次"].value == "4 场"


def test_the_sessions_figure_links_to_exactly_the_sessions_it_counts(sessions, leader, client):
    client.force_login(leader)
    line = lines(client.get(reverse("county_report"), PERIOD))["县级领导带队场次"]
    everything = listed(client, line.link)
    assert everything.heading == "县级领导带队场次（5 场）"
    assert column(everything, "日期") == ["2026-05-01", "2026-05-20", "2026-05-25", "2026-05-31", "2026-05-31"]
    assert column(everything, "渠道") == ["政民直通车", "政网直通车", "政企直通车", "政网直通车", "政民直通车"]
    assert column(everything, "县级领导") == ["县领导甲", "县领导乙", "县领导甲、县领导乙", "县领导甲", "县领导乙"]
    assert column(everything, "地点")[-1] == "黄桥镇桥头村"
    links = [row[2][2] for row in everything.rows]
    assert links[0] == reverse("channels_citizen:visit_detail", args=[sessions["visits"][1].pk])
    assert links[1] == reverse("channels_net:forum_detail", args=[sessions["forums"][1].pk])
    assert links[2] == reverse("channels_enterprise:day_detail", args=[sessions["days"][1].pk])
    for link in links:
        assert client.get(link).status_code == 200
    for part in line.parts:  # each channel's part lists its own sessions, as many as it says
        rows = listed(client, part.link).rows
        assert f"{len(rows)} 场" == part.value
    page = client.get(line.link).content.decode()
    assert 'id="items"' in page and "县领导甲、县领导乙" in page


def test_quiet_villages_are_the_active_villages_without_a_petition_in_the_period(sessions, leader, client):
    client.force_login(leader)
    line = lines(client.get(reverse("county_report"), PERIOD))["无访村"]
    assert (line.value, line.note, line.parts) == ("3 个", "启用的村共 4 个", ())
    villages = listed(client, line.link)
    assert villages.heading == "无访村（3 个）"
    assert set(column(villages, "村")) == sessions["quiet"]
    # The day before and the day after the period are outside it: both villages become 有访 with them.
    got = lines(client.get(reverse("county_report"), {"from": "2026-04-30", "to": "2026-06-01"}))
    assert got["无访村"].value == "1 个"


@time_machine.travel(datetime.datetime(2026, 12, 31, 12, 0, tzinfo=datetime.UTC), tick=False)
def test_over_a_whole_year_quiet_villages_equal_the_channels_yearly_count(sessions, leader, client):
    client.force_login(leader)
    got = lines(client.get(reverse("county_report"), {"from": "2026-01-01", "to": "2026-12-31"}))
    (expected,) = citizen.quiet_villages([2026])
    assert got["无访村"].value == f"{expected.quiet} 个" == "1 个"
    assert "注意" not in got["无访村"].formula
    # 2025: the channel recorded nothing that year. Its page says 无记录; the report counts the
    # villages as it is asked to, and says the number proves nothing.
    got = lines(client.get(reverse("county_report"), {"from": "2025-01-01", "to": "2025-12-31"}))
    assert citizen.quiet_villages([2025])[0].quiet is None
    assert got["无访村"].value == "4 个" and "没有任何诉求和接访记录" in got["无访村"].formula


@time_machine.travel(datetime.datetime(2026, 5, 20, 12, 0, tzinfo=timezone.get_fixed_timezone(480)), tick=False)
def test_sessions_not_yet_held_do_not_count(sessions, leader, client):
    client.force_login(leader)
    got = lines(client.get(reverse("county_report"), PERIOD))
    assert got["县级领导带队场次"].value == "2 场"  # 05-01 visit, 05-20 forum; not the 05-25 day nor 05-31
    assert "统计至今天（2026-05-20）" in got["县级领导带队场次"].note
    future = lines(client.get(reverse("county_report"), {"from": "2026-06-01", "to": "2026-06-30"}))
    assert (future["县级领导带队场次"].value, future["县级领导带队场次"].note) == ("—", report.NOT_BEGUN)
    assert future["无访村"].value == "—"


def test_an_office_sees_only_its_own_channels_part(sessions, ezoneoffice, netoffice, petitionoffice, client):
    expected = {ezoneoffice: ("1 场", "—"), netoffice: ("2 场", "—"), petitionoffice: ("2 场", "3 个")}
    for office, (led, quiet) in expected.items():
        client.force_login(office)
        got = lines(client.get(reverse("county_report"), PERIOD))
        assert (got["县级领导带队场次"].value, got["无访村"].value) == (led, quiet)
        assert got["县级领导带队场次"].parts == ()
        if quiet == "—":
            assert (got["无访村"].note, got["无访村"].link) == (report.NO_CHANNEL_DATA, "")
    client.force_login(ezoneoffice)  # another channel's list, asked for by hand, is empty
    url = reverse("county_report") + "?from=2026-05-01&to=2026-05-31&items=quiet_villages&channel=citizen"
    assert listed(client, url).rows == []
    url = reverse("county_report") + "?from=2026-05-01&to=2026-05-31&items=leader_sessions"
    assert column(listed(client, url), "渠道") == ["政企直通车"]


def test_an_unknown_list_is_ignored(sessions, leader, client):
    client.force_login(leader)
    response = client.get(reverse("county_report"), {**PERIOD, "items": "everything", "channel": "x"})
    assert response.status_code == 200 and response.context["items"] is None


def test_an_office_sees_its_channels_figures(may, ezoneoffice, client):
    client.force_login(ezoneoffice)
    got = lines(client.get(reverse("county_report"), PERIOD))
    assert got["诉求"].value == "3 件"
    assert got["解决企业问题"].value == "2 个"


def test_an_empty_period_shows_zeros_and_a_dash_for_the_rate(reference, leader, client):
    client.force_login(leader)
    got = lines(client.get(reverse("county_report"), {"from": "2026-02-01", "to": "2026-02-28"}))
    assert got["诉求"].value == "0 件" and got["回复率"].value == "—"


def test_bad_dates_get_400_with_a_message(reference, leader, client):
    client.force_login(leader)
    response = client.get(reverse("county_report"), {"from": "2026-06-01", "to": "2026-05-01"})
    assert response.status_code == 400
    assert "结束日期不能早于开始日期" in response.content.decode()
    assert client.get(reverse("county_report"), {"from": "yesterday"}).status_code == 400


def test_a_reversed_period_claims_no_period_and_shows_no_figures(reference, leader, client):
    client.force_login(leader)
    response = client.get(reverse("county_report"), {"from": "2026-11-01", "to": "2026-01-01"})
    page = response.content.decode()
    assert response.status_code == 400
    assert "请修正日期后重新查询" in page and "结束日期不能早于开始日期" in page
    assert "受理日期 " not in page and "办理状态计算" not in page  # the heading names no period
    assert "<table" not in page
    assert 'name="from" value="2026-11-01"' in page and 'name="to" value="2026-01-01"' in page


def test_departments_get_404(reference, zjj_head, client):
    client.force_login(zjj_head)
    assert client.get(reverse("county_report")).status_code == 404


@pytest.mark.parametrize("size", [1, 6])
def test_the_report_takes_a_constant_number_of_queries(reference, leader, client, django_assert_max_num_queries, size):
    week(D(2026, 5, 1), D(2026, 5, 25), D(2026, 5, 29))
    for n in range(size):
        make(
            f"企业{n}",
            channel="enterprise",
            nature="suggestion",
            received=D(2026, 5, 4),
            results={"jtj": "resolved", "zjj": None},
        )
        visit(D(2026, 5, 25), "hqz", leader, village=Village.objects.create(township=dept("hqz"), name=f"{n}村"))
        forum(D(2026, 5, 1 + n), leader)
    client.force_login(leader)
    client.get(reverse("county_report"), PERIOD)
    # 12 for the issue figures, session and user; one a channel for the sessions, two for 无访村
    # (the villages, and whether the channel recorded anything in the period).
    with django_assert_max_num_queries(17):
        response = client.get(reverse("county_report"), PERIOD)
    got = lines(response)
    assert got["解决企业问题"].value == f"{size} 个"
    assert got["县级领导带队场次"].value == f"{2 * size} 场"
    with django_assert_max_num_queries(22):
        items = listed(client, got["县级领导带队场次"].link)
    assert len(items.rows) == 2 * size


@time_machine.travel(datetime.datetime(2026, 5, 20, 12, 0, tzinfo=timezone.get_fixed_timezone(480)), tick=False)
@pytest.mark.django_db
def test_without_a_period_the_form_shows_the_default_one_it_was_computed_for(leader, client):
    client.force_login(leader)
    page = client.get(reverse("county_report")).content.decode()
    assert 'name="from" value="2026-01-01"' in page and 'name="to" value="2026-05-20"' in page


# --- every linked number opens a list of exactly that many records (issue 14) ----------------------


def _numbers_and_links(html: str) -> list[tuple[int, str]]:
    """Every number on the report that is a link: (the number, the link). A rate (83.3%) is not a
    count; it is followed through its counts (已回复 / 诉求 / 尚未全部答复)."""
    import re
    from html import unescape

    return [
        (int(number), unescape(href))
        for href, number in re.findall(r'<a href="([^"]+)"[^>]*>\s*(\d+) (?:人|件|条|个|场)\s*</a>', html)
    ]


def _count(client, link: str) -> int:
    page = client.get(link)
    assert page.status_code == 200, link
    if "items=" in link:  # a channel's sessions or villages, listed under the report
        return len(page.context["items"].rows)
    count = page.context["page"].paginator.count
    assert f"<strong data-count>{count}</strong>" in page.content.decode()
    return count


@pytest.mark.parametrize("as_of", ["", "2026-05-31", "2026-05-10", "2026-06-03"])
def test_every_number_on_the_report_opens_a_list_of_exactly_that_many(may, sessions, leader, client, as_of):
    # A reply dated after as_of (2026-05-10) is not yet given: the lists follow the report's as_of.
    client.force_login(leader)
    query = {**PERIOD, **({"as_of": as_of} if as_of else {})}
    html = client.get(reverse("county_report"), query).content.decode()
    found = _numbers_and_links(html)
    labels = set(lines(client.get(reverse("county_report"), query)))
    assert {"诉求人", "诉求", "回复率", "收集建议", "办理建议", "解决企业问题", "县级领导带队场次", "无访村"} <= labels
    which = {link.split("which=")[1].split("&")[0] for _, link in found if "which=" in link}
    assert {"requesters", "issues", "replied", "unreplied", "suggestions", "suggestions_replied"} <= which
    assert "enterprise_resolved" in which
    for number, link in found:
        if as_of:
            assert f"as_of={as_of}" in link, link
        assert _count(client, link) == number, link


def test_the_reply_rate_and_the_requesters_follow_as_of(may, leader, client):
    """Replies are signed five days after receipt: on 2026-05-10 only I1 (05-04 → 05-09) is replied,
    and the requesters are counted whatever as_of (张三 twice → 5)."""
    client.force_login(leader)
    got = lines(client.get(reverse("county_report"), {**PERIOD, "as_of": "2026-05-10"}))
    ref = {k: v.ref for k, v in may.items()}
    replied = next(p for p in got["回复率"].counts if p.label == "已回复")
    assert refs_listed(client, replied.link) == {ref["i1"]}
    assert replied.value == "1 件" and got["回复率"].value == "16.7%"
    requesters = client.get(got["诉求人"].link)
    assert got["诉求人"].value == "5 人" and requesters.context["page"].paginator.count == 5
    assert {r.name: r.cohort_issues for r in requesters.context["page"].object_list}["张三"] == 2
    assert "as_of=2026-05-10" in got["诉求"].link
