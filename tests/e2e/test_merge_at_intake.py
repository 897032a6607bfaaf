"""并单 at intake in a real browser (issue 19): the clerk types a request, the portal suggests the
issue it repeats as the clerk types (fetch to POST /api/v1/issues/similar/), one click (confirmed)
merges it, and its page says 已并入 with a link to the lead."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from feedback import services
from feedback.models import Category, Department, Issue

pytestmark = pytest.mark.django_db(transaction=True)


def log_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("账号").fill(username)
    page.get_by_label("密码").fill("pw-for-tests-123")
    page.get_by_role("button", name="登录").click()


def test_the_clerk_sees_the_duplicate_while_typing_merges_it_and_the_page_says_merged(
    live_server, page, screenshot, netoffice
):
    lead = services.register_issue(
        actor=netoffice,
        channel="net",
        category=Category.objects.get(code="housing"),
        requester=services.RequesterData(name="红星村村民", phone="13900001111"),
        title="红星村自来水经常停水",
        content="江口镇红星村最近一个月自来水三天两头停，村民做饭洗衣都成问题，希望水厂尽快检修管网。",
        received_on=timezone.localdate(),
    )
    services.assign_issue(actor=netoffice, issue=lead, lead=Department.objects.get(code="slj"), co=[])
    base = live_server.url
    log_in(page, base, "netoffice")
    page.goto(f"{base}/issues/new/")
    page.get_by_label("分类").select_option(label="住房和城乡建设")
    page.get_by_label("诉求人类型").select_option(label="网民")
    page.get_by_label("姓名/网名/企业").fill("水务观察员")
    page.get_by_label("标题").fill("反映江口镇红星村供水不正常")
    page.get_by_label("诉求内容").fill("红星村供水很不稳定，隔几天就没水，估计是水管破了，请派人来查一查。")

    suggestion = page.locator("#similar-panel li", has_text=lead.ref)
    expect(suggestion).to_be_visible()
    expect(suggestion.get_by_text("很可能重复")).to_be_visible()
    expect(suggestion.get_by_text(re.compile("同一地点：.*红星村"))).to_be_visible()
    expect(page.get_by_text("Probable duplicates")).to_have_count(0)  # no template comment leaks
    screenshot(page, "similar-01-suggested-while-typing")

    page.once("dialog", lambda dialog: dialog.accept())
    suggestion.get_by_role("button", name="并入此件").click()

    expect(page.get_by_text(re.compile(rf"已登记诉求 ZW\d{{4}}-\d{{5}}，并入 {lead.ref}"))).to_be_visible()
    banner = page.locator(".merged-banner")
    expect(banner).to_contain_text(f"已并入 {lead.ref}")
    screenshot(page, "similar-02-merged-issue-page")
    merged = Issue.objects.get(requester__name="水务观察员")
    assert merged.merged_into_id == lead.pk
    banner.get_by_role("link", name=lead.ref).click()
    expect(page.get_by_text("以下 1 件诉求已并入本件")).to_be_visible()
    expect(page.get_by_role("link", name=merged.ref)).to_be_visible()


def test_the_batch_grid_hints_at_the_issue_a_row_repeats(live_server, page, netoffice):
    import datetime

    from channels_net.models import Forum

    forum = Forum.objects.create(title="第十次网民座谈会", held_on=timezone.localdate() - datetime.timedelta(days=1))
    lead = services.register_issue(
        actor=netoffice,
        channel="net",
        category=Category.objects.get(code="housing"),
        requester=services.RequesterData(name="红星村村民", phone=""),
        title="红星村自来水经常停水",
        content="江口镇红星村最近一个月自来水三天两头停，希望水厂尽快检修管网。",
        received_on=timezone.localdate(),
    )
    log_in(page, live_server.url, "netoffice")
    page.goto(f"{live_server.url}/net/forums/{forum.pk}/intake/")
    page.locator("#id_rows-1-content").fill("我们红星村的自来水老是断供，有时候一停就是两三天。")
    expect(page.locator("tr[data-row]").nth(1).locator(".similar-hint")).to_contain_text(lead.ref)
    expect(page.locator("tr[data-row]").nth(0).locator(".similar-hint")).to_have_count(0)


def test_one_click_on_the_batch_grid_merges_a_row_and_keeps_another_apart(live_server, page, screenshot, netoffice):
    """并入 #N and 不是重复 on the forum's grid: nothing happens until the batch is saved, then the merged row
    joins its lead without an assignment of its own and the kept row is assigned with the choice recorded."""
    import datetime

    from channels_net.models import Forum
    from feedback.models import Assignment, HistoryEntry

    forum = Forum.objects.create(title="第十次网民座谈会", held_on=timezone.localdate() - datetime.timedelta(days=1))
    lead = services.register_issue(
        actor=netoffice,
        channel="net",
        category=Category.objects.get(code="housing"),
        requester=services.RequesterData(name="红星村村民", phone=""),
        title="红星村自来水经常停水",
        content="江口镇红星村最近一个月自来水三天两头停，希望水厂尽快检修管网。",
        received_on=timezone.localdate(),
    )
    services.assign_issue(actor=netoffice, issue=lead, lead=Department.objects.get(code="slj"), co=[])
    log_in(page, live_server.url, "netoffice")
    page.goto(f"{live_server.url}/net/forums/{forum.pk}/intake/")
    rows = page.locator("tr[data-row]")
    for n, (handle, content) in enumerate(
        [
            ("水务观察员", "我们红星村的自来水老是断供，有时候一停就是两三天。"),
            ("红星村老王", "红星村自来水又停了，村里没水吃，请水厂检修管网。"),
        ]
    ):
        page.locator(f"#id_rows-{n}-handle").fill(handle)
        page.locator(f"#id_rows-{n}-category").select_option(label="住房和城乡建设")
        page.locator(f"#id_rows-{n}-content").fill(content)
    page.locator("#id_rows-1-departments").fill("县水利局")

    first, second = rows.nth(0).locator(".similar-hint"), rows.nth(1).locator(".similar-hint")
    expect(first).to_contain_text(lead.ref)
    expect(second).to_contain_text(lead.ref)
    first.get_by_role("button", name=f"并入 {lead.ref}").click()
    expect(first).to_contain_text(f"保存时并入 {lead.ref}")
    second.get_by_role("button", name="不是重复").click()
    expect(second).to_contain_text("已确认不是重复")
    screenshot(page, "similar-03-batch-grid-choices")
    assert Issue.objects.count() == 1  # a click only marks the row

    page.get_by_role("button", name="全部登记并交办").click()
    expect(page.get_by_text("已登记并交办 2 件诉求")).to_be_visible()
    merged = Issue.objects.get(requester__name="水务观察员")
    kept = Issue.objects.get(requester__name="红星村老王")
    assert merged.merged_into_id == lead.pk and not Assignment.objects.filter(issue=merged).exists()
    assert kept.merged_into_id is None and Assignment.objects.filter(issue=kept, department__code="slj").exists()
    assert lead.ref in HistoryEntry.objects.get(issue=kept, action="kept_apart").note


def test_two_rows_of_the_grid_that_are_one_request_are_flagged_and_the_later_merged_into_the_earlier(
    live_server, page, screenshot, netoffice
):
    """与第 N 行相似 on both rows (fetch to POST /api/v1/issues/similar/batch/ as the clerk types), 并入第 1 行
    on the later one; saved with the batch: row 1 registered and assigned, row 2 merged into it."""
    import datetime

    from channels_net.models import Forum
    from feedback.models import Assignment, HistoryEntry

    forum = Forum.objects.create(title="第十一次网民座谈会", held_on=timezone.localdate() - datetime.timedelta(days=1))
    log_in(page, live_server.url, "netoffice")
    page.goto(f"{live_server.url}/net/forums/{forum.pk}/intake/")
    rows = page.locator("tr[data-row]")
    for n, (handle, title, content) in enumerate(
        [
            ("水务观察员", "反映江口镇红星村供水不正常", "红星村供水很不稳定，隔几天就没水，估计是水管破了。"),
            ("红星村老王", "红星村自来水经常停水", "江口镇红星村最近一个月自来水三天两头停，希望水厂检修管网。"),
            ("山村支教老师", "学校门口修建人行天桥", "学校门口上下学拥堵，建议修人行天桥。"),
        ]
    ):
        page.locator(f"#id_rows-{n}-handle").fill(handle)
        page.locator(f"#id_rows-{n}-category").select_option(label="住房和城乡建设")
        page.locator(f"#id_rows-{n}-title").fill(title)
        page.locator(f"#id_rows-{n}-content").fill(content)
    page.locator("#id_rows-0-departments").fill("县水利局")
    page.locator("#id_rows-2-departments").fill("县住房和城乡建设局")

    first, second = rows.nth(0).locator(".batch-twin-hint"), rows.nth(1).locator(".batch-twin-hint")
    expect(first).to_contain_text("与第 2 行相似")
    expect(second).to_contain_text("与第 1 行相似")
    expect(second).to_contain_text("红星村")  # the reason: the same place
    expect(rows.nth(2).locator(".batch-twin-hint")).to_have_count(0)
    expect(first.get_by_role("button")).to_have_count(0)  # only the later row merges
    second.get_by_role("button", name="并入第 1 行").click()
    expect(second).to_contain_text("保存时并入第 1 行")
    expect(first).to_contain_text("第 2 行保存时并入本行")
    screenshot(page, "similar-04-batch-rows-alike")
    assert not Issue.objects.exists()  # a click only marks the row

    page.get_by_role("button", name="全部登记并交办").click()
    expect(page.get_by_text("已登记并交办 3 件诉求")).to_be_visible()
    earlier = Issue.objects.get(requester__name="水务观察员")
    later = Issue.objects.get(requester__name="红星村老王")
    assert later.merged_into_id == earlier.pk and not Assignment.objects.filter(issue=later).exists()
    assert Assignment.objects.filter(issue=earlier, department__code="slj").exists()
    assert "与本批第 1 行为同一诉求" in HistoryEntry.objects.get(issue=later, action="merged").note
