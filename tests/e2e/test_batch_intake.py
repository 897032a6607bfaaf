"""The batch intake grid shared by the three channels, in a real browser at 1366×768 (a county laptop):
twenty requests pasted from a ledger copied out of Excel/WPS, twenty typed with the keyboard alone
(keystrokes counted), departments found by name, 简称 and pinyin initials, and the 政民 grid's village
select limited to the visit's township."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from channels_citizen.models import NoMeetingWeek, Village, Visit
from channels_net.models import Forum
from feedback.models import Assignment, Department, Issue
from tests.e2e.conftest import SCREENSHOTS

pytestmark = pytest.mark.django_db(transaction=True)

LAPTOP = {"width": 1366, "height": 768}
CATEGORIES = ["教育", "医疗卫生", "交通出行", "住房和城乡建设"]
# (what a ledger's 承办单位 cell says, the lead's code, the co-handlers' codes)
HANDLERS = [
    ("住建局", "zjj", []),
    ("县交通运输局；zjj", "jtj", ["zjj"]),
    ("教育局、卫健局", "jyj", ["wjj"]),
    ("黄桥镇", "hqz", []),
]


def log_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("账号").fill(username)
    page.get_by_label("密码").fill("pw-for-tests-123")
    page.get_by_role("button", name="登录").click()


@pytest.fixture
def forum(reference: None) -> Forum:
    return Forum.objects.create(title="第十次网民座谈会", held_on=timezone.localdate() - datetime.timedelta(days=1))


def ledger_block(count: int) -> str:
    """Rows as Excel/WPS put them on the clipboard: a header row in the ledger's words (with a 序号
    column the grid has no use for), tab-separated cells, one cell holding a line break (quoted)."""
    lines = ["序号\t诉求人\t分类\t标题\t诉求内容\t承办单位\t现场回应"]
    for i in range(count):
        handlers = HANDLERS[i % len(HANDLERS)][0]
        content = f"第{i + 1}条：路灯不亮" if i != 3 else '"第4条：两件事\n一是路灯，二是""积水"""'
        lines.append(f"{i + 1}\t网友{i + 1:02d}\t{CATEGORIES[i % 4]}\t诉求{i + 1:02d}\t{content}\t{handlers}\t会后答复")
    return "\r\n".join(lines) + "\r\n"


def paste(page: Page, selector: str, text: str) -> None:
    """A real paste event carrying the text, as Ctrl+V from the system clipboard would fire it."""
    page.locator(selector).evaluate(
        """(el, text) => { const data = new DataTransfer(); data.setData("text/plain", text);
                           el.dispatchEvent(new ClipboardEvent("paste", {clipboardData: data, bubbles: true,
                                                                         cancelable: true})); }""",
        text,
    )


def test_twenty_requests_pasted_from_a_ledger_are_registered_and_assigned_in_one_go(
    live_server, browser, forum: Forum, netoffice, screenshot
) -> None:
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport=LAPTOP)
    page = context.new_page()
    base = live_server.url
    log_in(page, base, "netoffice")
    page.goto(f"{base}/net/forums/{forum.pk}/intake/")
    page.locator("#id_rows-0-handle").focus()
    paste(page, "#id_rows-0-handle", ledger_block(20))

    expect(page.locator("[data-batch-status]")).to_have_text("已粘贴 20 行，请核对后提交。")
    expect(page.locator("tr[data-row]")).to_have_count(20)  # 8 rows at first, 12 added for the block
    expect(page.locator("#id_rows-19-departments")).to_have_value("黄桥镇")
    expect(page.locator("#id_rows-3-content")).to_have_value('第4条：两件事\n一是路灯，二是"积水"')
    expect(page.locator("#id_rows-2-category option:checked")).to_have_text("交通出行")
    # Wide enough to read what was chosen at 1366 px, and the page itself does not scroll sideways.
    assert page.locator("#id_rows-0-category").evaluate("s => s.scrollWidth <= s.clientWidth + 1")
    assert page.evaluate("document.documentElement.scrollWidth") <= LAPTOP["width"]
    screenshot(page, "net-batch-pasted")

    page.keyboard.press("Control+Enter")  # the whole batch, from the keyboard
    expect(page.get_by_text("已登记并交办 20 件诉求。")).to_be_visible()
    issues = list(Issue.objects.filter(net_intake__forum=forum).order_by("net_intake__handle"))
    assert [i.title for i in issues] == [f"诉求{n:02d}" for n in range(1, 21)]
    assert issues[3].content.replace("\r\n", "\n") == '第4条：两件事\n一是路灯，二是"积水"'  # forms post CRLF
    for n, issue in enumerate(issues):
        _, lead, co = HANDLERS[n % len(HANDLERS)]
        rows = Assignment.objects.filter(issue=issue)
        assert rows.get(role="lead").department.code == lead
        assert sorted(rows.filter(role="co").values_list("department__code", flat=True)) == co
        assert issue.category.name == CATEGORIES[n % 4]
    context.close()


class Keys:
    """The keyboard, counting: every key pressed and every character typed (a clerk's input method
    needs a few keys per Chinese character; the count of characters stands for them)."""

    def __init__(self, page: Page) -> None:
        self.page, self.presses, self.characters = page, 0, 0

    def press(self, key: str, times: int = 1) -> None:
        for _ in range(times):
            self.page.keyboard.press(key)
        self.presses += times

    def type(self, text: str) -> None:
        self.page.keyboard.type(text)
        self.characters += len(text)


def test_twenty_requests_typed_with_the_keyboard_alone_names_found_by_initials(
    live_server, browser, forum: Forum, netoffice, screenshot
) -> None:
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport=LAPTOP)
    page = context.new_page()
    base = live_server.url
    log_in(page, base, "netoffice")
    page.goto(f"{base}/net/forums/{forum.pk}/intake/")
    keys = Keys(page)
    page.locator("#id_rows-0-handle").focus()
    # (initials typed in 承办单位, the lead's code, co-handlers typed, their codes)
    typed = [
        ("zjj", "zjj", "jtj", ["jtj"]),
        ("住建", "zjj", "", []),
        ("jyj", "jyj", "wjj", ["wjj"]),
        ("hqz", "hqz", "", []),
    ]
    for n in range(20):
        prefix = f"#id_rows-{n}-"
        expect(page.locator(f"{prefix}handle")).to_be_focused()
        keys.type(f"网友{n + 1:02d}")
        keys.press("Tab")
        # 分类: the select takes arrow keys (Home is the empty choice), as on any select.
        keys.press("Home")
        keys.press("ArrowDown", 1 + n % 3)
        keys.press("Tab")
        keys.type(f"诉求{n + 1:02d}")
        keys.press("Tab")
        keys.type("路灯不亮")
        keys.press("Tab")
        lead_typed, _, co_typed, _ = typed[n % 4]
        keys.type(lead_typed)
        expect(page.locator(f"{prefix}departments + [role=listbox] [aria-selected=true]")).to_be_visible()
        if co_typed:
            keys.press("Enter")  # take the first suggestion, room for a co-handler
            keys.type(co_typed)
        keys.press("Tab")  # take the suggestion and move on
        keys.type("会后答复")
        if n < 19:
            keys.press("Enter")  # end of the row: the next row (added when the grid runs out)
    expect(page.locator("tr[data-row]")).to_have_count(20)
    expect(page.locator("#id_rows-1-departments")).to_have_value("县住房和城乡建设局")
    expect(page.locator("#id_rows-0-departments")).to_have_value("县住房和城乡建设局；县交通运输局")
    screenshot(page, "net-batch-keyboard")
    keys.press("Control+Enter")
    expect(page.get_by_text("已登记并交办 20 件诉求。")).to_be_visible()

    issues = list(Issue.objects.filter(net_intake__forum=forum).order_by("net_intake__handle"))
    assert len(issues) == 20
    for n, issue in enumerate(issues):
        _, lead, _, co = typed[n % 4]
        assert issue.assignments.get(role="lead").department.code == lead
        assert sorted(issue.assignments.filter(role="co").values_list("department__code", flat=True)) == co
        assert issue.category.name == ["教育", "医疗卫生", "交通出行"][n % 3]
    # Measured: keys pressed besides the characters typed (Tab, Enter, the select's arrows, Ctrl+Enter).
    print(f"\nkeyboard-only batch of 20: {keys.presses} keys pressed + {keys.characters} characters typed")
    assert keys.presses <= 20 * 10 + 1, keys.presses
    context.close()


def test_an_unknown_department_is_refused_with_a_suggestion_and_nothing_is_registered(
    live_server, page: Page, forum: Forum, netoffice
) -> None:
    base = live_server.url
    log_in(page, base, "netoffice")
    page.goto(f"{base}/net/forums/{forum.pk}/intake/")
    page.locator("#id_rows-0-handle").fill("网友甲")
    page.locator("#id_rows-0-category").select_option(label="教育")
    page.locator("#id_rows-0-content").fill("校车不够")
    page.locator("#id_rows-0-departments").fill("县教育厅")
    page.get_by_role("button", name="全部登记并交办").click()
    expect(page.get_by_text("第 1 行：未知单位“县教育厅”，是否为 县教育局？")).to_be_visible()
    assert not Issue.objects.exists()


def test_the_visit_grid_offers_only_the_villages_of_the_visits_township(
    live_server, page: Page, reference: None, petitionoffice
) -> None:
    township = Department.objects.get(code="hqz")
    Village.objects.create(township=township, name="黄桥村")
    Village.objects.create(township=township, name="大屋村")
    Village.objects.create(township=Department.objects.get(code="gsz"), name="高沙村")
    held = timezone.localdate() - datetime.timedelta(days=1)
    week = NoMeetingWeek.objects.create(month=held.replace(day=1), starts_on=held, ends_on=held)
    visit = Visit.objects.create(week=week, kind=Visit.Kind.RECEPTION, township=township, held_on=held)
    base = live_server.url
    log_in(page, base, "petitionoffice")
    page.goto(f"{base}/citizen/visits/{visit.pk}/intake/")
    options = page.locator("#id_rows-0-village option").all_text_contents()
    assert options == ["（乡镇本级）", "大屋村", "黄桥村"]


def test_on_a_phone_each_row_is_a_card_and_the_department_list_fits_the_screen(
    live_server, browser, reference: None, petitionoffice
) -> None:
    township = Department.objects.get(code="hqz")
    Village.objects.create(township=township, name="迴龙洲村")
    held = timezone.localdate() - datetime.timedelta(days=1)
    week = NoMeetingWeek.objects.create(month=held.replace(day=1), starts_on=held, ends_on=held)
    visit = Visit.objects.create(week=week, kind=Visit.Kind.RECEPTION, township=township, held_on=held)
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        log_in(page, live_server.url, "petitionoffice")
        page.goto(f"{live_server.url}/citizen/visits/{visit.pk}/intake/")
        page.get_by_label("第 1 行 信访人").fill("王某某")
        page.get_by_label("第 1 行 电话").fill("13812345678")
        page.get_by_label("第 1 行 所在村").select_option(label="迴龙洲村")
        page.get_by_label("第 1 行 分类").select_option(label="住房和城乡建设")
        page.get_by_label("第 1 行 诉求内容").fill("搬迁安置补偿标准不一致，请求统一核定。")
        cell = page.get_by_label("第 1 行 承办单位")
        cell.click()
        page.keyboard.type("住建")
        expect(page.get_by_role("option", name="县住房和城乡建设局 县直部门")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        listbox = page.locator("#id_rows-0-departments + [role=listbox]").bounding_box()
        assert listbox is not None and listbox["x"] >= 0 and listbox["x"] + listbox["width"] <= 390
        page.evaluate("window.scrollTo(0, 0)")
        cell.scroll_into_view_if_needed()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)  # one screen, as the clerk sees it
        page.screenshot(path=str(SCREENSHOTS / "citizen-intake-phone.png"))
        page.keyboard.press("Enter")
        expect(cell).to_have_value("县住房和城乡建设局；")
    finally:
        context.close()
