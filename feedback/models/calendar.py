"""The working calendar as stored: years loaded from the State Council notices and single days."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class CalendarYear(models.Model):
    """A year whose rest days and make-up working days are loaded (seed or State Council notice)."""

    year = models.PositiveSmallIntegerField("年份", unique=True)
    source = models.CharField("来源", max_length=100)
    loaded_at = models.DateTimeField("载入时间", default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = "工作日历年份"
        ordering = ["year"]

    def __str__(self) -> str:
        return f"{self.year}年"


class CalendarDay(models.Model):
    """An exception to Monday–Friday: a holiday on a weekday or a make-up working weekend day.

    Rows from the seed or a notice (``source`` = national) and county overrides
    (``source`` = county) may both exist for one date; the county row wins.
    """

    class Source(models.TextChoices):
        NATIONAL = "national", "国务院安排"
        COUNTY = "county", "本县调整"

    date = models.DateField("日期")
    is_workday = models.BooleanField("上班")
    name = models.CharField("名称", max_length=50, blank=True)
    source = models.CharField("来源", max_length=16, choices=Source.choices, default=Source.NATIONAL)

    class Meta:
        verbose_name = verbose_name_plural = "节假日与调休"
        ordering = ["date"]
        constraints = [models.UniqueConstraint(fields=["date", "source"], name="one_calendar_day_per_source")]

    def __str__(self) -> str:
        return f"{self.date} {'上班' if self.is_workday else '休息'} {self.name}"
