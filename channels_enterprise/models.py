from __future__ import annotations

from django.db import models

from feedback.models import Issue


class EnterpriseDay(models.Model):
    """The monthly enterprise day (企业家日): the 23rd, or the next working day."""

    held_on = models.DateField("日期", unique=True)
    place = models.CharField("现场办公地点", max_length=100, blank=True)
    leaders = models.CharField("带队领导", max_length=200, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "企业家日"
        ordering = ["-held_on"]

    def __str__(self) -> str:
        return f"{self.held_on:%Y年%m月}企业家日"


class EnterpriseIntake(models.Model):
    issue = models.OneToOneField(Issue, verbose_name="诉求", on_delete=models.PROTECT,
                                 related_name="enterprise_intake")
    day = models.ForeignKey(EnterpriseDay, verbose_name="企业家日", null=True, blank=True,
                            on_delete=models.PROTECT, related_name="intakes")
    enterprise = models.CharField("企业名称", max_length=200)

    class Meta:
        verbose_name = verbose_name_plural = "政企诉求来源"

    def __str__(self) -> str:
        return f"{self.issue.ref}（{self.enterprise}）"
