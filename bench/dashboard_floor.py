"""Where the browser's part of the leader's page goes, with no server work (issue 16, goal 2).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/dashboard_floor.py --reuse [--runs 8]

PostgreSQL, Chromium and ECharts, as bench/dashboard.py (its database, ``dash_bench``). The page's HTML is
taken once through Django's test client (the county leader, ``as_of`` the generated data's last day) and
answered by a small HTTP server in this process (``dashboard_setup.Floor``), with its static files from
the staticfiles finders, cacheable for a year as whitenoise sends them: no portal server computes
anything, so what is measured is the browser alone — dashboard.py's "floor", with its cache warm as a
leader's browser has it. (Until stop 28 the page was handed over by Playwright routes, which turn the
browser's cache off: ECharts fetched and compiled on every load.) For each load it
reads the browser's own clock (``performance.timeOrigin`` = navigation start): the HTML received, the DOM
parsed (``domInteractive``), the deferred scripts run (``domContentLoadedEventStart``: ECharts evaluated),
static/js/dashboard.js's handler done (``domContentLoadedEventEnd``: the four charts drawn), and two
animation frames later (what dashboard.py calls "all charts drawn"). The same page **without ECharts**
(its script tag removed, so the chart boxes are hidden and the tables alone are shown) is measured in
the same run: the page's own parsing, layout and paint. Medians of ``--runs`` loads after one warm-up.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dashboard_setup import Floor, add_database_args, load_average, prepare

CHROMIUM = "/usr/bin/chromium"

MARKS = ("html", "parsed", "scripts run", "charts drawn", "two frames later")

TIMES = """
async () => {
  const start = performance.now();
  const late = () => performance.now() - start > 20000;
  while (document.readyState === 'loading') {
    if (late()) return {error: 'page not parsed'};
    await new Promise((r) => setTimeout(r, 2));
  }
  const boxes = Array.from(document.querySelectorAll('[data-chart]'));
  while (boxes.some((b) => !b.hidden && b.dataset.chartReady !== 'true')) {
    if (late()) return {error: 'charts not drawn'};
    await new Promise((r) => setTimeout(r, 2));
  }
  while (!performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd) {
    if (late()) return {error: 'DOMContentLoaded not ended'};
    await new Promise((r) => setTimeout(r, 2));
  }
  await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  const nav = performance.getEntriesByType('navigation')[0];
  return {'html': nav.responseEnd, 'parsed': nav.domInteractive, 'scripts run': nav.domContentLoadedEventStart,
          'charts drawn': nav.domContentLoadedEventEnd, 'two frames later': performance.now(),
          charts: boxes.filter((b) => b.dataset.chartReady === 'true').length,
          elements: document.getElementsByTagName('*').length};
}
"""


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_database_args(p)
    p.add_argument("--runs", type=int, default=8, help="loads of each page (default 8)")
    return p.parse_args()


def leaders_page() -> bytes:
    import stats
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client()
    client.force_login(get_user_model().objects.get(username="leader"))
    response = client.get(f"/dashboard/?as_of={stats.TODAY.isoformat()}")
    assert response.status_code == 200, response.status_code
    return response.content


def main() -> None:
    args = parse_args()
    prepare(args, "bench/dashboard_floor.py")
    from playwright.sync_api import sync_playwright

    page_html = leaders_page()
    pages = {
        "the page": page_html,
        "the page without ECharts": re.sub(rb'<script src="[^"]*echarts[^"]*"[^>]*></script>', b"", page_html),
    }
    results: dict[str, list[dict[str, float]]] = {name: [] for name in pages}
    before = load_average()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        tabs, floors = {}, []
        for name, html in pages.items():  # one context each, as one leader's browser keeps its caches
            context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
            floors.append(Floor())
            floors[-1].page = html
            tabs[name] = (context.new_page(), floors[-1].base)
        for run in range(args.runs + 1):
            for name, (page, base) in tabs.items():  # alternately
                page.goto(base + "/dashboard/", wait_until="commit")
                got = page.evaluate(TIMES)
                if "error" in got:
                    sys.exit(f"{name}: {got['error']}")
                if run:  # the first round warms the caches
                    results[name].append(got)
        browser.close()
    for floor in floors:
        floor.stop()
    print(f"load average before / after: {before} → {load_average()}")
    print(f"\nthe leader's page ({len(page_html) / 1024:.0f} KB of HTML), no server work; median of {args.runs} ms")
    print("| page | elements | charts | " + " | ".join(MARKS) + " |")
    print("|---|---|---|" + "---|" * len(MARKS))
    for name, loads in results.items():
        marks = " | ".join(f"{statistics.median(load[m] for load in loads):.0f}" for m in MARKS)
        print(f"| {name} | {loads[0]['elements']} | {loads[0]['charts']} | {marks} |")


if __name__ == "__main__":
    main()
