"""The office's and departments' forms: nothing that feeds a figure is chosen for the user, empty
choices read "请选择…", and labels end with the full-width colon."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from feedback import services
from feedback.forms import FollowUpForm, IssueFilterForm, IssueForm, ReplyForm
from feedback.models import Assignment, HistoryEntry, Issue, SignedReply
from tests.conftest import reply_pdf
from tests.factories import assigned

pytestmark = pytest.mark.django_db


def replied(office: Any, member: Any) -> Issue:
    """An issue whose only (zjj) assignment has an accepted reply: ready for follow-up."""
    issue, (assignment,) = assigned(office, lead="zjj")
    reply = services.submit_reply(
        actor=member,
        assignment=assignment,
        file=reply_pdf(),
        signer_name="王建国",
        signer_title="局长",
        signed_on=timezone.localdate(),
        result="explained",
        summary="已答复。",
    )
    services.accept_reply(actor=office, reply=reply)
    issue.refresh_from_db()
    return issue


def test_the_follow_up_and_reply_forms_choose_no_result_for_the_user(reference):
    follow_up = FollowUpForm()
    reply = ReplyForm(assignment=Assignment())
    assert follow_up["satisfaction"].value() is None and reply["result"].value() is None
    assert follow_up.fields["satisfaction"].required and reply.fields["result"].required
    for html in (str(follow_up["satisfaction"]), str(reply["result"])):
        assert '<option value="" selected>请选择…</option>' in html
        assert html.count("selected") == 1


def test_a_follow_up_without_a_result_is_shown_again_and_changes_nothing(client, netoffice, zjj_head):
    issue = replied(netoffice, zjj_head)
    history = HistoryEntry.objects.filter(issue=issue).count()
    client.force_login(netoffice)
    response = client.post(reverse("issue_follow_up", args=[issue.pk]), {"satisfaction": "", "comment": "电话已接通"})
    page = response.content.decode()
    assert response.status_code == 400
    assert "请选择回访结果。" in page
    assert "电话已接通" in page  # what the clerk typed is kept
    issue.refresh_from_db()
    assert (issue.status, issue.satisfaction) == (Issue.Status.REPLIED, "")
    assert HistoryEntry.objects.filter(issue=issue).count() == history


def test_a_follow_up_with_a_result_is_recorded(client, netoffice, zjj_head):
    issue = replied(netoffice, zjj_head)
    client.force_login(netoffice)
    response = client.post(reverse("issue_follow_up", args=[issue.pk]), {"satisfaction": "dissatisfied"})
    assert response.status_code == 302 and response.url == reverse("issue_detail", args=[issue.pk])
    issue.refresh_from_db()
    assert (issue.status, issue.satisfaction) == (Issue.Status.FOLLOWED_UP, "dissatisfied")


def test_a_reply_without_a_result_is_shown_again_and_nothing_is_stored(client, netoffice, zjj_head):
    issue, (a,) = assigned(netoffice)
    issue.refresh_from_db()
    before = (a.status, issue.status, HistoryEntry.objects.filter(issue=issue).count())
    client.force_login(zjj_head)
    page = client.get(reverse("reply_upload", args=[a.pk])).content.decode()
    assert '<option value="" selected>请选择…</option>' in page
    response = client.post(
        reverse("reply_upload", args=[a.pk]),
        {
            "file": reply_pdf(),
            "signer_name": "王建国",
            "signer_title": "局长",
            "signed_on": timezone.localdate().isoformat(),
            "summary": "经测算暂不建设。",
        },
    )
    assert response.status_code == 200
    assert "请选择办理结果。" in response.content.decode()
    assert not SignedReply.objects.exists()
    a.refresh_from_db()
    issue.refresh_from_db()
    assert (a.status, issue.status, HistoryEntry.objects.filter(issue=issue).count()) == before


def test_the_issue_page_offers_the_follow_up_with_nothing_chosen(client, netoffice, zjj_head):
    issue = replied(netoffice, zjj_head)
    client.force_login(netoffice)
    page = client.get(reverse("issue_detail", args=[issue.pk])).content.decode()
    start = page.index('id="follow-up"')
    form = page[start : page.index("</form>", start)]
    assert '<option value="" selected>请选择…</option>' in form and 'value="satisfied">满意' in form
    assert "---------" not in page


def test_empty_choices_read_please_choose_instead_of_dashes(client, netoffice):
    form = IssueForm(channels=["net"])
    assert form.fields["category"].empty_label == "请选择…"
    assert form.fields["lead"].empty_label == "（暂不交办）"  # an empty label of its own is kept
    client.force_login(netoffice)
    page = client.get(reverse("issue_create")).content.decode()
    assert "请选择…" in page and "---------" not in page


def test_filter_labels_end_with_the_full_width_colon(client, netoffice, leader):
    assert IssueFilterForm()["channel"].label_tag() == '<label for="id_channel">渠道：</label>'
    client.force_login(netoffice)
    page = client.get(reverse("issue_list")).content.decode()
    assert "渠道：</label>" in page and ":</label>" not in page
    client.force_login(leader)
    page = client.get(reverse("county_report")).content.decode()
    assert "受理日期从：</label>" in page and ":</label>" not in page


def test_a_bad_scan_is_reported_together_with_a_missing_result(client, netoffice, zjj_head):
    from django.core.files.uploadedfile import SimpleUploadedFile

    _, (a,) = assigned(netoffice)
    client.force_login(zjj_head)
    response = client.post(
        reverse("reply_upload", args=[a.pk]),
        {
            "file": SimpleUploadedFile("回复函.pdf", b"GIF89a not a pdf"),
            "signer_name": "王建国",
            "signer_title": "局长",
            "signed_on": timezone.localdate().isoformat(),
            "summary": "x",
        },
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "请选择办理结果。" in page and "文件内容与扩展名不符" in page
    assert not SignedReply.objects.exists()


def test_an_empty_follow_up_from_a_stale_page_is_refused_with_a_message(client, netoffice, zjj_head):
    issue = replied(netoffice, zjj_head)
    services.record_follow_up(actor=netoffice, issue=issue, satisfaction="basically")
    client.force_login(netoffice)
    response = client.post(reverse("issue_follow_up", args=[issue.pk]), {"satisfaction": ""}, follow=True)
    assert "请选择回访结果。" in response.content.decode()
    issue.refresh_from_db()
    assert (issue.status, issue.satisfaction) == (Issue.Status.FOLLOWED_UP, "basically")
