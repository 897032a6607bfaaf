"""Batch intake is all or none, and every bad row is reported (feedback.services.batches)."""

from __future__ import annotations

import pytest
from django.db import transaction

from feedback.errors import BatchRejected, InvalidInput, NotPermitted
from feedback.models import Requester
from feedback.services.batches import all_or_none

pytestmark = pytest.mark.django_db


def register(name: str) -> Requester:
    requester = Requester.objects.create(name=name)
    if name.startswith("坏"):
        raise InvalidInput(f"{name}填写有误", field="name")
    return requester


def test_every_bad_row_is_reported_and_nothing_of_the_batch_stays():
    with pytest.raises(BatchRejected) as caught, transaction.atomic():
        all_or_none(["甲", "坏乙", "丙", "坏丁"], register)
    assert {i: (e.field, e.message) for i, e in caught.value.rows.items()} == {
        1: ("name", "坏乙填写有误"),
        3: ("name", "坏丁填写有误"),
    }
    assert "有 2 行填写有误，本批诉求均未登记" in caught.value.message
    assert not Requester.objects.exists()


def test_a_good_batch_returns_its_results_in_row_order():
    with transaction.atomic():
        assert [r.name for r in all_or_none(["甲", "乙"], register, what="问题")] == ["甲", "乙"]


def test_a_refusal_of_the_user_is_not_a_row_error():
    def forbidden(row: str) -> None:
        raise NotPermitted()

    with pytest.raises(NotPermitted), transaction.atomic():
        all_or_none(["甲"], forbidden)


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_it_refuses_to_start():
    with pytest.raises(RuntimeError):
        all_or_none(["甲"], register)
    assert not Requester.objects.exists()
