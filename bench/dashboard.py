"""The leaders' dashboard in Chromium at a million issues: navigation to all charts drawn, per period button.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/dashboard.py [--reuse]

PostgreSQL only. Creates (or with ``--reuse`` keeps) the database ``dash_bench`` with bench/stats.py's
generator (1,000,000 issues, 1,500,000 assignments over five years) and the demo accounts, serves the
portal with gunicorn (DEBUG off, as in production; one worker: one leader at a time) and opens
``/dashboard/`` as the county leader in Chromium (Playwright, ``/usr/bin/chromium``), once per period
button (none chosen, 本月, 本季度, 今年, 近12个月, and all five years) as the page draws them on the
generated data's last day (2026-11-28, also the ``as_of``), ``--runs`` times each, alternately.

For each load it prints, from the browser's own clock (``performance.timeOrigin``, the navigation's
start): the server's answer (``responseStart``: the view's whole work), and **all charts drawn**: every
chart box marked ready by static/js/dashboard.js, then two animation frames (the canvas painted).
The yardstick, timed in the same run: **the same page with no server work** — the HTML the view gave
for that period, answered by a small HTTP server in this process (``dashboard_setup.Floor``, with the
static files from the staticfiles finders, cacheable as whitenoise sends them), so the browser runs the
same scripts and styles and draws the same charts, but nothing is computed: the floor of "navigation
to all charts drawn" for that page on this machine. (Until stop 28 the floor was answered through
Playwright routes, which turn the browser's cache off: ECharts was fetched and compiled afresh on every
floor load, so that floor was higher than the page's own loads.) Also printed:
the view through Django's test client in this process, and the overdue preview alone.
"""

from __future__ import annotations

import argparse
import datetime
import os
import statistics as stats_
import sys
import time
from urllib.parse import urlencode

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # the view is timed in-process between page loads

from dashboard_setup import Floor, Server, add_database_args, load_average, prepare, session_cookie

CHROMIUM = "/usr/bin/chromium"


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_database_args(p)
    p.add_argument("--runs", type=int, default=5, help="loads of each period (default 5)")
    p.add_argument("--target-ms", type=float, default=300.0, help="target per load (default 300 ms)")
    return p.parse_args()


def periods(today: datetime.date) -> dict[str, dict[str, str]]:
    """The period buttons of the page (feedback.figures.hot.button_periods), plus none and five years."""
    from feedback.figures.hot import button_periods as _periods

    as_of = {"as_of": today.isoformat()}
    found = {"默认（不选期间）": as_of}
    for label, start, end in _periods(today):
        found[label] = {"received_from": start.isoformat(), "received_to": end.isoformat(), **as_of}
    five = (today - datetime.timedelta(days=5 * 365)).isoformat()
    found["五年"] = {"received_from": five, "received_to": str(today), **as_of}
    return found


DRAWN = """
async () => {
  const deadline = performance.now() + 20000;
  // Parsed, deferred scripts run and DOMContentLoaded's handlers (static/js/dashboard.js) begun.
  while (document.readyState === 'loading') {
    if (performance.now() > deadline) return {error: 'page not parsed'};
    await new Promise((r) => setTimeout(r, 2));
  }
  const boxes = Array.from(document.querySelectorAll('[data-chart]'));
  while (boxes.some((b) => !b.hidden && b.dataset.chartReady !== 'true')) {
    if (performance.now() > deadline) return {error: 'charts not drawn'};
    await new Promise((r) => setTimeout(r, 2));
  }
  await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  const nav = performance.getEntriesByType('navigation')[0];
  return {drawn: performance.now(), response: nav.responseStart, html: nav.responseEnd,
          charts: boxes.filter((b) => b.dataset.chartReady === 'true').length};
}
"""


def view_alone(query: dict[str, str]) -> tuple[float, float, bytes]:
    """(whole view through Django's test client, overdue preview alone) in ms, and the page's HTML."""
    from django.contrib.auth import get_user_model
    from django.test import Client, RequestFactory
    from django.utils import timezone

    from feedback.figures import statistics
    from feedback.views import dashboard as view

    leader = get_user_model().objects.get(username="leader")
    client = Client()
    client.force_login(leader)
    start = time.perf_counter()
    response = client.get("/dashboard/?" + urlencode(query))
    whole = (time.perf_counter() - start) * 1000
    assert response.status_code == 200, response.status_code
    request = RequestFactory().get("/dashboard/", query)
    request.user = leader
    scope = view._dashboard_scope(request)
    _, filters = view._filters(request, scope)
    issues, _ = statistics.scoped(leader)
    cohort = statistics.cohort(issues, **filters.cohort_kwargs())
    start = time.perf_counter()
    with view.one_snapshot():  # as in the page: its transaction, where the walk's SET LOCAL holds
        view.overdue_preview(cohort, filters, filters.as_of or timezone.localdate())
    return whole, (time.perf_counter() - start) * 1000, response.content


def main() -> None:
    args = parse_args()
    url = prepare(args, "bench/dashboard.py")
    import stats
    from playwright.sync_api import sync_playwright

    # The page's buttons as on the generated data's last day (bench/stats.py's TODAY), with that day as
    # as_of: on the machine's own date the current month could hold no generated issue, hence no chart.
    cases = periods(stats.TODAY)
    cookie = session_cookie("leader")
    server = Server(url, args.port, workers=1)
    server.start()
    floor_server = Floor()
    results: dict[str, dict[str, list[float]]] = {
        k: {"drawn": [], "response": [], "floor": [], "view": [], "preview": []} for k in cases
    }
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
            context.add_cookies([{"name": "sessionid", "value": cookie, "url": server.base}])
            page = context.new_page()
            page.goto(server.base + "/dashboard/")  # warm: the worker's imports, the browser's cache
            for run in range(args.runs + 1):
                for label, query in cases.items():
                    target = server.base + "/dashboard/" + ("?" + urlencode(query) if query else "")
                    page.goto(target, wait_until="commit")
                    got = page.evaluate(DRAWN)
                    if "error" in got:
                        sys.exit(f"{label}: {got['error']}")
                    if got["charts"] == 0:
                        sys.exit("no chart drawn: ECharts is not installed (bin/_venv.sh ensure_echarts, or npm ci)")
                    whole, preview, html = view_alone(query)
                    floor_server.page = html
                    page.goto(floor_server.base + "/dashboard/", wait_until="commit")
                    floor_got = page.evaluate(DRAWN)
                    if "error" in floor_got or floor_got["charts"] != got["charts"]:
                        sys.exit(f"{label}: the floor page drew {floor_got} against {got}")
                    floor = floor_got["drawn"]
                    if run == 0:
                        continue  # warm-up round
                    r = results[label]
                    r["drawn"].append(got["drawn"])
                    r["response"].append(got["response"])
                    r["floor"].append(floor)
                    r["view"].append(whole)
                    r["preview"].append(preview)
            browser.close()
    finally:
        server.stop()
        floor_server.stop()

    print(f"\nload average after the run: {load_average()} (2 cores, shared with other jobs)")
    print(f"\n/dashboard/ as the county leader, median of {args.runs} (ms); target ≤ {args.target_ms:.0f} ms")
    header = (
        "| period | all charts drawn | server answered | view in-process | overdue preview | "
        "floor: same page, no server work | drawn / floor | target |"
    )
    print(header)
    print("|---|---|---|---|---|---|---|---|")
    worst = 0.0
    for label, r in results.items():
        m = {k: stats_.median(v) for k, v in r.items()}
        worst = max(worst, m["drawn"])
        print(
            f"| {label} | **{m['drawn']:.0f}** | {m['response']:.0f} | {m['view']:.0f} | {m['preview']:.1f} | "
            f"{m['floor']:.1f} | {m['drawn'] / m['floor']:.2f}× | "
            f"{'met' if m['drawn'] <= args.target_ms else 'NOT met'} |"
        )
    print(f"\nslowest period: {worst:.0f} ms — {'within' if worst <= args.target_ms else 'over'} the target")


if __name__ == "__main__":
    main()
