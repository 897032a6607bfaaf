"""The three channels' cycles in a real browser, each office planning and holding its sessions, entering
what was raised there on the batch intake page with the keyboard alone (each row registered and assigned),
and the department finding it in its inbox:

* 政网: 网信办 plans a forum and records it once held;
* 政企: 经开区 runs the scheduler, puts the leader and departments on duty for the enterprise day and
  confirms it held;
* 政民: 信访局 plans and confirms the no-meeting week, rosters a leader and records a village visit; an
  accusation (检举控告) entered there stays hidden from the accused department.

Nothing is frozen: the dates are chosen relative to today, so the cycles pass whatever the day."""

from __future__ import annotations

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from channels_citizen.models import NoMeetingWeek, Village, Visit
from channels_enterprise import services as enterprise_services
from channels_enterprise.models import EnterpriseDay, EnterpriseIntake
from channels_net.models import Forum, NetIntake
from feedback.models import Assignment, Department, Issue
from tests.channels.enterprise_factories import EnterpriseFactory

pytestmark = pytest.mark.django_db(transaction=True)


def log_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("账号").fill(username)
    page.get_by_label("密码").fill("pw-for-tests-123")
    page.get_by_role("button", name="登录").click()


def choose_with_keys(page: Page, select_id: str, label: str) -> None:
    """Pick an option of the focused select with the arrow keys, as a clerk at the keyboard would:
    Home goes to the empty choice, then ArrowDown as many times as the option is far down."""
    select = page.locator(f"#{select_id}")
    expect(select).to_be_focused()
    index = select.evaluate("(s, label) => [...s.options].findIndex(o => o.text.trim() === label)", label)
    assert index > 0, f"{label} is not offered in #{select_id}"
    page.keyboard.press("Home")
    for _ in range(index):
        page.keyboard.press("ArrowDown")
    expect(select.locator("option:checked")).to_have_text(label)


def type_row(
    page: Page, row: int, *, handle: str, category: str, departments: str, title: str, content: str, onsite: str
) -> None:
    """One request, field after field with Tab: 网名, 分类, 标题, 诉求内容, 承办单位 (lead first), 现场回应."""
    prefix = f"id_rows-{row}-"
    expect(page.locator(f"#{prefix}handle")).to_be_focused()
    page.keyboard.type(handle)
    page.keyboard.press("Tab")
    choose_with_keys(page, f"{prefix}category", category)
    for text in (title, content, departments, onsite):
        page.keyboard.press("Tab")
        page.keyboard.type(text)
    page.keyboard.press("Tab")  # on to the next row's first cell


def test_the_net_office_plans_holds_and_enters_a_forum_and_the_department_finds_its_assignment(
    live_server, page: Page, screenshot, netoffice, leader, zjj_head
) -> None:
    base = live_server.url
    today = timezone.localdate()
    log_in(page, base, "netoffice")

    # Plan: today's forum (a date in the past is refused), chaired by the county leader.
    page.goto(f"{base}/net/")
    page.get_by_role("link", name="安排座谈会").click()
    page.get_by_label("名称").fill("第九次网民座谈会")
    page.get_by_label("日期", exact=True).fill(today.isoformat())
    page.get_by_label("地点").fill("县委会议中心")
    page.get_by_label("主持领导").select_option(label="leader")
    page.get_by_label("主持人职务").fill("县委书记")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_text("已安排“第九次网民座谈会”。")).to_be_visible()
    expect(page.get_by_role("heading", name="第九次网民座谈会")).to_be_visible()
    forum = Forum.objects.get()
    assert forum.held_on == today and forum.chair == leader

    # Hold it: record who came, the representatives and the minutes.
    page.get_by_role("link", name="编辑记录").click()
    page.get_by_label("县住房和城乡建设局").check()
    page.get_by_label("县交通运输局").check()
    page.get_by_label("网民代表").fill("山村支教亮亮老师，李亮，13812345678\n洞口小哥")
    page.get_by_label("纪要").fill("书记主持，6位网民代表发言，部门负责人现场回应。")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_text("已保存。")).to_be_visible()
    expect(page.get_by_text("138****5678")).to_be_visible()
    expect(page.get_by_text("13812345678")).to_have_count(0)
    screenshot(page, "net-01-forum-recorded")

    # Enter the requests raised at the forum, keyboard only, and submit with Enter.
    page.get_by_role("link", name="批量登记现场诉求").click()
    page.locator("#id_rows-0-handle").focus()
    type_row(
        page,
        0,
        handle="山村支教亮亮老师",
        category="住房和城乡建设",
        departments="住建局；jtj",
        title="学校门口修建人行天桥",
        content="上下学高峰人车混行，建议修建人行天桥。",
        onsite="住建局：会后测算人车流量，书面答复。",
    )
    type_row(
        page,
        1,
        handle="洞口小哥",
        category="交通出行",
        departments="县交通运输局",
        title="公交线路延伸到工业园",
        content="工业园上下班无公交，建议延伸线路。",
        onsite="交通局：调研后答复。",
    )
    expect(page.locator("#id_rows-2-handle")).to_be_focused()
    screenshot(page, "net-02-batch-intake")
    page.keyboard.press("Control+Enter")  # the grid's submit key (Enter opens the next row)

    expect(page.get_by_text("已登记并交办 2 件诉求。")).to_be_visible()
    rows = page.get_by_role("row", name=re.compile("学校门口修建人行天桥"))
    expect(rows).to_contain_text("县住房和城乡建设局（主办）")
    expect(rows).to_contain_text("县交通运输局（协办）")
    screenshot(page, "net-03-forum-requests")
    bridge = Issue.objects.get(title="学校门口修建人行天桥")
    assert bridge.status == Issue.Status.ASSIGNED and bridge.received_on == today
    assert bridge.onsite_answer == "住建局：会后测算人车流量，书面答复。"
    assert NetIntake.objects.filter(forum=forum).count() == 2
    lead = Assignment.objects.get(issue=bridge, role=Assignment.Role.LEAD)
    assert lead.department.code == "zjj" and lead.status == Assignment.Status.PENDING

    # The department's head finds it in the inbox.
    page.get_by_role("button", name="退出").click()
    log_in(page, base, "zjj_head")
    expect(page.get_by_role("heading", name=re.compile("县住房和城乡建设局.*待办事项"))).to_be_visible()
    row = page.get_by_role("row", name=re.compile("学校门口修建人行天桥"))
    expect(row).to_be_visible()
    expect(row).to_contain_text(bridge.ref)
    expect(page.get_by_role("row", name=re.compile("公交线路延伸到工业园"))).to_have_count(0)  # not theirs
    screenshot(page, "net-04-department-inbox")


def test_a_netizens_suggestion_merged_into_an_issue_is_followed_on_the_tracking_page(
    live_server, page: Page, screenshot, netoffice
) -> None:
    from tests.factories import assigned

    base = live_server.url
    issue, _ = assigned(netoffice, title="学校门口修建人行天桥")

    # A netizen sends a suggestion through the public portal (no login) and keeps the tracking code.
    page.goto(f"{base}/public/submit/")
    page.get_by_label("分类").select_option(label="交通出行")
    page.get_by_label("意见建议").fill("学校门口上下学人车混行，希望修一座人行天桥。")
    page.get_by_label("姓名或网名（选填）").fill("洞口小哥")
    # The captcha is a picture a person reads; the test reads its answer where the portal keeps it.
    from captcha.models import CaptchaStore

    key = page.locator("input[name=captcha_0]").get_attribute("value")
    page.locator("input[name=captcha_1]").fill(CaptchaStore.objects.get(hashkey=key).response)
    page.get_by_role("button", name="提交").click()
    code = page.locator("#tracking-code").inner_text().strip()
    expect(page.get_by_role("heading", name="已收到您的意见建议")).to_be_visible()

    # 网信办 merges it into the issue already being handled, picking it by its reference.
    log_in(page, base, "netoffice")
    page.goto(f"{base}/net/submissions/")
    page.get_by_label("并入诉求编号").fill(issue.ref)
    page.get_by_label("说明（内部）").fill("同一学校门口")
    screenshot(page, "net-05-triage-merge")
    page.get_by_role("button", name="并入已有诉求").click()
    expect(page.get_by_text(f"已并入诉求 {issue.ref}。")).to_be_visible()
    page.get_by_role("link", name=issue.ref).click()
    expect(page.get_by_text("并入网上征集意见")).to_be_visible()
    expect(page.get_by_text("同一学校门口")).to_be_visible()

    # The netizen's tracking page follows the issue, with nothing private.
    page.get_by_role("button", name="退出").click()
    page.goto(f"{base}/public/track/{code}/")
    expect(page.locator("#status")).to_have_text("已并入同类诉求办理")
    expect(page.locator("#merged-into")).to_contain_text(issue.ref)
    expect(page.locator("#issue-status")).to_have_text("办理中")
    expect(page.get_by_text("学校门口修建人行天桥")).to_have_count(0)
    screenshot(page, "net-06-tracking-merged")


def test_the_calendar_page_copies_the_personal_feed_link_which_works_without_login(
    live_server, page: Page, screenshot, netoffice
) -> None:
    base = live_server.url
    Forum.objects.create(title="第十次网民座谈会", held_on=timezone.localdate() + datetime.timedelta(days=7))
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
    log_in(page, base, "netoffice")
    page.goto(f"{base}/calendar/")
    link = page.get_by_label("我的订阅链接").input_value()
    assert link.startswith(f"{base}/calendar/feed/{netoffice.pk}/") and link.endswith(".ics")
    page.get_by_role("button", name="复制链接").click()
    expect(page.get_by_text("已复制")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == link
    screenshot(page, "net-07-calendar-subscription")
    page.get_by_role("button", name="退出").click()
    feed = page.request.get(link)  # the calendar app: no session
    assert feed.status == 200 and "第十次网民座谈会" in feed.text()


# --- 政企直通车 ------------------------------------------------------------------------------------------


def type_problem(
    page: Page, row: int, *, enterprise: str, category: str, departments: str, title: str, content: str, onsite: str
) -> None:
    """One enterprise problem, field after field with Tab: 企业, 分类, 标题, 问题内容, 承办单位, 现场答复."""
    prefix = f"id_rows-{row}-"
    choose_with_keys(page, f"{prefix}enterprise", enterprise)
    page.keyboard.press("Tab")
    choose_with_keys(page, f"{prefix}category", category)
    for text in (title, content, departments, onsite):
        page.keyboard.press("Tab")
        page.keyboard.type(text)
    page.keyboard.press("Tab")  # on to the next row's first cell


def test_the_zone_office_schedules_holds_and_enters_an_enterprise_day_and_the_department_finds_its_problem(
    live_server, page: Page, screenshot, ezoneoffice, leader, zjj_head
) -> None:
    base = live_server.url
    today = timezone.localdate()
    EnterpriseFactory(name="湘洞电子科技有限公司", contact_name="李经理", contact_phone="13812345678")
    EnterpriseFactory(name="雪峰食品有限公司", contact_name="王厂长", contact_phone="13987654321")
    # Last month's enterprise day, made by the scheduler's run at the start of that month, not yet
    # confirmed: whatever today's date, it has taken place (a day before today is the one that can be held).
    last_month = (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    enterprise_services.schedule_enterprise_days(today=last_month)
    day = EnterpriseDay.objects.get(month=last_month)
    assert day.held_on < today
    held_on = f"{day.held_on:%Y-%m-%d}"
    log_in(page, base, "ezoneoffice")

    # Plan: the scheduler is run from the page too (idempotent: it adds the coming month's day at most).
    page.goto(f"{base}/enterprise/")
    page.get_by_role("link", name="企业家日", exact=True).click()
    page.get_by_role("button", name="立即排期").click()
    expect(page.get_by_text(re.compile(r"(已安排：|企业家日均已安排).*发送通知"))).to_be_visible()
    row = page.get_by_role("row", name=re.compile(held_on))
    expect(row).to_contain_text("待确认举行")
    row.get_by_role("link", name=held_on).click()
    expect(page.get_by_role("heading", name=str(day))).to_be_visible()
    expect(page.get_by_text("企业家日已到期，尚未确认举行。")).to_be_visible()

    # Duty: the county leader, the departments going along, the enterprises visited, the place.
    page.get_by_role("link", name="安排带队和走访").click()
    page.get_by_label("leader", exact=True).check()
    page.get_by_label("县住房和城乡建设局").check()
    page.get_by_label("县交通运输局").check()
    for name in ("湘洞电子科技有限公司", "雪峰食品有限公司"):  # 走访企业: a list of checkboxes
        page.get_by_label(name, exact=True).check()
    page.get_by_label("现场办公地点").fill("经开区电子信息产业园")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_text("已保存带队领导、随行部门和现场办公安排。")).to_be_visible()
    expect(page.get_by_text("县住房和城乡建设局、县交通运输局")).to_be_visible()

    # Held: confirmed, with what was done on site.
    page.get_by_role("link", name="确认已举行").click()
    page.get_by_label("现场办公情况").fill("县长带队走访2家企业，现场答复问题2个。")
    page.get_by_role("button", name="确认已举行").click()
    expect(page.get_by_text(f"已确认{day}已举行。")).to_be_visible()
    expect(page.get_by_text("由 ezoneoffice 确认举行")).to_be_visible()
    day.refresh_from_db()
    assert day.held_by == ezoneoffice and day.held_at is not None
    screenshot(page, "enterprise-01-day-held")

    # Enter the problems raised that day, keyboard only, and submit with Ctrl+Enter.
    page.get_by_role("link", name="批量登记企业问题").click()
    page.locator("#id_rows-0-enterprise").focus()
    type_problem(
        page,
        0,
        enterprise="湘洞电子科技有限公司",
        category="住房和城乡建设",
        departments="zjj；jtj",
        title="园区配套道路未完工",
        content="厂区外配套道路未完工，雨天货车进出困难。",
        onsite="住建局：月底前完成路面硬化。",
    )
    type_problem(
        page,
        1,
        enterprise="雪峰食品有限公司",
        category="交通出行",
        departments="交通运输局",
        title="开通园区通勤公交",
        content="员工上下班没有公交，希望开通通勤线路。",
        onsite="",
    )
    expect(page.locator("#id_rows-2-enterprise")).to_be_focused()
    screenshot(page, "enterprise-02-batch-intake")
    page.keyboard.press("Control+Enter")  # the grid's submit key; the blank rows are not entered

    expect(page.get_by_text("已登记并交办 2 个企业问题。")).to_be_visible()
    road = page.get_by_role("row", name=re.compile("园区配套道路未完工"))
    expect(road).to_contain_text("县住房和城乡建设局（主办）")
    expect(road).to_contain_text("县交通运输局（协办）")
    screenshot(page, "enterprise-03-day-problems")
    issue = Issue.objects.get(title="园区配套道路未完工")
    assert issue.channel == "enterprise" and issue.status == Issue.Status.ASSIGNED
    assert issue.received_on == day.held_on and issue.onsite_answer == "住建局：月底前完成路面硬化。"
    assert EnterpriseIntake.objects.filter(day=day).count() == 2
    lead = Assignment.objects.get(issue=issue, role=Assignment.Role.LEAD)
    assert lead.department.code == "zjj" and lead.status == Assignment.Status.PENDING

    # The department's head finds it in the inbox, and not the problem given to another department.
    page.get_by_role("button", name="退出").click()
    log_in(page, base, "zjj_head")
    expect(page.get_by_role("heading", name=re.compile("县住房和城乡建设局.*待办事项"))).to_be_visible()
    row = page.get_by_role("row", name=re.compile("园区配套道路未完工"))
    expect(row).to_be_visible()
    expect(row).to_contain_text(issue.ref)
    expect(page.get_by_role("row", name=re.compile("开通园区通勤公交"))).to_have_count(0)
    screenshot(page, "enterprise-04-department-inbox")


# --- 政民直通车 ------------------------------------------------------------------------------------------


def type_request(
    page: Page,
    row: int,
    *,
    name: str,
    phone: str,
    village: str,
    category: str,
    nature: str = "",
    accused: str = "",
    departments: str,
    title: str,
    content: str,
) -> None:
    """One request, field after field with Tab: 信访人, 电话, 所在村, 分类, 性质, 被检举控告单位, 标题, 诉求内容,
    承办单位. A select left blank (性质 stays 求助, no accused unit) is only tabbed past."""
    prefix = f"id_rows-{row}-"
    expect(page.locator(f"#{prefix}requester_name")).to_be_focused()
    page.keyboard.type(name)
    page.keyboard.press("Tab")
    page.keyboard.type(phone)
    for field, label in (
        ("village", village),
        ("category", category),
        ("nature", nature),
        ("accused_department", accused),
    ):
        page.keyboard.press("Tab")
        if label:
            choose_with_keys(page, f"{prefix}{field}", label)
    for text in (title, content, departments):
        page.keyboard.press("Tab")
        page.keyboard.type(text)
    page.keyboard.press("Tab")  # takes the suggested department; on to the next row's first cell


def test_the_petitions_bureau_plans_a_week_visits_and_enters_requests_and_the_accused_unit_sees_no_accusation(
    live_server, page: Page, screenshot, petitionoffice, leader, zjj_head, hqz_head
) -> None:
    base = live_server.url
    today = timezone.localdate()
    hqz = Department.objects.get(code="hqz")
    Village.objects.create(township=hqz, name="迴龙洲村")
    Village.objects.create(township=hqz, name="黄桥村")
    # The week is moved around today (inside the month, at most five days) so that the visit can be
    # held today, whatever today is: a visit in the week, on or before today, may have its requests entered.
    month_end = (today.replace(day=28) + datetime.timedelta(days=4)).replace(day=1) - datetime.timedelta(days=1)
    starts_on = max(today.replace(day=1), today - datetime.timedelta(days=2))
    ends_on = min(month_end, starts_on + datetime.timedelta(days=4))
    log_in(page, base, "petitionoffice")

    # Plan: the month's no-meeting week is generated at its default dates, then confirmed around today.
    page.goto(f"{base}/citizen/")
    page.get_by_role("link", name="安排无会周").click()
    month_cell = page.get_by_role("cell", name=f"{today.year}年{today.month}月", exact=True)
    page.get_by_role("row").filter(has=month_cell).get_by_role("button", name="生成无会周").click()
    week = NoMeetingWeek.objects.get(month=today.replace(day=1))
    expect(page.get_by_role("heading", name=str(week))).to_be_visible()
    expect(page.get_by_text("待确认", exact=True)).to_be_visible()
    page.get_by_label("开始日期").fill(starts_on.isoformat())
    page.get_by_label("结束日期").fill(ends_on.isoformat())
    page.get_by_role("button", name="确认无会周").click()
    expect(page.get_by_text(f"{week}已确认：{starts_on:%Y-%m-%d} 至 {ends_on:%Y-%m-%d}。")).to_be_visible()
    week.refresh_from_db()
    assert week.confirmed and week.confirmed_by == petitionoffice
    assert (week.starts_on, week.ends_on) == (starts_on, ends_on)

    # Roster: the county leader to 黄桥镇 with two departments.
    page.get_by_role("link", name="新增下访安排").click()
    page.get_by_label("县领导").select_option(label="leader")
    page.get_by_label("联系乡镇").select_option(label="黄桥镇")
    page.get_by_label("县住房和城乡建设局").check()
    page.get_by_label("县交通运输局").check()
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_text("已安排leader到黄桥镇。")).to_be_visible()
    roster = page.get_by_role("row", name=re.compile("黄桥镇"))
    expect(roster).to_contain_text("县住房和城乡建设局、县交通运输局")

    # Visit: today, into a village of the rostered township, with a lawyer; the form starts from the roster.
    page.get_by_role("link", name="登记接访活动").click()
    expect(page.get_by_label("接访日期")).to_have_value(today.isoformat())
    expect(page.get_by_label("乡镇", exact=True).locator("option:checked")).to_have_text("黄桥镇")
    page.get_by_label("进村走访").check()
    page.get_by_label("村", exact=True).select_option(label="黄桥镇 · 迴龙洲村")
    page.get_by_label("律师参与").check()
    page.get_by_label("律师姓名").fill("刘律师")
    page.get_by_label("接访情况").fill("县领导带律师入户走访，现场登记群众诉求。")
    page.get_by_role("button", name="保存").click()
    visit = Visit.objects.get()
    expect(page.get_by_text(f"已登记{visit}。")).to_be_visible()
    assert (visit.week, visit.held_on, visit.leader, visit.kind) == (week, today, leader, Visit.Kind.VILLAGE)

    # Enter the two requests raised there, keyboard only; the second accuses 住建局, so 黄桥镇 handles it.
    page.get_by_role("link", name="批量登记现场诉求").click()
    page.locator("#id_rows-0-requester_name").focus()
    type_request(
        page,
        0,
        name="王某某",
        phone="13812345678",
        village="迴龙洲村",
        category="住房和城乡建设",
        departments="住建局；交通",
        title="搬迁安置补偿标准不一致",
        content="迴龙洲搬迁安置补偿标准不一致，请求统一核定。",
    )
    type_request(
        page,
        1,
        name="赵某某",
        phone="13987654321",
        village="黄桥村",
        category="乡村振兴",
        nature="举报（检举控告）",
        accused="县住房和城乡建设局",
        departments="hqz",
        title="举报违规审批农房",
        content="举报住建部门为村里违规占用耕地的农房办理手续。",
    )
    expect(page.locator("#id_rows-2-requester_name")).to_be_focused()
    screenshot(page, "citizen-01-batch-intake")
    page.keyboard.press("Control+Enter")  # the grid's submit key

    expect(page.get_by_text(re.compile(r"已登记并交办 2 件诉求："))).to_be_visible()
    relocation = Issue.objects.get(title="搬迁安置补偿标准不一致")
    accusation = Issue.objects.get(title="举报违规审批农房")
    requests = page.get_by_role("row", name=re.compile("举报违规审批农房"))
    expect(requests).to_contain_text("检举控告")
    expect(requests).to_contain_text("黄桥镇（主办）")
    expect(page.get_by_text("138****5678")).to_be_visible()
    expect(page.get_by_text("13812345678")).to_have_count(0)
    screenshot(page, "citizen-02-visit-requests")
    assert (relocation.channel, relocation.received_on, relocation.status) == ("citizen", today, "assigned")
    assert relocation.citizen_intake.visit == visit and relocation.citizen_intake.village.name == "迴龙洲村"
    assert accusation.nature == Issue.Nature.REPORT and accusation.accused_department.code == "zjj"
    assert {(a.department.code, a.role) for a in accusation.assignments.all()} == {("hqz", "lead")}

    # 住建局 finds the request it leads, and neither sees the accusation against it nor can open it.
    page.get_by_role("button", name="退出").click()
    log_in(page, base, "zjj_head")
    expect(page.get_by_role("heading", name=re.compile("县住房和城乡建设局.*待办事项"))).to_be_visible()
    expect(page.get_by_role("row", name=re.compile("搬迁安置补偿标准不一致"))).to_contain_text(relocation.ref)
    expect(page.get_by_text("举报违规审批农房")).to_have_count(0)
    expect(page.get_by_text(accusation.ref)).to_have_count(0)
    screenshot(page, "citizen-03-accused-inbox")
    response = page.goto(f"{base}/issues/{accusation.pk}/")
    assert response is not None and response.status == 404
    expect(page.get_by_text("举报违规审批农房")).to_have_count(0)

    # 黄桥镇, which handles the accusation, finds it in its inbox.
    page.goto(f"{base}/")
    page.get_by_role("button", name="退出").click()
    log_in(page, base, "hqz_head")
    expect(page.get_by_role("row", name=re.compile("举报违规审批农房"))).to_contain_text(accusation.ref)
    expect(page.get_by_text("搬迁安置补偿标准不一致")).to_have_count(0)
