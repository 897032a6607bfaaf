"""Issue 20 in a real browser on a phone's screen (390×844): the visit page loaded online, used with no
signal (``context.set_offline(True)``), reloaded offline, synced when the signal returns — once,
whatever the retries — a refused record kept with its reason and corrected, a lapsed session, and
logout clearing the phone."""

from __future__ import annotations

import datetime
import io

import pytest
from django.contrib.sessions.models import Session
from django.utils import timezone
from PIL import Image
from playwright.sync_api import BrowserContext, Page, expect
from playwright.sync_api import Error as PlaywrightError

from channels_citizen import services
from channels_citizen.models import IntakePhoto, NoMeetingWeek, OfflineRecord, Village, Visit
from feedback.models import Assignment, Department, Issue

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}
PAGE = "/citizen/offline/"


def photo(i: int) -> dict:
    out = io.BytesIO()
    Image.new("RGB", (2400, 1800), (30 * i, 120, 200)).save(out, "PNG")  # a big photo, compressed on the phone
    return {"name": f"现场{i}.png", "mimeType": "image/png", "buffer": out.getvalue()}


@pytest.fixture
def week(petitionoffice, leader) -> NoMeetingWeek:
    """Last month's week: its visits are held, and the pack still offers it."""
    first = timezone.localdate().replace(day=1)
    last_month = (first - datetime.timedelta(days=1)).replace(day=1)
    week = services.plan_week(actor=petitionoffice, month=last_month)
    hqz = Department.objects.get(code="hqz")
    services.add_roster_entry(actor=petitionoffice, week=week, leader=leader, township=hqz)
    Village.objects.create(township=hqz, name="向阳村")
    return week


@pytest.fixture
def phone(browser) -> BrowserContext:
    context = browser.new_context(
        locale="zh-CN", timezone_id="Asia/Shanghai", viewport=PHONE, is_mobile=True, has_touch=True
    )
    context.set_default_timeout(15_000)
    yield context
    context.close()


def log_in(page: Page, base: str, username: str = "petitionoffice") -> None:
    page.goto(f"{base}/accounts/login/?next={PAGE}")
    page.get_by_label("账号").fill(username)
    page.get_by_label("密码").fill("pw-for-tests-123")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"**{PAGE}")


def ready_for_the_road(page: Page) -> None:
    """Loaded online: the worker controls the page and the pack is on the phone."""
    expect(page.locator('[data-sw-status][data-ready="1"]')).to_be_visible()
    expect(page.locator("[data-pack-info]")).to_contain_text("资料更新于")


def record_visit(page: Page, *, held_on: str | None = None) -> None:
    form = page.locator("[data-visit-form]")
    if held_on:
        form.locator('[name="held_on"]').fill(held_on)
    form.get_by_label("律师参与").check()
    form.get_by_label("律师姓名").fill("李律师")
    form.get_by_label("参会人数").fill("23")
    form.get_by_label("会议结果").fill("就灌渠修复达成一致")
    form.get_by_role("button", name="保存接访活动").click()
    expect(page.locator("[data-app-status]")).to_contain_text("已保存")


def record_request(page: Page, i: int) -> None:
    form = page.locator("[data-request-form]")
    form.get_by_label("诉求人").fill(f"村民{i}")
    form.get_by_label("分类").select_option(label="乡村振兴")
    form.get_by_label("诉求内容").fill(f"第{i}件：村口灌渠垮塌，春耕前需要修复")
    form.locator('[name="photos"]').set_input_files([photo(i)])
    form.get_by_role("button", name="保存诉求").click()
    expect(page.locator("[data-app-status]")).to_contain_text(f"已保存诉求：村民{i}")


def summary(page: Page):
    return page.locator("[data-summary]")


def test_a_visit_and_five_requests_recorded_offline_become_five_issues_once(
    live_server, phone: BrowserContext, week, screenshot
) -> None:
    page = phone.new_page()
    base = live_server.url
    log_in(page, base)
    ready_for_the_road(page)

    phone.set_offline(True)
    page.reload()  # no signal: the page comes from the phone
    expect(page.locator("[data-net-status]")).to_contain_text("无网络")
    record_visit(page)
    for i in range(1, 6):
        record_request(page, i)
    expect(summary(page)).to_have_attribute("data-pending", "6")
    page.reload()  # the app closed and opened again, still offline: nothing lost
    expect(page.locator("li[data-record]")).to_have_count(6)
    expect(page.locator('li[data-kind="request"]').first).to_contain_text("（1 张照片）")
    screenshot(page, "offline-visit-waiting")
    assert not Issue.objects.exists()

    # The signal comes back weakly: the third upload (the visit, then requests 1 and 2) reaches the
    # server, but its answer is lost on the way back.
    posts = []

    def lose_third_answer(route):
        if route.request.method != "POST":
            route.continue_()
            return
        posts.append(route.request)
        if len(posts) == 3:
            route.fetch()  # the server records it…
            route.abort("internetdisconnected")  # …and the phone never hears back
        else:
            route.continue_()

    phone.route("**/api/v1/citizen/visit-sync/", lose_third_answer)
    phone.set_offline(False)  # the page syncs by itself when the signal returns
    expect(page.locator("[data-app-status]")).to_contain_text("网络中断")
    assert Issue.objects.count() == 2  # request 1 answered, request 2 stored but unanswered
    expect(summary(page)).to_have_attribute("data-pending", "4")
    phone.unroute("**/api/v1/citizen/visit-sync/")

    page.get_by_role("button", name="立即同步").click()
    expect(page.locator("[data-app-status]")).to_contain_text("已同步 4 条记录")
    expect(summary(page)).to_have_attribute("data-pending", "0")
    assert Issue.objects.count() == 5

    # The same sync once more, every record sent again as a phone that lost all its answers would.
    page.evaluate(
        """async () => { const app = window.offlineVisits;
             for (const r of app.records) { r.status = "pending"; await app.put(r); }
             await app.sync(); }"""
    )
    expect(summary(page)).to_have_attribute("data-pending", "0")
    assert Issue.objects.count() == 5 and Visit.objects.count() == 1 and IntakePhoto.objects.count() == 5
    assert OfflineRecord.objects.count() == 6

    issues = Issue.objects.order_by("ref")
    assert {i.status for i in issues} == {Issue.Status.REGISTERED}  # for the office to triage
    assert not Assignment.objects.filter(issue__in=issues).exists()
    visit = Visit.objects.get()
    assert {i.citizen_intake.visit_id for i in issues} == {visit.pk}
    assert visit.lawyer_name == "李律师" and visit.courtyard_meetings.get().attendance == 23
    # Compressed on the phone: a 2400×1800 PNG arrives as a JPEG at most 1600 pixels wide.
    stored = IntakePhoto.objects.first()
    assert stored.content_type == "image/jpeg"
    with Image.open(stored.file) as image:
        assert max(image.size) == 1600
    refs = page.locator("[data-answer]")
    expect(refs).to_have_count(6)
    expect(page.locator('li[data-kind="request"] [data-answer]').first).to_contain_text(issues[0].ref[:2])
    screenshot(page, "offline-visit-synced")


def test_a_refused_visit_stays_on_the_phone_with_its_reason_until_corrected(
    live_server, phone: BrowserContext, week, petitionoffice
) -> None:
    page = phone.new_page()
    log_in(page, live_server.url)
    ready_for_the_road(page)
    phone.set_offline(True)
    record_visit(page, held_on=week.ends_on.isoformat())
    # Meanwhile the office moves the week one day earlier: the visit's day is no longer in it.
    services.confirm_week(
        actor=petitionoffice,
        week=week,
        starts_on=week.starts_on - datetime.timedelta(days=1),
        ends_on=week.ends_on - datetime.timedelta(days=1),
    )
    phone.set_offline(False)
    item = page.locator('li[data-kind="visit"]')
    expect(item).to_have_attribute("data-status", "refused")
    expect(item.locator("[data-reason]")).to_contain_text("接访日期必须在本月无会周内")
    page.reload()
    expect(item.locator("[data-reason]")).to_contain_text("接访日期必须在本月无会周内")
    assert not Visit.objects.exists()

    item.get_by_role("button", name="修改").click()
    form = page.locator("[data-visit-form]")
    form.locator('[name="held_on"]').fill((week.ends_on - datetime.timedelta(days=2)).isoformat())
    form.get_by_role("button", name="保存接访活动").click()
    expect(item).to_have_attribute("data-status", "synced")
    assert Visit.objects.get().held_on == week.ends_on - datetime.timedelta(days=2)


def test_a_session_lapsed_offline_keeps_the_records_until_login(live_server, phone: BrowserContext, week) -> None:
    page = phone.new_page()
    log_in(page, live_server.url)
    ready_for_the_road(page)
    phone.set_offline(True)
    record_visit(page)
    Session.objects.all().delete()  # the session expired while the team was in the village
    phone.set_offline(False)
    expect(page.locator("[data-app-status]")).to_contain_text("请重新登录后同步")
    expect(summary(page)).to_have_attribute("data-pending", "1")
    page.get_by_role("link", name="去登录").click()
    page.get_by_label("账号").fill("petitionoffice")
    page.get_by_label("密码").fill("pw-for-tests-123")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"**{PAGE}")
    expect(summary(page)).to_have_attribute("data-pending", "0")  # synced at once after login
    assert Visit.objects.count() == 1


def test_logout_clears_the_phone(live_server, phone: BrowserContext, week) -> None:
    page = phone.new_page()
    log_in(page, live_server.url)
    ready_for_the_road(page)
    phone.set_offline(True)
    record_visit(page)
    phone.set_offline(False)
    expect(summary(page)).to_have_attribute("data-pending", "0")
    record_visit(page)  # a second visit, not synced yet: the logout names it first
    expect(summary(page)).to_have_attribute("data-pending", "1")
    messages = []
    page.on("dialog", lambda dialog: (messages.append(dialog.message), dialog.accept()))
    page.locator("label.nav-toggle-label").click()
    page.get_by_role("button", name="退出").click()
    page.wait_for_url("**/accounts/login/**")
    assert messages and "1 条下访登记未同步" in messages[0]
    names = page.evaluate("async () => (await indexedDB.databases()).map((d) => d.name)")
    assert not [n for n in names if n.startswith("zhitongche-offline")]
    assert page.evaluate("async () => (await caches.keys()).filter((k) => k.startsWith('zhitongche-offline'))") == []


def test_another_user_signing_in_on_the_phone_never_sees_the_first_users_records(
    live_server, phone: BrowserContext, week
) -> None:
    from feedback.access import Role
    from tests.conftest import make_user

    make_user("petitionoffice2", department="xfj", role=Role.OFFICE)
    page = phone.new_page()
    log_in(page, live_server.url)
    ready_for_the_road(page)
    phone.set_offline(True)
    record_visit(page)  # kept on the phone, not synced; the first user never taps 退出
    expect(summary(page)).to_have_attribute("data-pending", "1")
    phone.set_offline(False)
    Session.objects.all().delete()
    phone.clear_cookies()

    other = phone.new_page()
    other.goto(f"{live_server.url}/accounts/login/")
    other.get_by_label("账号").fill("petitionoffice2")
    other.get_by_label("密码").fill("pw-for-tests-123")
    other.get_by_role("button", name="登录").click()
    other.wait_for_url(f"{live_server.url}/**")
    other.wait_for_function(
        """async () => {
          for (const key of await caches.keys()) {
            const page = await (await caches.open(key)).match("/citizen/offline/", {ignoreSearch: true});
            if (page) return false;
          }
          return true;
        }"""
    )  # the first user's page is no longer kept for offline use
    page.close()
    phone.set_offline(True)
    offline = phone.new_page()
    with pytest.raises(PlaywrightError, match="ERR_"):  # nothing kept to open offline: the browser's own error
        offline.goto(f"{live_server.url}{PAGE}")
    names = other.evaluate("async () => (await indexedDB.databases()).map((d) => d.name)")
    assert any(n.startswith("zhitongche-offline") for n in names)  # the first user's records are kept for them
    phone.set_offline(False)
    assert Visit.objects.count() == 0
