"""并单 at batch intake (issue 19): a row of a channel's grid merged into a suggested issue, or kept
apart from it, by one click; applied when the batch is saved, all rows or none, and recorded."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from channels_citizen import services as citizen
from channels_enterprise import services as enterprise
from channels_net import services as net
from channels_net.models import Forum, NetIntake
from feedback import services
from feedback.errors import BatchRejected
from feedback.models import Assignment, Category, HistoryEntry, Issue
from tests.channels.test_net_intake import good, management, row
from tests.feedback.test_merging import assign, new

pytestmark = pytest.mark.django_db


@pytest.fixture
def held_forum(reference: None) -> Forum:
    return Forum.objects.create(title="第八次网民座谈会", held_on=timezone.localdate() - datetime.timedelta(days=1))


@pytest.fixture
def water(netoffice) -> Issue:
    lead = new(netoffice)
    assign(netoffice, lead, lead="slj")
    return lead


def test_a_row_merged_at_intake_joins_its_lead_and_the_others_are_assigned(netoffice, held_forum, water):
    issues = net.record_forum_requests(
        actor=netoffice,
        forum=held_forum,
        rows=[
            row(content="红星村供水不正常", duplicate=services.DuplicateChoice(merge_into=water.ref)),
            row(content="学校门口修天桥", duplicate=services.DuplicateChoice(kept_apart=(water.ref,))),
            row(content="公交线路延伸"),
        ],
    )
    merged, apart, plain = (Issue.objects.get(pk=i.pk) for i in issues)
    assert merged.merged_into_id == water.pk and not Assignment.objects.filter(issue=merged).exists()
    assert NetIntake.objects.filter(issue=merged, forum=held_forum).exists()  # still the forum's request
    assert "登记时确认重复" in HistoryEntry.objects.get(issue=merged, action="merged").note
    assert apart.merged_into_id is None and apart.status == Issue.Status.ASSIGNED
    note = HistoryEntry.objects.get(issue=apart, action="kept_apart").note
    assert note == f"登记时提示可能与 {water.ref} 重复，经核实不是重复，单独办理"
    assert not HistoryEntry.objects.filter(issue=plain, action="kept_apart").exists()


def test_a_merge_into_an_unseen_issue_fails_the_whole_batch(netoffice, ezoneoffice, held_forum, admin_user):
    elsewhere = new(admin_user, channel="enterprise")
    with pytest.raises(BatchRejected) as caught:
        net.record_forum_requests(
            actor=netoffice,
            forum=held_forum,
            rows=[row(), row(duplicate=services.DuplicateChoice(merge_into=elsewhere.ref))],
        )
    assert list(caught.value.rows) == [1] and "无权查看" in caught.value.rows[1].message
    assert Issue.objects.count() == 1  # only the issue made before the batch


def test_the_enterprise_grid_merges_only_into_what_its_office_sees(ezoneoffice, water):
    from tests.channels.enterprise_factories import EnterpriseDayFactory, EnterpriseFactory

    day, firm = EnterpriseDayFactory(), EnterpriseFactory()

    def problem(into: str) -> enterprise.ProblemData:
        return enterprise.ProblemData(
            enterprise=firm,
            category=Category.objects.get(code="urban"),
            title="园区道路又积水",
            content="园区道路一下雨就积水",
            duplicate=services.DuplicateChoice(merge_into=into),
        )

    with pytest.raises(BatchRejected):  # 经开区 cannot see a 政网 issue: refused, nothing written
        enterprise.raise_problems(actor=ezoneoffice, day=day, problems=[problem(water.ref)])
    own = new(ezoneoffice, channel="enterprise", title="园区道路积水")
    (intake,) = enterprise.raise_problems(actor=ezoneoffice, day=day, problems=[problem(own.ref)])
    assert Issue.objects.get(pk=intake.issue_id).merged_into_id == own.pk


def test_a_citizen_row_merged_needs_no_lead_department(petitionoffice):
    from tests.channels.citizen_factories import request_row, visit, week

    held = visit(petitionoffice, week(petitionoffice))
    own = new(petitionoffice, channel="citizen", title="村道路灯不亮")
    with pytest.raises(BatchRejected) as caught:
        citizen.record_visit_requests(actor=petitionoffice, visit=held, rows=[request_row(lead=None)])
    assert "主办单位" in caught.value.rows[0].message
    choice = services.DuplicateChoice(merge_into=own.ref)
    (issue,) = citizen.record_visit_requests(
        actor=petitionoffice, visit=held, rows=[request_row(lead=None, duplicate=choice)]
    )
    assert Issue.objects.get(pk=issue.pk).merged_into_id == own.pk


# --- the grid page ---------------------------------------------------------------------------------------


def test_the_grid_saves_the_rows_choices_from_its_hidden_fields(client: Client, netoffice, held_forum, water):
    client.force_login(netoffice)
    url = reverse("channels_net:forum_intake", args=[held_forum.pk])
    page = client.get(url).content.decode()
    assert 'name="rows-0-merge_into"' in page and 'name="rows-0-kept_apart"' in page
    data = {
        **management(3),
        **good(0, content="红星村供水不正常", departments="", merge_into=water.ref),
        **good(1, content="学校门口修天桥", kept_apart=f"{water.ref}"),
        **good(2, content="公交线路延伸"),
    }
    answer = client.post(url, data)
    assert answer.status_code == 302, answer.content.decode()[:2000]
    merged = Issue.objects.get(content="红星村供水不正常")
    assert merged.merged_into_id == water.pk
    assert HistoryEntry.objects.filter(issue__content="学校门口修天桥", action="kept_apart").exists()
    assert Assignment.objects.filter(issue__content="公交线路延伸").exists()


def test_a_row_without_departments_and_without_a_merge_is_still_refused(client: Client, netoffice, held_forum):
    client.force_login(netoffice)
    url = reverse("channels_net:forum_intake", args=[held_forum.pk])
    answer = client.post(url, {**management(1), **good(0, departments="")})
    assert answer.status_code == 200 and "承办单位" in answer.content.decode()
    assert not Issue.objects.exists()


def test_a_stale_merge_choice_fails_the_batch_and_shows_on_its_row(client: Client, netoffice, held_forum):
    client.force_login(netoffice)
    url = reverse("channels_net:forum_intake", args=[held_forum.pk])
    answer = client.post(url, {**management(2), **good(0), **good(1, departments="", merge_into="ZW2026-99999")})
    page = answer.content.decode()
    assert answer.status_code == 200 and "第 2 行：要并入的诉求“ZW2026-99999”不存在，或您无权查看。" in page
    assert not Issue.objects.exists()
