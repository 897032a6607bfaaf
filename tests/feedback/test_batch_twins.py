"""Duplicates inside one batch (issue 19): two rows of the same grid that are the same request are
flagged to each other ("与第 N 行相似" with the reason, ``similar.within_batch`` and
``POST /api/v1/issues/similar/batch/``), and the later row is merged into the earlier one when the batch
is saved (并入第 N 行): all rows or none, recorded in both issues' history."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from channels_enterprise import services as enterprise
from channels_net import services as net
from channels_net.models import Forum, NetIntake
from feedback import services, similar
from feedback.errors import BatchRejected
from feedback.models import Assignment, Category, HistoryEntry, Issue
from tests.channels.test_net_intake import good, management, row

# A paraphrase of one request, and a near miss (the same village, another problem), from the labelled
# pairs of tests/data/similar_pairs.csv.
FIRST = ("反映江口镇红星村供水不正常", "红星村供水很不稳定，隔几天就没水，估计是水管破了，请派人来查一查。")
SAME = ("红星村自来水经常停水", "江口镇红星村最近一个月自来水三天两头停，村民做饭洗衣都成问题，希望水厂尽快检修管网。")
OTHER = (
    "关于红星村农村危房改造补助资金拨付的诉求",
    "红星村已竣工验收的农村危房改造户补助资金迟迟未拨付到位，请求尽快兑现。",
)


def req(text: tuple[str, str], **more: object) -> similar.Request:
    return similar.Request(title=text[0], content=text[1], **more)  # type: ignore[arg-type]


# --- the service -----------------------------------------------------------------------------------------


def test_the_same_request_in_other_words_is_paired_with_the_earlier_row_and_says_why() -> None:
    (pair,) = similar.within_batch([req(FIRST), req(OTHER), req(SAME)], names={})
    assert (pair.earlier, pair.later) == (0, 2) and pair.score >= similar.LIKELY
    assert pair.reasons == ["同一地点：红星村"]  # the words differ (停水/没水, the lexicon's 供水)


def test_the_same_place_with_another_problem_is_not_a_pair() -> None:
    assert similar.within_batch([req(FIRST), req(OTHER)], names={}) == []


def test_the_same_problem_in_another_village_is_not_a_pair() -> None:
    elsewhere = (SAME[0].replace("红星村", "石门村"), SAME[1].replace("红星村", "石门村"))
    assert similar.within_batch([req(FIRST), req(elsewhere)], names={}) == []


def test_the_same_requester_is_a_reason_and_the_limit_bounds_the_rows() -> None:
    a = req(("路灯坏了", "村口路灯坏了一个月"), requester_phone="13800001111")
    b = req(("村口路灯不亮", "晚上村口黑灯瞎火"), requester_phone="13800001111")
    (pair,) = similar.within_batch([a, b], names={})
    assert pair.reasons[0] == "同一诉求人（电话相同）"
    assert similar.within_batch([a, b], names={}, limit=1) == []


# --- saving a batch with 并入第 N 行 ------------------------------------------------------------------------


@pytest.fixture
def held_forum(reference: None) -> Forum:
    return Forum.objects.create(title="第八次网民座谈会", held_on=timezone.localdate() - datetime.timedelta(days=1))


def into_row(number: int) -> services.DuplicateChoice:
    return services.DuplicateChoice(merge_with=number - 1, merge_with_row=number)


@pytest.mark.django_db
def test_a_later_row_merged_into_an_earlier_one_joins_its_issue_with_history(netoffice, held_forum):
    first, apart, twin = net.record_forum_requests(
        actor=netoffice,
        forum=held_forum,
        rows=[
            row(title=FIRST[0], content=FIRST[1]),
            row(content="学校门口修天桥"),
            row(title=SAME[0], content=SAME[1], lead=None, duplicate=into_row(1)),
        ],
    )
    twin = Issue.objects.get(pk=twin.pk)
    assert twin.merged_into_id == first.pk and not Assignment.objects.filter(issue=twin).exists()
    assert NetIntake.objects.filter(issue=twin, forum=held_forum).exists()
    note = HistoryEntry.objects.get(issue=twin, action="merged").note
    assert f"已并入 {first.ref}" in note and "与本批第 1 行为同一诉求" in note
    assert HistoryEntry.objects.filter(issue=first, action="merge_received", note__contains=twin.ref).exists()
    assert Issue.objects.get(pk=apart.pk).merged_into_id is None


@pytest.mark.django_db
def test_a_row_merged_into_a_row_that_was_merged_joins_that_rows_lead(netoffice, held_forum):
    first, _second, third = net.record_forum_requests(
        actor=netoffice,
        forum=held_forum,
        rows=[
            row(title=FIRST[0], content=FIRST[1]),
            row(title=SAME[0], content=SAME[1], lead=None, duplicate=into_row(1)),
            row(content="红星村又停水了", lead=None, duplicate=into_row(2)),
        ],
    )
    assert Issue.objects.get(pk=third.pk).merged_into_id == first.pk


@pytest.mark.django_db
def test_a_row_merged_into_a_failing_row_fails_the_whole_batch(netoffice, held_forum):
    with pytest.raises(BatchRejected) as caught:
        net.record_forum_requests(
            actor=netoffice,
            forum=held_forum,
            rows=[
                row(content="学校门口修天桥"),
                row(title=FIRST[0], content=""),  # no content: refused
                row(title=SAME[0], content=SAME[1], lead=None, duplicate=into_row(2)),
            ],
        )
    assert sorted(caught.value.rows) == [1, 2]
    assert "第 2 行未能登记" in caught.value.rows[2].message
    assert not Issue.objects.exists()  # the first row, registered, is rolled back with the others


@pytest.mark.django_db
def test_the_enterprise_batch_merges_a_row_into_an_earlier_row(ezoneoffice):
    from tests.channels.enterprise_factories import EnterpriseDayFactory, EnterpriseFactory

    day, firm = EnterpriseDayFactory(), EnterpriseFactory()
    urban = Category.objects.get(code="urban")
    first, twin = enterprise.raise_problems(
        actor=ezoneoffice,
        day=day,
        problems=[
            enterprise.ProblemData(
                enterprise=firm, category=urban, title="园区道路积水", content="园区道路一下雨就积水"
            ),
            enterprise.ProblemData(
                enterprise=firm, category=urban, title="园区路面积水", content="园区路面积水", duplicate=into_row(1)
            ),
        ],
    )
    assert Issue.objects.get(pk=twin.issue_id).merged_into_id == first.issue_id


# --- the grid page and its API ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_grid_saves_a_row_merged_into_an_earlier_row(client: Client, netoffice, held_forum):
    client.force_login(netoffice)
    url = reverse("channels_net:forum_intake", args=[held_forum.pk])
    page = client.get(url).content.decode()
    assert 'name="rows-0-merge_with_row"' in page and "data-similar-batch-api" in page
    data = {
        **management(4),
        **good(0, title=FIRST[0], content=FIRST[1]),
        # row 2 left blank: row 3 is the second row saved, and still says 第 1 行
        **good(2, title=SAME[0], content=SAME[1], departments="", merge_with_row="1"),
        **good(3, content="公交线路延伸"),
    }
    data = {k: v for k, v in data.items() if not k.startswith("rows-1-")}
    answer = client.post(url, data)
    assert answer.status_code == 302, answer.content.decode()[:2000]
    first, twin = Issue.objects.get(title=FIRST[0]), Issue.objects.get(title=SAME[0])
    assert twin.merged_into_id == first.pk and Issue.objects.count() == 3


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("merge_with_row", "message"),
    [("2", "第 2 行不能并入第 2 行"), ("3", "第 2 行不能并入第 3 行"), ("1", "第 1 行是空行")],
)
def test_the_grid_refuses_a_merge_into_itself_a_later_row_or_a_blank_row(
    client: Client, netoffice, held_forum, merge_with_row, message
):
    client.force_login(netoffice)
    url = reverse("channels_net:forum_intake", args=[held_forum.pk])
    data = {
        **management(3),
        **good(1, title=FIRST[0], content=FIRST[1], departments="", merge_with_row=merge_with_row),
        **good(2, content="公交线路延伸"),
    }
    answer = client.post(url, data)
    assert answer.status_code == 200 and message in answer.content.decode()
    assert not Issue.objects.exists()


@pytest.mark.django_db
def test_the_batch_api_names_the_rows_that_repeat_each_other(client: Client, netoffice, reference):
    client.force_login(netoffice)
    rows = [
        {"row": 1, "title": FIRST[0], "content": FIRST[1]},
        {"row": 2, "title": OTHER[0], "content": OTHER[1]},
        {"row": 4, "title": "", "content": ""},
        {"row": 5, "title": SAME[0], "content": SAME[1]},
    ]
    answer = client.post(reverse("api:issue-similar-batch"), {"rows": rows}, content_type="application/json")
    assert answer.status_code == 200
    (pair,) = answer.json()["pairs"]
    assert (pair["row"], pair["same_as"]) == (5, 1) and pair["reasons"] == ["同一地点：江口镇、红星村"]
    assert not Issue.objects.exists()  # reading only


@pytest.mark.django_db
def test_the_batch_api_is_for_those_who_may_see_suggestions(client: Client, zjj_staff):
    client.force_login(zjj_staff)
    answer = client.post(reverse("api:issue-similar-batch"), {"rows": []}, content_type="application/json")
    assert answer.status_code == 403


# --- the ledger import's preview -------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_import_preview_flags_rows_of_the_file_that_repeat_each_other(client: Client, netoffice, monkeypatch):
    from tests.feedback.test_import import csv_bytes, ledger_row, upload

    client.force_login(netoffice)
    today = f"{timezone.localdate():%Y-%m-%d}"
    rows = [
        ledger_row(ref="TZ-1", received_on=today, title=FIRST[0], content=FIRST[1], departments="slj"),
        ledger_row(ref="TZ-2", received_on=today, title=OTHER[0], content=OTHER[1], departments="slj"),
        ledger_row(ref="TZ-3", received_on=today, title=SAME[0], content=SAME[1], departments="slj"),
    ]
    page = upload(client, csv_bytes(rows)).content.decode()
    cells = page.split('class="import-similar"')[1:]
    assert "与第 4 行相似" in cells[0] and "与第 2 行相似" in cells[2] and "相似" not in cells[1]
    assert 'id="import-twins"' in page and "文件中有 2 行" in page and 'id="import-twins-capped"' not in page
    assert not Issue.objects.exists()  # a preview writes nothing
    monkeypatch.setattr(similar, "BATCH_LIMIT", 2)  # the third row is beyond the rows compared
    page = upload(client, csv_bytes(rows)).content.decode()
    assert "与第 4 行相似" not in page and "只查了前 2 行未办结的诉求" in page
