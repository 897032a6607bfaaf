"""Factories of the enterprise channel. Rows that only need to exist (lists, query counts) are made
directly; anything whose rules are under test goes through channels_enterprise.services."""

from __future__ import annotations

import datetime

import factory

from channels_enterprise.models import Enterprise, EnterpriseDay

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]


def with_check_digit(first17: str) -> str:
    """GB 32100-2015, computed here independently of the code under test."""
    total = sum(CHARSET.index(c) * w for c, w in zip(first17, WEIGHTS, strict=True))
    return first17 + CHARSET[(31 - total % 31) % 31]


def credit_code(n: int) -> str:
    return with_check_digit(f"9143052{n:010d}")


def wrong_check_digit(code: str) -> str:
    return code[:17] + CHARSET[(CHARSET.index(code[17]) + 1) % 31]


class EnterpriseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Enterprise

    name = factory.Sequence(lambda n: f"洞口第{n}电子科技有限公司")
    credit_code = factory.Sequence(credit_code)
    park = "经开区电子信息产业园"
    sector = "电子"
    contact_name = factory.Sequence(lambda n: f"联系人{n}")
    contact_phone = factory.Sequence(lambda n: f"138{n:08d}")


def _month(n: int) -> datetime.date:
    year, month = divmod(2020 * 12 + n, 12)
    return datetime.date(year, month + 1, 1)


class EnterpriseDayFactory(factory.django.DjangoModelFactory):
    """Days in past months from January 2020, on the 23rd (the calendar is not consulted)."""

    class Meta:
        model = EnterpriseDay

    # Six years of months, reused from the start: no test makes 72 days.
    month = factory.Sequence(lambda n: _month(n % 72))
    held_on = factory.LazyAttribute(lambda d: d.month.replace(day=23))
    notice_on = factory.LazyAttribute(lambda d: d.month.replace(day=18))
    place = "经开区企业服务中心"
