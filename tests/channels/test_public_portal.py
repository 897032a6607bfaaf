"""The public portal: submit, track, triage by 网信办, publish with consent and redaction."""

from __future__ import annotations

import datetime
import re

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from channels_net import services
from channels_net.models import TRACKING_ALPHABET, Forum, NetIntake, PublicSubmission
from feedback import services as core
from feedback.errors import IllegalTransition
from feedback.models import Category, Department, Issue
from feedback.privacy import redact
from tests.conftest import reply_pdf

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> None:
    cache.clear()


def challenge_for(html: str) -> tuple[str, str]:
    """The captcha's key from the page and its answer, read where the portal keeps it (the picture is
    what a person reads; a test reads the row)."""
    from captcha.models import CaptchaStore

    key = re.search(r'name="captcha_0" value="([0-9a-f]+)"', html).group(1)
    return key, CaptchaStore.objects.get(hashkey=key).response


def post_suggestion(client: Client, **overrides: object) -> object:
    page = client.get(reverse("public:submit"))
    key, answer = challenge_for(page.content.decode())
    data = {
        "category": Category.objects.get(code="transport").pk,
        "content": "学校门口缺少人行横道，请施划。",
        "name": "山村支教亮亮老师",
        "phone": "13812345678",
        "consent_to_publish": "on",
        "captcha_0": key,
        "captcha_1": answer,
        "website": "",
    }
    data.update(overrides)
    return client.post(reverse("public:submit"), data)


def test_home_shows_the_coming_forum_and_its_open_collection_window(reference: None, client: Client) -> None:
    today = timezone.localdate()
    week = datetime.timedelta(days=5)
    Forum.objects.create(
        title="第八次网民座谈会", held_on=today + 2 * week, collect_from=today - week, collect_until=today + week
    )
    html = client.get(reverse("public:home")).content.decode()
    assert "第八次网民座谈会" in html and "征集中" in html
    assert "诉求台账" not in html  # no staff navigation


def test_home_never_says_closed_above_a_submit_button_that_works(reference: None, client: Client) -> None:
    today = timezone.localdate()
    day = datetime.timedelta(days=1)
    Forum.objects.create(
        title="第九次网民座谈会", held_on=today + 3 * day, collect_from=today - 20 * day, collect_until=today - day
    )
    html = client.get(reverse("public:home")).content.decode()
    assert "已截止" not in html
    assert "本次征集已结束" in html and "意见建议随时可以提交，照常登记办理" in html
    assert 'href="/public/submit/"' in html or reverse("public:submit") in html


def test_a_suggestion_gets_an_unguessable_tracking_code_and_lands_for_triage(reference: None, client: Client) -> None:
    today = timezone.localdate()
    forum = Forum.objects.create(
        title="座谈会", held_on=today + datetime.timedelta(days=3), collect_from=today, collect_until=today
    )
    response = post_suggestion(client)
    assert response.status_code == 201
    submission = PublicSubmission.objects.get()
    assert len(submission.code) == 10 and set(submission.code) <= set(TRACKING_ALPHABET)
    assert submission.code in response.content.decode()
    assert submission.forum == forum and submission.consent_to_publish
    assert submission.status == PublicSubmission.Status.RECEIVED


def test_tracking_page_shows_status_but_never_personal_data(reference: None, client: Client) -> None:
    post_suggestion(client)
    submission = PublicSubmission.objects.get()
    html = client.get(reverse("public:track", args=[submission.code.lower()])).content.decode()
    assert "已收到，待受理" in html
    for private in ("13812345678", "山村支教亮亮老师", "人行横道"):
        assert private not in html
    assert client.get(reverse("public:track", args=["ZZZZZZZZZZ"])).status_code == 404


def test_a_wrong_captcha_a_forged_key_or_a_filled_honeypot_is_refused(reference: None, client: Client) -> None:
    assert post_suggestion(client, captcha_1="wrong").status_code == 400
    assert post_suggestion(client, captcha_0="0" * 40).status_code == 400
    assert post_suggestion(client, website="http://spam.example").status_code == 400
    assert not PublicSubmission.objects.exists()


def test_the_sixth_submission_within_an_hour_from_one_address_gets_429(reference: None, client: Client) -> None:
    for _ in range(5):
        assert post_suggestion(client).status_code == 201
    response = post_suggestion(client)
    assert response.status_code == 429
    assert "提交过于频繁" in response.content.decode()
    assert PublicSubmission.objects.count() == 5


def test_the_form_is_protected_by_csrf(reference: None) -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("public:submit"), {"content": "x"})
    assert response.status_code == 403


def test_submitted_text_is_escaped_everywhere(reference: None, client: Client, netoffice: object) -> None:
    post_suggestion(client, content="<script>alert(1)</script>")
    client.force_login(netoffice)
    html = client.get(reverse("channels_net:submission_list")).content.decode()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html


def test_triage_is_only_for_the_net_office(
    reference: None, client: Client, zjj_head: object, ezoneoffice: object
) -> None:
    for user in (zjj_head, ezoneoffice):
        client.force_login(user)
        assert client.get(reverse("channels_net:submission_list")).status_code == 404


def test_accepting_registers_an_issue_linked_to_the_forum_and_tracking_follows_it(
    reference: None, client: Client, netoffice: object
) -> None:
    post_suggestion(client)
    submission = PublicSubmission.objects.get()
    client.force_login(netoffice)
    response = client.post(reverse("channels_net:submission_decide", args=[submission.pk, "accept"]))
    assert response.status_code == 302
    submission.refresh_from_db()
    issue = submission.issue
    assert issue.channel == "net" and issue.requester.phone == "13812345678"
    assert NetIntake.objects.get(issue=issue).handle == "山村支教亮亮老师"
    client.logout()
    html = client.get(reverse("public:track", args=[submission.code])).content.decode()
    assert "已受理" in html and issue.get_status_display() in html


def test_declining_needs_a_reason_which_the_tracking_page_shows(
    reference: None, client: Client, netoffice: object
) -> None:
    post_suggestion(client)
    submission = PublicSubmission.objects.get()
    client.force_login(netoffice)
    client.post(reverse("channels_net:submission_decide", args=[submission.pk, "decline"]), {"reason": ""})
    submission.refresh_from_db()
    assert submission.status == PublicSubmission.Status.RECEIVED
    client.post(
        reverse("channels_net:submission_decide", args=[submission.pk, "decline"]),
        {"reason": "与座谈会主题无关，请拨打13812345678反映"},
    )
    submission.refresh_from_db()
    assert submission.status == PublicSubmission.Status.DECLINED
    html = Client().get(reverse("public:track", args=[submission.code])).content.decode()
    assert "与座谈会主题无关" in html and "13812345678" not in html


def test_redact_masks_mobiles_and_id_numbers_only() -> None:
    text = "电话13812345678，身份证43052519900101123X，工号12345678901234567890，座机0739-7221234"
    assert redact(text) == ("电话138****5678，身份证430525********123X，工号12345678901234567890，座机0739-7221234")


def _answered(netoffice: object, zjj_head: object, submission: PublicSubmission) -> Issue:
    issue = services.accept_submission(actor=netoffice, submission=submission)
    [assignment] = core.assign_issue(actor=netoffice, issue=issue, lead=Department.objects.get(code="zjj"))
    reply = core.submit_reply(
        actor=zjj_head,
        assignment=assignment,
        file=reply_pdf(),
        signer_name="王局长",
        signer_title="局长",
        signed_on=timezone.localdate(),
        result="explained",
        summary="经测算，暂不设置。",
    )
    core.accept_reply(actor=netoffice, reply=reply)
    issue.refresh_from_db()
    return issue


def test_published_replies_need_consent_an_answer_and_are_redacted_and_searchable(
    reference: None, client: Client, netoffice: object, zjj_head: object
) -> None:
    post_suggestion(client)
    post_suggestion(client, consent_to_publish="")
    with_consent, without = PublicSubmission.objects.order_by("id")
    with pytest.raises(IllegalTransition):
        services.publish_reply(actor=netoffice, submission=with_consent, summary="x")  # not accepted yet
    issue = _answered(netoffice, zjj_head, with_consent)
    _answered(netoffice, zjj_head, without)
    without.refresh_from_db()
    with pytest.raises(IllegalTransition):
        services.publish_reply(actor=netoffice, submission=without, summary="不应公开")
    client.force_login(netoffice)
    client.post(
        reverse("channels_net:submission_decide", args=[with_consent.pk, "publish"]),
        {"summary": "住建局答复：经测算车流未达标准，暂不设置。联系人13812345678"},
    )
    client.logout()
    html = client.get(reverse("public:replies"), {"q": "车流"}).content.decode()
    assert "经测算车流未达标准" in html and "138****5678" in html and "13812345678" not in html
    assert "不应公开" not in html
    assert "没有找到" in client.get(reverse("public:replies"), {"q": "不存在的词"}).content.decode()
    detail = client.get(reverse("public:reply_detail", args=[issue.ref]))
    assert detail.status_code == 200 and "山村支教亮亮老师" not in detail.content.decode()
