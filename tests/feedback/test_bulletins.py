"""Monthly bulletins (月度通报): hand-computed figures, freezing at publication, the month-end task, access.

The cohort (May 2026, channel 政网 unless said), built through feedback.services. Due dates are set by a
direct update, as in test_statistics.py, so the arithmetic reads in dates; the ladder's bulletin steps
are inserted as the sweep would write them (test_sweeps.py covers the sweep itself).

| issue | received | assignment (due)  | accepted reply      | at 05-31                  |
|-------|----------|-------------------|---------------------|---------------------------|
| I1    | 05-04    | zjj (05-10)       | 05-08               | replied on time           |
| I2    | 05-05    | jtj (05-10)       | 05-15               | replied late              |
| I3    | 05-06    | hqz township (05-20) | none             | overdue open              |
| I4    | 05-20    | zjj (06-10)       | 06-05, after as_of  | not replied, not yet due  |
| I5    | 04-20    | zjj (04-30)       | 05-02               | year block only: late     |
| I6    | 05-07    | jtj, 政企 (05-15) | none                | only in the all-channel one |

May, 政网: 4 issues, replied 2 → 50.0%; on time 1, late 1, overdue open 1 → 33.3%.
January–May, 政网: 5 issues, replied 3 → 60.0%; on time 1, late 2, overdue open 1 → 25.0%.
Bureaus: zjj 2 assignments (1 on time, 1 not yet due) → on time 100.0%, reply 50.0%; jtj 1 late → 0.0%,
reply 100.0%. Townships: hqz 1 overdue open → 0.0%. All channels in May: 5 issues, replied 2 → 40.0%.
"""

from __future__ import annotations

import datetime
import io

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from docx import Document

from feedback import services
from feedback.errors import IllegalTransition, NotPermitted
from feedback.figures import bulletins
from feedback.models import Assignment, Bulletin, DeadlineStep, Department
from tests.feedback.test_statistics import make, reply

pytestmark = pytest.mark.django_db

D = datetime.date
MAY = D(2026, 5, 1)


def bulletin_step(assignment: Assignment, day: D) -> DeadlineStep:
    """The ladder's bulletin step as the sweep leaves it once taken (the row may already be waiting)."""
    at = datetime.datetime.combine(day, datetime.time.min, tzinfo=timezone.get_current_timezone())
    step, _ = DeadlineStep.objects.update_or_create(
        assignment=assignment,
        step="bulletin",
        deadline_version=assignment.deadline_version,
        defaults={"due_date": assignment.due_date, "scheduled_for": at, "taken_at": at},
    )
    return step


@pytest.fixture
def may(reference):
    _, (a1,) = make(received=D(2026, 5, 4), lead="zjj", due=D(2026, 5, 10), name="张三")
    reply(a1, D(2026, 5, 8))
    _, (a2,) = make(received=D(2026, 5, 5), lead="jtj", due=D(2026, 5, 10), name="李四")
    reply(a2, D(2026, 5, 15))
    i3, (a3,) = make(received=D(2026, 5, 6), lead="hqz", due=D(2026, 5, 20), name="王五")
    _, (a4,) = make(received=D(2026, 5, 20), lead="zjj", due=D(2026, 6, 10), name="赵六")
    reply(a4, D(2026, 6, 5))
    _, (a5,) = make(received=D(2026, 4, 20), lead="zjj", due=D(2026, 4, 30), name="钱七")
    reply(a5, D(2026, 5, 2))
    _, (a6,) = make(received=D(2026, 5, 7), lead="jtj", due=D(2026, 5, 15), channel="enterprise", name="某电子公司")
    # I3 was supervised in May: its bulletin step is dated 1 June, so it is listed in May's bulletin;
    # I5's step dated 1 May belongs to April's.
    bulletin_step(a3, D(2026, 6, 1))
    bulletin_step(a5, D(2026, 5, 1))
    bulletin_step(a6, D(2026, 6, 1))
    return {"i3": i3, "a3": a3, "a6": a6}


def test_the_figures_of_a_hand_computed_month(may, django_assert_max_num_queries):
    with django_assert_max_num_queries(29):  # 11, and one a linked figure for its frozen list (7 + 7 + 4)
        f = bulletins.compute_figures(MAY, "net")
    m, y = f["month_summary"], f["year_summary"]
    assert (f["month"], f["as_of"]) == ("2026-05", "2026-05-31")
    assert (m["issues"], m["replied"], m["reply_rate"]) == (4, 2, "50.0")
    assert (m["on_time"], m["late"], m["overdue_open"], m["on_time_rate"]) == (1, 1, 1, "33.3")
    assert (y["issues"], y["replied"], y["reply_rate"]) == (5, 3, "60.0")
    assert (y["on_time"], y["late"], y["overdue_open"], y["on_time_rate"]) == (1, 2, 1, "25.0")
    bureaus = {d["department"]: d for d in f["bureaus"]}
    assert set(bureaus) == {"zjj", "jtj"}
    assert (bureaus["zjj"]["assignments"], bureaus["zjj"]["on_time_rate"], bureaus["zjj"]["reply_rate"]) == (
        2,
        "100.0",
        "50.0",
    )
    assert (bureaus["jtj"]["on_time_rate"], bureaus["jtj"]["reply_rate"]) == ("0.0", "100.0")
    assert [(d["department"], d["overdue_open"], d["on_time_rate"]) for d in f["townships"]] == [("hqz", 1, "0.0")]
    assert [item["ref"] for item in f["listed"]] == [may["i3"].ref]
    assert f["listed"][0]["days_overdue"] == 11


def test_the_all_channel_bulletin_counts_every_channel(may):
    f = bulletins.compute_figures(MAY, "")
    assert (f["month_summary"]["issues"], f["month_summary"]["reply_rate"]) == (5, "40.0")
    assert f["listed_total"] == 2


def test_an_empty_month_shows_zeros_and_no_rates(reference):
    f = bulletins.compute_figures(D(2026, 2, 1), "")
    assert f["month_summary"]["issues"] == 0
    assert f["month_summary"]["reply_rate"] is None
    assert f["listed"] == [] and f["bureaus"] == []


def test_a_published_bulletin_never_changes_when_the_data_is_corrected(may, netoffice):
    draft = services.draft_bulletin(actor=netoffice, month=MAY, channel="net")
    published = services.publish_bulletin(actor=netoffice, bulletin=draft)
    frozen = published.figures
    assert published.status == Bulletin.Status.PUBLISHED and published.published_by == netoffice

    # A late reply, dated in May, is accepted afterwards: the live figures change, the bulletin does not.
    reply(may["a3"], D(2026, 5, 25))
    assert bulletins.compute_figures(MAY, "net")["month_summary"]["replied"] == 3
    published.refresh_from_db()
    assert published.figures == frozen
    assert published.figures["month_summary"]["replied"] == 2

    with pytest.raises(IllegalTransition):
        services.draft_bulletin(actor=netoffice, month=MAY, channel="net")
    with pytest.raises(IllegalTransition):
        services.publish_bulletin(actor=netoffice, bulletin=published)
    published.figures = {"month_summary": {"replied": 3}}
    with pytest.raises(ValueError, match="已发布"):
        published.save()
    with pytest.raises(ValueError, match="已发布"):
        published.delete()
    published.refresh_from_db()
    assert published.figures == frozen


def test_a_stale_draft_in_memory_cannot_overwrite_the_published_bulletin(may, netoffice):
    draft = services.draft_bulletin(actor=netoffice, month=MAY, channel="net")
    stale = Bulletin.objects.get(pk=draft.pk)
    services.publish_bulletin(actor=netoffice, bulletin=draft)
    stale.figures = {}
    with pytest.raises(ValueError):
        stale.save()


def test_a_draft_is_recomputed_until_it_is_published(may, netoffice):
    draft = services.draft_bulletin(actor=netoffice, month=MAY, channel="net")
    assert draft.figures["month_summary"]["replied"] == 2
    reply(may["a3"], D(2026, 5, 25))
    again = services.draft_bulletin(actor=netoffice, month=MAY, channel="net")
    assert again.pk == draft.pk
    assert again.figures["month_summary"]["replied"] == 3


def test_only_an_administrator_or_the_channels_office_drafts_and_publishes(may, netoffice, ezoneoffice, leader):
    with pytest.raises(NotPermitted):
        services.draft_bulletin(actor=leader, month=MAY, channel="net")
    with pytest.raises(NotPermitted):
        services.draft_bulletin(actor=ezoneoffice, month=MAY, channel="net")
    with pytest.raises(NotPermitted):
        services.draft_bulletin(actor=netoffice, month=MAY, channel="")  # the all-channel one is the admin's


def test_the_month_end_task_drafts_last_months_bulletins_once(may, admin_user):
    from feedback import tasks

    with time_machine.travel(datetime.datetime(2026, 6, 1, 7, 0, tzinfo=timezone.get_current_timezone())):
        assert tasks.draft_month_end_bulletins() == 4
        services.publish_bulletin(actor=admin_user, bulletin=Bulletin.objects.get(month=MAY, channel=""))
        assert tasks.draft_month_end_bulletins() == 0
    assert sorted(Bulletin.objects.filter(month=MAY).values_list("channel", flat=True)) == [
        "",
        "citizen",
        "enterprise",
        "net",
    ]
    assert Bulletin.objects.get(month=MAY, channel="").status == Bulletin.Status.PUBLISHED


def test_a_bulletin_is_not_drafted_for_a_month_not_yet_begun(reference, admin_user):
    from feedback.errors import InvalidInput

    with pytest.raises(InvalidInput):
        services.draft_bulletin(actor=admin_user, month=D(2027, 3, 1), channel="")


# --- pages --------------------------------------------------------------------------------------------


def test_the_office_sees_its_channel_and_the_all_channel_bulletins_only(may, admin_user, ezoneoffice, client):
    all_channels = services.draft_bulletin(actor=admin_user, month=MAY, channel="")
    net = services.draft_bulletin(actor=admin_user, month=MAY, channel="net")
    enterprise = services.draft_bulletin(actor=admin_user, month=MAY, channel="enterprise")
    client.force_login(ezoneoffice)
    page = client.get(reverse("bulletin_list")).content.decode()
    assert str(all_channels) in page and str(enterprise) in page and str(net) not in page
    assert client.get(reverse("bulletin_detail", args=[net.pk])).status_code == 404
    assert client.get(reverse("bulletin_detail", args=[enterprise.pk])).status_code == 200
    # Offices may not publish the all-channel bulletin: the page offers no button, the POST refuses.
    client.post(reverse("bulletin_publish", args=[all_channels.pk]))
    all_channels.refresh_from_db()
    assert all_channels.status == Bulletin.Status.DRAFT
    client.post(reverse("bulletin_publish", args=[enterprise.pk]))
    enterprise.refresh_from_db()
    assert enterprise.status == Bulletin.Status.PUBLISHED


def test_departments_get_404(may, admin_user, zjj_head, client):
    b = services.draft_bulletin(actor=admin_user, month=MAY, channel="")
    client.force_login(zjj_head)
    assert client.get(reverse("bulletin_list")).status_code == 404
    assert client.get(reverse("bulletin_detail", args=[b.pk])).status_code == 404
    assert client.get(reverse("bulletin_print", args=[b.pk])).status_code == 404


def test_the_bulletin_page_ranks_bureaus_and_townships_apart_and_lists_the_items(
    may, admin_user, leader, client, django_assert_max_num_queries
):
    b = services.publish_bulletin(
        actor=admin_user, bulletin=services.draft_bulletin(actor=admin_user, month=MAY, channel="net")
    )
    client.force_login(leader)
    client.get(reverse("bulletin_detail", args=[b.pk]))  # warm the session and scope
    with django_assert_max_num_queries(12):
        page = client.get(reverse("bulletin_detail", args=[b.pk])).content.decode()
    assert "县直部门排名" in page and "乡镇排名" in page
    assert page.index("县住房和城乡建设局") < page.index("县交通运输局") < page.index("黄桥镇")
    assert may["i3"].ref in page and "发布通报" not in page
    printed = client.get(reverse("bulletin_print", args=[b.pk])).content.decode()
    assert "print-doc" in printed and may["i3"].ref in printed


def test_an_administrator_drafts_by_hand_from_the_list(reference, admin_user, client):
    client.force_login(admin_user)
    response = client.post(reverse("bulletin_draft"), {"month": "2026-05", "channel": ""})
    b = Bulletin.objects.get(month=MAY, channel="")
    assert response.status_code == 302 and response["Location"] == reverse("bulletin_detail", args=[b.pk])
    assert client.post(reverse("bulletin_draft"), {"month": "May", "channel": ""}).status_code == 302


# --- the Word document (DOCX) of a published bulletin ---------------------------------------------------

MAY_NET_TABLES = [
    [
        ["指标", "本月受理", "本年累计"],
        ["诉求件数", "4", "5"],
        ["诉求人", "4", "5"],
        ["办理回复率", "50.0%（2/4）", "60.0%（3/5）"],
        ["按期回复率", "33.3%", "25.0%"],
        ["办结率", "0.0%", "0.0%"],
        ["满意率", "—", "—"],
        ["超期未回复（交办）", "1", "1"],
    ],
    [
        ["名次", "单位", "交办", "按期率", "回复率", "超期未回复"],
        ["1", "县住房和城乡建设局", "2", "100.0%", "50.0%", "0"],
        ["2", "县交通运输局", "1", "0.0%", "100.0%", "0"],
    ],
    [["名次", "单位", "交办", "按期率", "回复率", "超期未回复"], ["1", "黄桥镇", "1", "0.0%", "0.0%", "1"]],
    [
        ["编号", "诉求", "承办单位", "办理期限", "至月末超期（天）"],
        ["{i3}", "王五的诉求", "黄桥镇（主办）", "2026-05-20", "11"],
    ],
]


def docx_of(client, bulletin):
    response = client.get(reverse("bulletin_docx", args=[bulletin.pk]))
    assert response.status_code == 200
    return response, Document(io.BytesIO(response.content))


def cells(document) -> list[list[list[str]]]:
    return [[[cell.text for cell in row.cells] for row in table.rows] for table in document.tables]


def paragraphs(document) -> list[str]:
    return [p.text for p in document.paragraphs if p.text]


@pytest.fixture
def published_may(may, netoffice):
    return services.publish_bulletin(
        actor=netoffice, bulletin=services.draft_bulletin(actor=netoffice, month=MAY, channel="net")
    )


def test_the_docx_prints_the_frozen_tables_cell_for_cell_with_headings_issuer_and_date(
    published_may, may, leader, client
):
    client.force_login(leader)
    response, document = docx_of(client, published_may)
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert "attachment" in response["Content-Disposition"] and ".docx" in response["Content-Disposition"]
    assert response["Cache-Control"] == "private, no-store"

    expected = [[[text.format(i3=may["i3"].ref) for text in row] for row in table] for table in MAY_NET_TABLES]
    assert cells(document) == expected
    # The same cells as the page's tables, both read from the frozen figures.
    page = bulletins.bulletin_tables(published_may.figures)
    assert cells(document) == [[list(t.columns)] + [[c.text for c in row] for row in t.rows] for t in page]

    text = paragraphs(document)
    assert text[0] == "2026年5月政网直通车办理情况通报"
    assert "（2026年5月1日至2026年5月31日受理，数据截至2026年5月31日）" in text
    headings = [t for t in text if t[:2] in ("一、", "二、", "三、", "四、")]
    assert headings == ["一、总体情况", "二、县直部门排名", "三、乡镇排名", "四、列入通报的超期事项（1 件）"]
    published_on = timezone.localdate(published_may.published_at)
    assert text[-2:] == ["县委网信办", f"{published_on.year}年{published_on.month}月{published_on.day}日"]
    assert document.core_properties.title == "2026年5月政网直通车办理情况通报"


def test_correcting_the_data_after_publication_does_not_change_the_docx(published_may, may, netoffice, client):
    client.force_login(netoffice)
    _, before = docx_of(client, published_may)
    reply(may["a3"], D(2026, 5, 25))  # the overdue item gets a reply dated in May, accepted afterwards
    assert bulletins.compute_figures(MAY, "net")["month_summary"]["replied"] == 3
    _, after = docx_of(client, published_may)
    assert cells(after) == cells(before)
    assert paragraphs(after) == paragraphs(before)
    assert cells(after)[0][3] == ["办理回复率", "50.0%（2/4）", "60.0%（3/5）"]


def test_the_docx_follows_the_pages_access_and_exists_only_once_published(
    may, admin_user, netoffice, ezoneoffice, zjj_head, client
):
    draft = services.draft_bulletin(actor=admin_user, month=MAY, channel="net")
    client.force_login(netoffice)
    assert client.get(reverse("bulletin_docx", args=[draft.pk])).status_code == 404  # figures still change
    page = client.get(reverse("bulletin_detail", args=[draft.pk])).content.decode()
    assert reverse("bulletin_docx", args=[draft.pk]) not in page and "发布后可下载 Word 文档" in page

    published = services.publish_bulletin(actor=netoffice, bulletin=draft)
    page = client.get(reverse("bulletin_detail", args=[published.pk])).content.decode()
    assert reverse("bulletin_docx", args=[published.pk]) in page
    assert client.get(reverse("bulletin_docx", args=[published.pk])).status_code == 200
    for outsider in (ezoneoffice, zjj_head):  # another channel's office, a department
        client.force_login(outsider)
        assert client.get(reverse("bulletin_docx", args=[published.pk])).status_code == 404
    client.logout()
    assert client.get(reverse("bulletin_docx", args=[published.pk])).status_code == 302  # to the login page


def test_the_issuer_is_frozen_with_the_figures(may, admin_user, client):
    net = services.publish_bulletin(
        actor=admin_user, bulletin=services.draft_bulletin(actor=admin_user, month=MAY, channel="net")
    )
    every = services.publish_bulletin(
        actor=admin_user, bulletin=services.draft_bulletin(actor=admin_user, month=MAY, channel="")
    )
    assert (net.figures["issuer"], every.figures["issuer"]) == ("县委网信办", "三个直通车办公室")
    Department.objects.filter(code="wxb").update(name="中共某县委网络安全和信息化委员会办公室")
    client.force_login(admin_user)
    _, document = docx_of(client, net)
    assert paragraphs(document)[-2] == "县委网信办"
    assert "县委网信办" in client.get(reverse("bulletin_print", args=[net.pk])).content.decode()
    _, document = docx_of(client, every)
    assert paragraphs(document)[0] == "2026年5月三个直通车办理情况通报"
    assert paragraphs(document)[-2] == "三个直通车办公室"


def _linked(page: str) -> list[tuple[str, str]]:
    import re
    from html import unescape

    return [
        (unescape(href), text)
        for href, text in re.findall(r'<a href="(/bulletins/\d+/items/\?[^"]+)">([^<]+)</a>', page)
    ]


def test_every_linked_number_of_a_bulletin_opens_its_records_frozen_at_publication(may, admin_user, leader, client):
    import re

    b = services.publish_bulletin(
        actor=admin_user, bulletin=services.draft_bulletin(actor=admin_user, month=MAY, channel="net")
    )
    client.force_login(leader)
    page = client.get(reverse("bulletin_detail", args=[b.pk])).content.decode()
    linked = _linked(page)
    figures = {re.search(r"figure=(\w+)", href).group(1) for href, _ in linked}
    assert {"issues", "replied", "on_time", "closed", "satisfied", "overdue_open", "assignments"} <= figures
    assert {"requesters", "assignments_replied"} <= figures

    def counts() -> dict[str, int]:
        return {href: client.get(href).context["count"] for href, _ in linked}

    before = counts()
    f = b.figures
    for href, text in linked:
        figure = re.search(r"figure=(\w+)", href).group(1)
        if "unit=" in href:
            unit = re.search(r"unit=(\w+)", href).group(1)
            row = next(r for r in f["bureaus"] + f["townships"] if r["department"] == unit)
            # A rate links to the records it is made of (按期率: on time; 回复率: the replied assignments).
            assert before[href] == row[{"assignments_replied": "replied"}.get(figure, figure)]
            assert not text.isdigit() or before[href] == int(text)
        else:
            period = "month_summary" if "period=month" in href else "year_summary"
            assert before[href] == f[period][figure]  # the count is the number the rate is made of
        response = client.get(href)
        assert len(response.context["page"].object_list) == min(before[href], 50)
    # A correction after publication (the overdue reply entered late, dated in May) moves the live
    # figures, but neither the bulletin's numbers nor their lists.
    reply(may["a3"], D(2026, 5, 25))
    live = bulletins.compute_figures(MAY, "net")["month_summary"]
    assert live["overdue_open"] != f["month_summary"]["overdue_open"]
    assert counts() == before
    assert client.get(reverse("bulletin_items", args=[b.pk]) + "?period=month&figure=nope").status_code == 404


def _figure_of(href: str) -> tuple[str, str]:
    """(figure, where: month/year or the unit) of a bulletin item link."""
    from urllib.parse import parse_qs, urlsplit

    query = parse_qs(urlsplit(href).query)
    return query["figure"][0], (query.get("unit") or query.get("period"))[0]


def _expected(f: dict, figure: str, where: str) -> int:
    if where in ("month", "year"):
        return f[f"{where}_summary"][figure]
    row = next(r for r in f["bureaus"] + f["townships"] if r["department"] == where)
    return row[{"assignments_replied": "replied"}.get(figure, figure)]


@pytest.mark.parametrize("channel", ["net", ""])
def test_every_number_links_on_the_page_the_print_page_and_in_the_docx(
    may, admin_user, leader, client, settings, channel
):
    settings.PORTAL_URL = "https://ztc.example.gov.cn/"
    b = services.publish_bulletin(
        actor=admin_user, bulletin=services.draft_bulletin(actor=admin_user, month=MAY, channel=channel)
    )
    client.force_login(leader)
    f = b.figures
    expected_cells = {  # every number of the summary and of the rankings: (figure, where)
        *((figure, period) for figure in bulletins.SUMMARY_LINKED.values() for period in ("month", "year")),
        *((figure, r["department"]) for r in f["bureaus"] + f["townships"] for figure in bulletins.DEPARTMENT_LINKED),
    }
    for name in ("bulletin_detail", "bulletin_print"):
        page = client.get(reverse(name, args=[b.pk])).content.decode()
        linked = _linked(page)
        assert {_figure_of(href) for href, _ in linked} == expected_cells, name
        assert "data-unlinked" not in page
        for href, text in linked:
            figure, where = _figure_of(href)
            response = client.get(href)
            assert response.context["count"] == _expected(f, figure, where), href
            assert not text.isdigit() or response.context["count"] == int(text)
    requesters = client.get(reverse("bulletin_items", args=[b.pk]) + "?period=month&figure=requesters")
    names = {r.name for r in requesters.context["page"].object_list}
    assert names == ({"张三", "李四", "王五", "赵六"} | ({"某电子公司"} if not channel else set()))

    _, document = docx_of(client, b)
    links = [
        (h.url, h.text)
        for t in document.tables
        for row in t.rows
        for c in row.cells
        for h in c.paragraphs[0].hyperlinks
    ]
    base = "https://ztc.example.gov.cn"
    numbers = [(url, text) for url, text in links if "/items/" in url]
    assert {_figure_of(url) for url, _ in numbers} == expected_cells
    for url, text in numbers:
        assert url.startswith(base + "/bulletins/")
        figure, where = _figure_of(url)
        count = client.get(url.removeprefix(base)).context["count"]
        assert count == _expected(f, figure, where)
        assert not text.isdigit() or count == int(text)
    # The listed item's reference leads to its issue.
    assert any(url == base + reverse("issue_detail", args=[may["i3"].pk]) for url, _ in links)


def test_a_bulletin_published_before_its_records_were_frozen_says_so_and_links_nowhere(may, admin_user, leader, client):
    b = services.publish_bulletin(
        actor=admin_user, bulletin=services.draft_bulletin(actor=admin_user, month=MAY, channel="net")
    )
    figures = dict(b.figures)
    old = {k: v for k, v in figures.items() if k != "lists"}
    Bulletin.objects.filter(pk=b.pk).update(figures=old)  # as stored before issue 14 (save() refuses)
    client.force_login(leader)
    for name in ("bulletin_detail", "bulletin_print"):
        page = client.get(reverse(name, args=[b.pk])).content.decode()
        assert _linked(page) == []
        assert "data-unlinked" in page and "本通报发布时没有保存数字背后的记录清单" in page
    assert client.get(reverse("bulletin_items", args=[b.pk]) + "?period=month&figure=issues").status_code == 404
    _, document = docx_of(client, b)
    hyperlinks = [
        h.url for t in document.tables for row in t.rows for c in row.cells for h in c.paragraphs[0].hyperlinks
    ]
    assert not [url for url in hyperlinks if "/items/" in url]  # only the listed item's reference, to its issue
    assert any("本通报发布时没有保存数字背后的记录清单" in p for p in paragraphs(document))

    # Published with the first frozen lists (no requesters, no departments' rates): those alone unlinked.
    first = dict(figures["lists"])
    first["month"] = {k: v for k, v in first["month"].items() if k != "requesters"}
    first["year"] = {k: v for k, v in first["year"].items() if k != "requesters"}
    first["departments"] = {
        code: {k: v for k, v in rows.items() if k in ("assignments", "overdue_open")}
        for code, rows in first["departments"].items()
    }
    Bulletin.objects.filter(pk=b.pk).update(figures={**old, "lists": first})
    page = client.get(reverse("bulletin_detail", args=[b.pk])).content.decode()
    figures_linked = {_figure_of(href)[0] for href, _ in _linked(page)}
    assert "requesters" not in figures_linked and "on_time" in figures_linked  # the summary's on-time rate
    assert "assignments" in figures_linked and "assignments_replied" not in figures_linked
    assert "本通报发布时没有保存诉求人、单位的按期率和回复率背后的记录清单" in page
