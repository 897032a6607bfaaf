from __future__ import annotations

from django.db import models

from feedback.models import Issue


class Forum(models.Model):
    """The quarterly netizen forum (网民座谈会)."""

    title = models.CharField("名称", max_length=100)
    held_on = models.DateField("日期")
    place = models.CharField("地点", max_length=100, blank=True)
    chair = models.CharField("主持领导", max_length=50, blank=True)
    minutes = models.TextField("纪要", blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "网民座谈会"
        ordering = ["-held_on"]
        constraints = [models.UniqueConstraint(fields=["held_on"], name="one_forum_per_day")]

    def __str__(self) -> str:
        return self.title


class NetIntake(models.Model):
    """The channel's record of an issue: which forum, which online handle."""

    issue = models.OneToOneField(Issue, verbose_name="诉求", on_delete=models.PROTECT, related_name="net_intake")
    forum = models.ForeignKey(Forum, verbose_name="座谈会", null=True, blank=True, on_delete=models.PROTECT,
                              related_name="intakes")
    handle = models.CharField("网名", max_length=100, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "政网诉求来源"

    def __str__(self) -> str:
        return f"{self.issue.ref}（{self.forum or '网上征集'}）"
