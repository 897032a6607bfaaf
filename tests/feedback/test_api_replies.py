"""Written replies: POST/GET /api/v1/assignments/{id}/replies/ and /api/v1/replies/… (docs/api.md "HTTP API")."""

from __future__ import annotations

import datetime
import hashlib
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from feedback import services
from feedback.models import Assignment, Issue, SignedReply
from tests.conftest import pdf_bytes, reply_pdf
from tests.factories import assigned

NOT_FOUND = {"detail": "未找到该记录，或您无权查看。"}
MONDAY = datetime.datetime(2026, 11, 16, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture(autouse=True)
def frozen_clock(time_machine: Any) -> None:
    time_machine.move_to(MONDAY, tick=False)


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def client_for(user: Any) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def stored_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


@pytest.fixture
def assignment(netoffice: Any) -> Assignment:
    _, (lead,) = assigned(netoffice, lead="zjj", title="学校门口修建人行天桥")
    return lead


def replies_url(assignment: Assignment) -> str:
    return f"/api/v1/assignments/{assignment.pk}/replies/"


def form(**overrides: Any) -> dict[str, Any]:
    data = {
        "file": reply_pdf(),
        "signer_name": "王建国",
        "signer_title": "局长",
        "signed_on": "2026-11-16",
        "result": "explained",
        "summary": "经测算人流车流未达设置标准，暂不修建。",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def submit(user: Any, assignment: Assignment, **overrides: Any) -> Any:
    return client_for(user).post(replies_url(assignment), form(**overrides), format="multipart")


@pytest.fixture
def pending_reply(assignment: Assignment, zjj_staff: Any) -> SignedReply:
    return services.submit_reply(
        actor=zjj_staff,
        assignment=assignment,
        file=reply_pdf(),
        signer_name="王建国",
        signer_title="局长",
        signed_on=datetime.date(2026, 11, 16),
        result="explained",
        summary="暂不修建。",
    )


def test_a_department_member_uploads_a_real_pdf_reply(assignment, zjj_staff, media_root):
    content = pdf_bytes()
    upload = SimpleUploadedFile("回复函.pdf", content, content_type="application/pdf")

    response = submit(zjj_staff, assignment, file=upload)

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["sha256"] == hashlib.sha256(content).hexdigest()
    assert body["size"] == len(content)
    assert body["content_type"] == "application/pdf"
    assert body["original_name"] == "回复函.pdf"
    assert body["assignment"] == assignment.pk
    assert body["version"] == 1
    assert body["review_status"] == "pending"
    assert body["signed_on"] == "2026-11-16"
    assert body["result"] == "explained"
    assert body["result_label"] == "解释说明"
    assert body["download_url"].endswith(f"/api/v1/replies/{body['id']}/download/")
    assignment.refresh_from_db()
    assert assignment.status == Assignment.Status.SUBMITTED
    assert len(stored_files(media_root)) == 1


def test_the_result_may_be_given_as_its_chinese_label(assignment, zjj_staff):
    response = submit(zjj_staff, assignment, result="已解决")

    assert response.status_code == 201
    assert response.json()["result"] == "resolved"
    assert SignedReply.objects.get().result == SignedReply.Result.RESOLVED


def test_an_html_page_named_pdf_is_refused_and_nothing_is_stored(assignment, zjj_staff, media_root):
    html = SimpleUploadedFile("回复函.pdf", b"<html><script>alert(1)</script></html>", content_type="application/pdf")

    response = submit(zjj_staff, assignment, file=html)

    assert response.status_code == 400
    assert list(response.json()) == ["file"]
    assert "PDF" in response.json()["file"][0]
    assert not SignedReply.objects.exists()
    assert stored_files(media_root) == []
    assignment.refresh_from_db()
    assert assignment.status == Assignment.Status.PENDING


def test_a_missing_field_is_named_and_nothing_is_stored(assignment, zjj_staff, media_root):
    response = submit(zjj_staff, assignment, signer_name=None, summary="  ")

    assert response.status_code == 400
    assert set(response.json()) == {"signer_name", "summary"}
    assert not SignedReply.objects.exists()
    assert stored_files(media_root) == []


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"result": "maybe"}, "result"),
        ({"signed_on": "2026-02-30"}, "signed_on"),
        ({"signed_on": "2026-12-01"}, "signed_on"),  # after today: refused by the service
        ({"signed_on": "2026-11-01"}, "signed_on"),  # before the assignment
        ({"file": None}, "file"),
    ],
)
def test_a_bad_field_answers_400_with_that_field_and_stores_nothing(
    assignment, zjj_staff, media_root, overrides, field
):
    response = submit(zjj_staff, assignment, **overrides)

    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert not SignedReply.objects.exists()
    assert stored_files(media_root) == []


@pytest.mark.parametrize("who", ["leader", "netoffice", "admin_user"])
def test_someone_who_sees_the_assignment_but_is_not_in_the_department_may_not_reply(
    request, assignment, media_root, who
):
    response = submit(request.getfixturevalue(who), assignment)

    assert response.status_code == 403
    assert response.json() == {"detail": "只有承办单位的人员可以执行此操作。"}
    assert not SignedReply.objects.exists()
    assert stored_files(media_root) == []


def test_a_co_handling_department_cannot_find_the_lead_departments_assignment(netoffice, zjj_staff):
    _, (lead, _co) = assigned(netoffice, lead="jyj", co=("zjj",))

    response = submit(zjj_staff, lead)

    assert (response.status_code, response.json()) == (404, NOT_FOUND)


def test_a_second_reply_while_one_awaits_review_is_a_conflict(pending_reply, zjj_staff, media_root):
    before = stored_files(media_root)

    response = submit(zjj_staff, pending_reply.assignment)

    assert response.status_code == 409
    assert "detail" in response.json()
    assert SignedReply.objects.count() == 1
    assert stored_files(media_root) == before


def test_the_replies_of_an_assignment_are_listed_newest_first(pending_reply, netoffice, zjj_staff):
    services.return_reply(actor=netoffice, reply=pending_reply, reason="未加盖公章")
    submit(zjj_staff, pending_reply.assignment)

    response = client_for(netoffice).get(replies_url(pending_reply.assignment))

    assert response.status_code == 200
    assert [row["version"] for row in response.json()] == [2, 1]
    assert response.json()[1]["review_status"] == "returned"
    assert response.json()[1]["review_reason"] == "未加盖公章"


def test_the_reply_list_is_scoped_to_the_user(pending_reply, jyj_head, netoffice, ezoneoffice):
    assert client_for(netoffice).get("/api/v1/replies/").json()["count"] == 1
    assert client_for(jyj_head).get("/api/v1/replies/").json()["count"] == 0
    assert client_for(ezoneoffice).get(f"/api/v1/replies/{pending_reply.pk}/").status_code == 404


def test_the_channel_office_accepts_a_reply_and_the_issue_becomes_replied(pending_reply, netoffice):
    response = client_for(netoffice).post(f"/api/v1/replies/{pending_reply.pk}/accept/", {"note": "同意"})

    assert response.status_code == 200
    assert response.json()["review_status"] == "accepted"
    assignment = Assignment.objects.select_related("issue").get(pk=pending_reply.assignment_id)
    assert assignment.status == Assignment.Status.ACCEPTED
    assert assignment.replied_on == datetime.date(2026, 11, 16)
    assert assignment.issue.status == Issue.Status.REPLIED


@pytest.mark.parametrize("who", ["leader", "zjj_head"])
def test_someone_who_sees_a_reply_but_does_not_run_the_channel_may_not_review_it(request, pending_reply, who):
    api = client_for(request.getfixturevalue(who))

    accept = api.post(f"/api/v1/replies/{pending_reply.pk}/accept/")
    back = api.post(f"/api/v1/replies/{pending_reply.pk}/return/", {"reason": "不行"})

    assert (accept.status_code, back.status_code) == (403, 403)
    pending_reply.refresh_from_db()
    assert pending_reply.review_status == SignedReply.Review.PENDING


def test_another_channels_office_cannot_find_the_reply_to_review(pending_reply, ezoneoffice):
    response = client_for(ezoneoffice).post(f"/api/v1/replies/{pending_reply.pk}/accept/")

    assert (response.status_code, response.json()) == (404, NOT_FOUND)


def test_returning_a_reply_needs_a_reason(pending_reply, netoffice):
    response = client_for(netoffice).post(f"/api/v1/replies/{pending_reply.pk}/return/", {"reason": " "})

    assert response.status_code == 400
    assert list(response.json()) == ["reason"]


def test_the_channel_office_returns_a_reply_for_rework(pending_reply, netoffice):
    response = client_for(netoffice).post(
        f"/api/v1/replies/{pending_reply.pk}/return/", {"reason": "未加盖公章"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["review_status"] == "returned"
    assert Assignment.objects.get(pk=pending_reply.assignment_id).status == Assignment.Status.RETURNED


def test_accepting_a_returned_reply_is_refused_with_the_reason(pending_reply, netoffice):
    services.return_reply(actor=netoffice, reply=pending_reply, reason="未签字")

    response = client_for(netoffice).post(f"/api/v1/replies/{pending_reply.pk}/accept/")

    assert response.status_code == 400
    assert "退回" in response.json()["detail"]


def test_the_download_url_serves_the_stored_scan(assignment, zjj_staff, jyj_head):
    content = pdf_bytes()
    created = submit(zjj_staff, assignment, file=SimpleUploadedFile("回复函.pdf", content)).json()
    api = client_for(zjj_staff)

    response = api.get(created["download_url"])

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
    assert b"".join(response.streaming_content) == content
    assert client_for(jyj_head).get(created["download_url"]).status_code == 404


def test_a_reason_typed_with_a_full_stop_is_not_doubled_in_the_departments_notice(pending_reply, netoffice, zjj_head):
    from django.test import Client

    from feedback.models import Notification

    client_for(netoffice).post(f"/api/v1/replies/{pending_reply.pk}/return/", {"reason": "未加盖公章。"}, format="json")
    note = Notification.objects.get(recipient=zjj_head, kind__startswith="reply_returned")
    assert "理由：未加盖公章。请重新办理" in note.body and "。。" not in note.body
    page = Client()
    page.force_login(zjj_head)
    assert "。。" not in page.get("/notifications/").content.decode()
