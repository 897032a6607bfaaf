from __future__ import annotations

from django.db import models
from django.db.models import F, Q

from feedback.models import Department, Issue


class NoMeetingWeek(models.Model):
    """The no-meeting week (无会周) of a month: by default its last five working days."""

    month = models.DateField("月份", unique=True, help_text="该月1日")
    starts_on = models.DateField("开始日期")
    ends_on = models.DateField("结束日期")
    confirmed = models.BooleanField("已确认", default=False)

    class Meta:
        verbose_name = verbose_name_plural = "无会周"
        ordering = ["-month"]
        constraints = [models.CheckConstraint(condition=Q(ends_on__gte=F("starts_on")), name="week_ends_after_start")]

    def __str__(self) -> str:
        return f"{self.month:%Y年%m月}无会周"


class CitizenIntake(models.Model):
    issue = models.OneToOneField(Issue, verbose_name="诉求", on_delete=models.PROTECT,
                                 related_name="citizen_intake")
    week = models.ForeignKey(NoMeetingWeek, verbose_name="无会周", null=True, blank=True,
                             on_delete=models.PROTECT, related_name="intakes")
    township = models.ForeignKey(Department, verbose_name="接访乡镇", null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+",
                                 limit_choices_to={"kind": Department.Kind.TOWNSHIP})

    class Meta:
        verbose_name = verbose_name_plural = "政民诉求来源"

    def __str__(self) -> str:
        return f"{self.issue.ref}（{self.week or '日常来访'}）"
