"""Issue 20: visits captured offline and synced — POST /api/v1/citizen/visit-sync/ (one record per
call, an idempotency key per record), GET /api/v1/citizen/offline-pack/, the page, its service
worker, and the photos attached to the issues."""

from __future__ import annotations

import datetime
import io
import json
import uuid

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image
from rest_framework.test import APIClient

from channels_citizen import offline, services
from channels_citizen.models import CitizenIntake, IntakePhoto, OfflineRecord, Village, Visit
from feedback.access import issues_for
from feedback.models import Assignment, Category, Department, Issue
from feedback.models.security import AuditEvent
from feedback.services import RequesterData
from tests.channels.citizen_factories import week as plan_week
from tests.conftest import make_user, pdf_bytes

pytestmark = pytest.mark.django_db
D = datetime.date
TODAY = datetime.datetime(2026, 12, 6, 10, 0, tzinfo=datetime.UTC)
SYNC = "/api/v1/citizen/visit-sync/"
PACK = "/api/v1/citizen/offline-pack/"


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(TODAY, tick=False):
        yield


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def png(size: tuple[int, int] = (40, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 80, 40)).save(out, "PNG")
    return out.getvalue()


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (20, 120, 200)).save(out, "JPEG", quality=80)
    return out.getvalue()


@pytest.fixture
def week(petitionoffice):
    return plan_week(petitionoffice)  # November 2026: 11-24 … 11-30


@pytest.fixture
def village(reference):
    return Village.objects.create(township=Department.objects.get(code="hqz"), name="向阳村")


def visit_body(week, key=None, **data) -> dict:
    fields = {
        "week": week.pk,
        "visit_kind": "reception",
        "township": "hqz",
        "held_on": "2026-11-25",
        "lawyer_present": True,
        "lawyer_name": "李律师",
        "notes": "集中接访 12 人",
        "meetings": [{"place": "向阳村院坝", "attendance": 23, "outcome": "就灌渠修复达成一致"}],
    }
    fields.update(data)
    return {"key": str(key or uuid.uuid4()), "kind": "visit", "data": fields}


def request_body(visit_key, key=None, **data) -> dict:
    fields = {
        "visit_key": str(visit_key),
        "requester_name": "王某某",
        "requester_phone": "13812345678",
        "category": "rural",
        "content": "村口灌渠垮塌，春耕前需要修复",
    }
    fields.update(data)
    return {"key": str(key or uuid.uuid4()), "kind": "request", "data": json.dumps(fields)}


def synced_visit(user, week) -> uuid.UUID:
    key = uuid.uuid4()
    assert api(user).post(SYNC, visit_body(week, key), format="json").status_code == 201
    return key


def post_request(user, visit_key, *, photos=(), key=None, **data):
    body = request_body(visit_key, key, **data)
    body["photos"] = list(photos)
    return api(user).post(SYNC, body, format="multipart")


# --- visits ----------------------------------------------------------------------------------------


def test_a_visit_is_recorded_once_whatever_the_retries(petitionoffice, week):
    key = uuid.uuid4()
    first = api(petitionoffice).post(SYNC, visit_body(week, key), format="json")
    assert first.status_code == 201 and first.json()["replayed"] is False
    visit = Visit.objects.get(pk=first.json()["visit"])
    assert (visit.lawyer_name, visit.created_by, visit.held_on) == ("李律师", petitionoffice, D(2026, 11, 25))
    assert [(m.attendance, m.place) for m in visit.courtyard_meetings.all()] == [(23, "向阳村院坝")]
    again = api(petitionoffice).post(SYNC, visit_body(week, key, notes="第二次点击"), format="json")
    assert again.status_code == 200
    assert again.json() == {**first.json(), "replayed": True}  # the first answer, nothing new
    assert Visit.objects.count() == 1 and visit.courtyard_meetings.count() == 1


def test_the_same_key_of_another_user_is_another_record(petitionoffice, admin_user, week):
    key = uuid.uuid4()
    assert api(petitionoffice).post(SYNC, visit_body(week, key), format="json").status_code == 201
    assert api(admin_user).post(SYNC, visit_body(week, key), format="json").status_code == 201
    assert Visit.objects.count() == 2


def test_a_visit_outside_its_week_is_refused_leaves_nothing_and_is_accepted_once_corrected(petitionoffice, week):
    key = uuid.uuid4()
    # The office moved the week after the phone downloaded it: the 23rd is no longer inside.
    refused = api(petitionoffice).post(SYNC, visit_body(week, key, held_on="2026-11-23"), format="json")
    assert refused.status_code == 400
    assert "接访日期必须在本月无会周内" in refused.json()["held_on"][0]
    assert not Visit.objects.exists() and not OfflineRecord.objects.exists()
    corrected = api(petitionoffice).post(SYNC, visit_body(week, key, held_on="2026-11-26"), format="json")
    assert corrected.status_code == 201 and Visit.objects.get().held_on == D(2026, 11, 26)


def test_a_week_that_no_longer_exists_is_a_reason_not_a_404(petitionoffice, week):
    body = visit_body(week)
    body["data"]["week"] = week.pk + 999
    response = api(petitionoffice).post(SYNC, body, format="json")
    assert response.status_code == 400 and "无会周已不存在" in response.json()["week"][0]


def test_a_visit_carries_no_photos(petitionoffice, week):
    body = {**visit_body(week), "photos": [SimpleUploadedFile("a.png", png())]}
    body["data"] = json.dumps(body["data"])
    response = api(petitionoffice).post(SYNC, body, format="multipart")
    assert response.status_code == 400 and "photos" in response.json()


def test_a_key_used_for_a_visit_cannot_be_a_request(petitionoffice, week):
    visit_key = synced_visit(petitionoffice, week)
    response = post_request(petitionoffice, visit_key, key=visit_key)
    assert response.status_code == 400 and response.json()["key"] == [offline.MSG_KEY_REUSED]
    assert not Issue.objects.exists()


# --- requests --------------------------------------------------------------------------------------


def test_a_request_is_registered_unassigned_with_its_photos_once(petitionoffice, week, village):
    visit_key = synced_visit(petitionoffice, week)
    key = uuid.uuid4()
    photos = [SimpleUploadedFile("photo-1.jpg", jpeg()), SimpleUploadedFile("photo-2.png", png())]
    first = post_request(petitionoffice, visit_key, key=key, photos=photos, village=village.pk)
    assert first.status_code == 201, first.json()
    issue = Issue.objects.get(pk=first.json()["issue"]["id"])
    assert first.json()["issue"]["ref"] == issue.ref and first.json()["photos"] == 2
    # Registered for the office to triage (assign, merge) like any batch intake.
    assert issue.status == Issue.Status.REGISTERED and not Assignment.objects.filter(issue=issue).exists()
    assert issue.channel == "citizen" and issue.received_on == D(2026, 11, 25)
    assert issue.title == "村口灌渠垮塌，春耕前需要修复"
    intake = CitizenIntake.objects.get(issue=issue)
    assert (intake.visit.pk, intake.village, intake.township.code) == (
        OfflineRecord.objects.get(key=visit_key).visit_id,
        village,
        "hqz",
    )
    stored = list(issue.citizen_photos.order_by("id"))
    assert [p.content_type for p in stored] == ["image/jpeg", "image/png"]
    assert all(p.file.name.startswith("citizen-photos/2026/") and p.size == p.file.size for p in stored)
    again = post_request(petitionoffice, visit_key, key=key, photos=[SimpleUploadedFile("photo-1.jpg", jpeg())])
    assert again.status_code == 200 and again.json() == {**first.json(), "replayed": True}
    assert Issue.objects.count() == 1 and IntakePhoto.objects.count() == 2


def test_a_request_waits_for_its_visit(petitionoffice, week):
    response = post_request(petitionoffice, uuid.uuid4())
    assert response.status_code == 400 and response.json()["visit"] == [offline.MSG_VISIT_NOT_SYNCED]
    assert not Issue.objects.exists() and not OfflineRecord.objects.exists()


def test_a_request_names_only_its_own_visits(petitionoffice, admin_user, week):
    visit_key = synced_visit(admin_user, week)  # another user's phone
    assert post_request(petitionoffice, visit_key).status_code == 400


def test_a_village_of_another_township_is_refused(petitionoffice, week):
    other = Village.objects.create(township=Department.objects.get(code="gsz"), name="河西村")
    response = post_request(petitionoffice, synced_visit(petitionoffice, week), village=other.pk)
    assert response.status_code == 400 and "不属于" in response.json()["village"][0]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("scan.pdf", pdf_bytes(), offline.MSG_PHOTO_TYPE),
        ("photo.jpg", b"<html><script>alert(1)</script></html>", "看起来不是真正的 JPG"),
        ("photo.png", png() + b"PK\x03\x04appended", "末尾附带了其他数据"),
    ],
)
def test_a_bad_photo_refuses_the_record_before_anything_is_stored(petitionoffice, week, name, content, message):
    visit_key = synced_visit(petitionoffice, week)
    photos = [SimpleUploadedFile("ok.jpg", jpeg()), SimpleUploadedFile(name, content)]
    response = post_request(petitionoffice, visit_key, photos=photos)
    assert response.status_code == 400 and message in response.json()["photos"][0]
    assert not Issue.objects.exists() and not IntakePhoto.objects.exists()
    assert OfflineRecord.objects.count() == 1  # the visit's


def test_at_most_six_photos(petitionoffice, week):
    def photos(count: int) -> list[SimpleUploadedFile]:
        return [SimpleUploadedFile(f"p{i}.jpg", jpeg()) for i in range(count)]

    response = post_request(petitionoffice, synced_visit(petitionoffice, week), photos=photos(offline.MAX_PHOTOS + 1))
    assert response.status_code == 400 and response.json()["photos"] == [offline.MSG_TOO_MANY_PHOTOS]
    ok = post_request(petitionoffice, synced_visit(petitionoffice, week), photos=photos(offline.MAX_PHOTOS))
    assert ok.status_code == 201 and ok.json()["photos"] == offline.MAX_PHOTOS


def test_an_accusation_and_its_photo_stay_hidden_from_the_accused_unit(petitionoffice, week, zjj_head, client):
    visit_key = synced_visit(petitionoffice, week)
    response = post_request(
        petitionoffice,
        visit_key,
        photos=[SimpleUploadedFile("p.jpg", jpeg())],
        nature="complaint",
        accused_department="zjj",
    )
    issue = Issue.objects.get(pk=response.json()["issue"]["id"])
    assert issue.accused_department.code == "zjj"
    photo = issue.citizen_photos.get()
    # Even once assigned to the accused unit (the office's mistake), it never sees the accusation.
    assert not issues_for(zjj_head).filter(pk=issue.pk).exists()
    client.force_login(zjj_head)
    assert client.get(f"/citizen/photos/{photo.pk}/").status_code == 404
    client.force_login(petitionoffice)
    download = client.get(f"/citizen/photos/{photo.pk}/")
    assert download.status_code == 200 and download["Content-Type"] == "image/jpeg"
    assert download["X-Content-Type-Options"] == "nosniff" and "sandbox" in download["Content-Security-Policy"]
    audited = AuditEvent.objects.filter(action="photo_download")  # the refused attempt gave nothing away
    assert [(e.actor_id, e.object_id) for e in audited] == [(petitionoffice.pk, str(photo.pk))]


def test_an_accused_unit_only_on_a_complaint_or_a_report(petitionoffice, week):
    response = post_request(petitionoffice, synced_visit(petitionoffice, week), accused_department="zjj")
    assert response.status_code == 400 and "accused_department" in response.json()


def test_a_request_at_a_visit_not_yet_held_is_refused(petitionoffice):
    december = plan_week(petitionoffice, D(2026, 12, 1))  # 12-25 … 12-31, after today (12-06)
    key = uuid.uuid4()
    body = visit_body(december, key, held_on=december.starts_on.isoformat(), meetings=[])
    assert api(petitionoffice).post(SYNC, body, format="json").status_code == 201
    response = post_request(petitionoffice, key)
    assert response.status_code == 400 and "尚未进行" in response.json()["visit"][0]
    assert not Issue.objects.exists()


# --- who may sync --------------------------------------------------------------------------------


def test_who_may_sync(week, leader, zjj_head, netoffice):
    assert APIClient().post(SYNC, visit_body(week), format="json").status_code == 401
    assert api(leader).post(SYNC, visit_body(week), format="json").status_code == 403  # reads, never writes
    assert api(leader).get(PACK).status_code == 403
    for user in (zjj_head, netoffice):  # the channel does not exist for them
        assert api(user).post(SYNC, visit_body(week), format="json").status_code == 404
        assert api(user).get(PACK).status_code == 404
    assert not Visit.objects.exists()


def test_the_session_needs_the_csrf_token_the_page_fetches_first(petitionoffice, week):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(petitionoffice)
    body = visit_body(week)
    assert client.post(SYNC, body, format="json").status_code == 403
    session = client.get(SYNC).json()
    assert session["user"] == petitionoffice.pk
    response = client.post(SYNC, body, format="json", HTTP_X_CSRFTOKEN=session["csrf_token"])
    assert response.status_code == 201


def test_an_expired_session_answers_401_json(week):
    response = Client().post(SYNC, data=visit_body(week), content_type="application/json")
    assert response.status_code == 401 and response["Content-Type"] == "application/json"


def test_the_second_factor_is_not_bypassed(reference, settings):
    settings.OTP_REQUIRED_ROLES = ["office"]
    clerk = make_user("xfj_clerk", department="xfj", role="office")
    client = Client()
    client.force_login(clerk)  # password only: no second factor yet
    response = client.get(SYNC)
    assert response.status_code == 403 and "动态口令" in response.json()["detail"]
    assert client.post(SYNC, data={}, content_type="application/json").status_code == 403
    assert client.get("/citizen/offline/").status_code == 302  # to /accounts/otp/


# --- the pack ---------------------------------------------------------------------------------------


def test_the_pack_has_the_weeks_roster_places_and_the_visible_open_cases(
    petitionoffice, week, village, leader, django_assert_max_num_queries
):
    services.add_roster_entry(
        actor=petitionoffice, week=week, leader=leader, township=Department.objects.get(code="hqz")
    )
    visit = services.record_visit(
        actor=petitionoffice,
        week=week,
        kind="reception",
        township=Department.objects.get(code="hqz"),
        held_on=D(2026, 11, 25),
    )
    here = offline.sync_request(
        actor=petitionoffice,
        key=uuid.uuid4(),
        visit=visit,
        request=offline.OfflineRequest(
            requester_name="张某", category=Category.objects.get(code="rural"), content="路灯"
        ),
    ).issue_ref
    elsewhere = services.register_citizen_issue(
        actor=petitionoffice,
        village=Village.objects.create(township=Department.objects.get(code="gsz"), name="河西村"),
        category=Issue.objects.get(ref=here).category,
        requester=RequesterData(name="李某"),
        title="不在下访乡镇",
        content="不在下访乡镇",
        received_on=D(2026, 11, 2),
    )
    with django_assert_max_num_queries(12):
        pack = api(petitionoffice).get(PACK).json()
    assert pack["user"]["id"] == petitionoffice.pk
    assert [w["id"] for w in pack["weeks"]] == [week.pk]
    assert pack["weeks"][0]["roster"][0]["township"] == "hqz"
    assert {"id": village.pk, "township": "hqz", "name": "向阳村"} in pack["villages"]
    assert [c["ref"] for c in pack["cases"]] == [here]
    assert elsewhere.ref not in {c["ref"] for c in pack["cases"]}
    assert {c["code"] for c in pack["categories"]} >= {"rural", "housing"}
    assert "xfj" not in {d["code"] for d in pack["departments"]}  # an office is never a handler


# --- concurrency (PostgreSQL) ---------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_double_submit_at_the_same_moment_creates_one_visit(petitionoffice, week):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("row locks and unique-index waits are PostgreSQL's")
    from tests.concurrency import run_together

    key = uuid.uuid4()
    body = visit_body(week, key)

    def submit():
        response = api(petitionoffice).post(SYNC, body, format="json")
        return response.status_code, response.json()

    outcomes = run_together(submit, submit)
    assert sorted(code for code, _ in outcomes) == [200, 201], outcomes
    assert outcomes[0][1]["visit"] == outcomes[1][1]["visit"]
    assert Visit.objects.count() == 1 and OfflineRecord.objects.count() == 1


# --- the page and its service worker --------------------------------------------------------------


def test_the_page_is_for_the_visit_team_only(petitionoffice, zjj_head, leader, client):
    client.force_login(petitionoffice)
    page = client.get("/citizen/offline/")
    assert page.status_code == 200
    html = page.content.decode()
    assert f'data-user="{petitionoffice.pk}"' in html and 'rel="manifest"' in html
    csp = page["Content-Security-Policy"]
    assert "worker-src 'self'" in csp and "manifest-src 'self'" in csp
    script_src = next(part for part in csp.split(";") if part.strip().startswith("script-src"))
    assert "'unsafe-inline'" not in script_src and "<script>" not in html  # no inline script anywhere
    for user in (zjj_head, leader):
        client.force_login(user)
        assert client.get("/citizen/offline/").status_code == 404


def test_the_service_worker_covers_the_page_and_keeps_only_files(client):
    response = client.get("/citizen/offline/sw.js")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/javascript")
    assert response["Service-Worker-Allowed"] == "/citizen/offline/"
    body = response.content.decode()
    assert 'const PAGE = "/citizen/offline/"' in body and "/static/js/offline_visit.js" in body
    assert 'startsWith("/api/")' in body  # the API is never cached
    manifest = client.get("/citizen/offline/manifest.webmanifest")
    assert manifest["Content-Type"] == "application/manifest+json"
    assert manifest.json()["scope"] == "/citizen/offline/" and manifest.json()["start_url"] == "/citizen/offline/"


def test_the_logout_script_is_on_every_page_of_a_logged_in_user(petitionoffice, client):
    client.force_login(petitionoffice)
    assert "js/offline_logout.js" in client.get("/citizen/").content.decode()


def test_the_visit_page_lists_the_photos_its_viewer_may_see(petitionoffice, week, leader, client):
    visit_key = synced_visit(petitionoffice, week)
    response = post_request(petitionoffice, visit_key, photos=[SimpleUploadedFile("p.jpg", jpeg())])
    issue = Issue.objects.get(pk=response.json()["issue"]["id"])
    visit_id = OfflineRecord.objects.get(key=visit_key).visit_id
    photo = issue.citizen_photos.get()
    client.force_login(petitionoffice)
    page = client.get(f"/citizen/visits/{visit_id}/").content.decode()
    assert f"/citizen/photos/{photo.pk}/" in page and "现场照片（1 张）" in page
    home = client.get("/citizen/").content.decode()
    assert "/citizen/offline/" in home  # the visit team finds the page
    client.force_login(leader)  # leaders read the visit, and the request, and its photo
    assert f"/citizen/photos/{photo.pk}/" in client.get(f"/citizen/visits/{visit_id}/").content.decode()
    assert "/citizen/offline/" not in client.get("/citizen/").content.decode()
