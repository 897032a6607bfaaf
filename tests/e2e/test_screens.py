"""The fifteen main pages, over the demo data (feedback.demo.seed_demo), on phones and a laptop:

* on a phone 360 and 390 px wide no page scrolls sideways (a wide table scrolls inside its own frame);
* axe-core (npm, node_modules/axe-core, run inside the page) finds no serious or critical violation;
* the leader's phone dashboard leads with the headline rates and the gap to 100 %, its formulas open
  on a tap and the long tables stay folded until tapped.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from django.test import Client
from playwright.sync_api import BrowserContext, Page

pytestmark = pytest.mark.django_db(transaction=True)

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"


def _first(model_path: str, **filters: object) -> int:
    from django.apps import apps

    model = apps.get_model(model_path)
    return model.objects.filter(**filters).order_by("pk").values_list("pk", flat=True)[0]


# (who, what, address): None is nobody logged in. The addresses with ids are found in the demo data.
MAIN_PAGES: list[tuple[str | None, str, Callable[[], str]]] = [
    (None, "公众首页", lambda: "/public/"),
    (None, "提交意见建议", lambda: "/public/submit/"),
    (None, "登录", lambda: "/accounts/login/"),
    ("netoffice", "首页", lambda: "/"),
    ("netoffice", "诉求台账", lambda: "/issues/"),
    ("netoffice", "登记诉求", lambda: "/issues/new/"),
    ("netoffice", "诉求详情", lambda: f"/issues/{_first('feedback.Issue', channel='net')}/"),
    ("netoffice", "政网座谈会批量登记", lambda: f"/net/forums/{_first('channels_net.Forum')}/intake/"),
    (
        "ezoneoffice",
        "政企批量登记",
        lambda: f"/enterprise/days/{_first('channels_enterprise.EnterpriseDay')}/problems/new/",
    ),
    ("petitionoffice", "政民批量登记", lambda: f"/citizen/visits/{_first('channels_citizen.Visit')}/intake/"),
    ("zjj_head", "部门待办", lambda: "/inbox/"),
    ("leader", "统计看板", lambda: "/dashboard/"),
    ("leader", "县级报告", lambda: "/report/"),
    ("leader", "月度通报", lambda: "/bulletins/"),
    ("netoffice", "活动日历", lambda: "/calendar/"),
]


@pytest.fixture
def demo(reference: None) -> None:
    from feedback.demo import seed_demo

    seed_demo()


def log_in_as(context: BrowserContext, base: str, username: str) -> None:
    """The demo password is refused with DEBUG off (as in these tests): the session is made here."""
    from django.contrib.auth import get_user_model

    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    context.clear_cookies()
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": base}])


def visit_all(browser, base: str, viewport: dict[str, int], check: Callable[[Page, str], None]) -> None:
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport=viewport)
    page = context.new_page()
    try:
        who_now: str | None = "?"
        for who, name, address in MAIN_PAGES:
            if who != who_now:
                context.clear_cookies()
                if who:
                    log_in_as(context, base, who)
                who_now = who
            response = page.goto(base + address())
            assert response is not None and response.status == 200, f"{name}: {response and response.status}"
            check(page, name)
    finally:
        context.close()


WIDER_THAN_THE_SCREEN = """() => {
  const width = document.documentElement.clientWidth;
  const wide = [...document.querySelectorAll("body *")].filter((el) => {
    if (el.closest(".table-wrap, .chart, pre")) return false;  // these scroll inside their own frame
    const box = el.getBoundingClientRect();
    return box.width > 0 && box.right > width + 1;
  });
  return {scroll: document.documentElement.scrollWidth, width,
          culprits: wide.slice(0, 5).map((el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
            + (el.className && el.className.baseVal === undefined ? "." + el.className : ""))};
}"""


@pytest.mark.parametrize("width", [360, 390])
def test_no_main_page_scrolls_sideways_on_a_phone(live_server, browser, demo, width: int) -> None:
    wide: list[str] = []

    def check(page: Page, name: str) -> None:
        found = page.evaluate(WIDER_THAN_THE_SCREEN)
        if found["scroll"] > found["width"]:
            wide.append(f"{name}: {found['scroll']} px > {found['width']} px ({', '.join(found['culprits'])})")

    visit_all(browser, live_server.url, {"width": width, "height": 800}, check)
    assert not wide, "\n".join(wide)


def run_axe(page: Page) -> list[dict]:
    # Evaluated in the page (not a <script> tag, which the portal's CSP would rightly refuse).
    page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate("""async () => {
      const r = await axe.run(document, {resultTypes: ["violations"]});
      return r.violations.filter((v) => v.impact === "serious" || v.impact === "critical")
        .map((v) => ({id: v.id, impact: v.impact, help: v.help,
                      nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" "))}));
    }""")
    return result


@pytest.mark.skipif(not AXE.exists(), reason="node_modules/axe-core is missing: npm ci (bin/test runs it)")
@pytest.mark.parametrize(
    "viewport", [{"width": 1366, "height": 768}, {"width": 390, "height": 844}], ids=["laptop", "phone"]
)
def test_axe_finds_no_serious_or_critical_violation_on_the_main_pages(
    live_server, browser, demo, viewport: dict[str, int]
) -> None:
    found: list[str] = []

    def check(page: Page, name: str) -> None:
        for v in run_axe(page):
            nodes = json.dumps(v["nodes"], ensure_ascii=False)
            found.append(f"{name}: {v['impact']} {v['id']} ({v['help']}) at {nodes}")

    visit_all(browser, live_server.url, viewport, check)
    assert not found, "\n".join(found)


def test_the_keyboard_focus_is_visible(live_server, page: Page) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.mouse.click(5, 5)  # the keyboard starts from the top of the page
    seen: list[str] = []
    for _ in range(4):
        page.keyboard.press("Tab")
        outline = page.evaluate("""() => { const s = getComputedStyle(document.activeElement);
                                          return [document.activeElement.tagName, s.outlineStyle, s.outlineWidth]; }""")
        if outline[0] == "BODY":
            continue
        assert outline[1] != "none" and outline[2] != "0px", outline
        seen.append(outline[0])
    assert seen, "nothing reached with Tab"
