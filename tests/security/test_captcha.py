"""The public portal's human check (issue 15, part 9): the answer is not in the page, and it is single-use."""

from __future__ import annotations

import re

import pytest
from captcha.models import CaptchaStore
from django.test import Client
from django.urls import reverse

from channels_net.models import PublicSubmission
from feedback.models import Category

pytestmark = pytest.mark.django_db


def form_data(key: str, answer: str) -> dict[str, object]:
    return {
        "category": Category.objects.get(code="transport").pk,
        "content": "路灯不亮，请维修。",
        "name": "",
        "phone": "",
        "captcha_0": key,
        "captcha_1": answer,
        "website": "",
    }


def test_the_page_carries_a_picture_not_the_answer(reference):
    html = Client().get(reverse("public:submit")).content.decode()
    key = re.search(r'name="captcha_0" value="([0-9a-f]+)"', html).group(1)
    answer = CaptchaStore.objects.get(hashkey=key).response
    assert answer.lower() not in html.lower()  # nothing for a regex to read
    image = re.search(r'<img src="([^"]+)"', html).group(1)
    picture = Client().get(image)
    assert picture.status_code == 200 and picture["Content-Type"] == "image/png"  # served by the portal


def test_a_captcha_answer_works_once(reference):
    client = Client()
    html = client.get(reverse("public:submit")).content.decode()
    key = re.search(r'name="captcha_0" value="([0-9a-f]+)"', html).group(1)
    answer = CaptchaStore.objects.get(hashkey=key).response
    assert client.post(reverse("public:submit"), form_data(key, answer)).status_code == 201
    replay = client.post(reverse("public:submit"), form_data(key, answer))
    assert replay.status_code == 400 and "验证码不正确或已过期" in replay.content.decode()
    assert PublicSubmission.objects.count() == 1


def test_a_wrong_guess_spends_the_captcha_too(reference):
    client = Client()
    html = client.get(reverse("public:submit")).content.decode()
    key = re.search(r'name="captcha_0" value="([0-9a-f]+)"', html).group(1)
    answer = CaptchaStore.objects.get(hashkey=key).response
    assert client.post(reverse("public:submit"), form_data(key, "zzzzz")).status_code == 400
    assert client.post(reverse("public:submit"), form_data(key, answer)).status_code == 400  # no second guess
    assert not PublicSubmission.objects.exists()
