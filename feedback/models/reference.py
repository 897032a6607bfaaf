"""Reference data: channels, departments, categories, and who belongs to which department."""

from __future__ import annotations

import re

from django.conf import settings
from django.db import models
from django.db.models import Q


class Channel(models.TextChoices):
    NET = "net", "政网直通车"
    ENTERPRISE = "enterprise", "政企直通车"
    CITIZEN = "citizen", "政民直通车"


class DeadlineUnit(models.TextChoices):
    WORKING_DAY = "working_day", "工作日"
    CALENDAR_DAY = "calendar_day", "自然日"


class Department(models.Model):
    class Kind(models.TextChoices):
        OFFICE = "office", "直通车办公室"
        BUREAU = "bureau", "县直部门"
        TOWNSHIP = "township", "乡镇"

    code = models.SlugField("代码", max_length=32, unique=True)
    name = models.CharField("名称", max_length=64, unique=True)
    kind = models.CharField("类型", max_length=16, choices=Kind.choices)
    # Only channel offices carry a channel: the office that runs it sees its issues.
    channel = models.CharField("负责渠道", max_length=16, choices=Channel.choices, blank=True)
    active = models.BooleanField("启用", default=True)
    sort_order = models.PositiveIntegerField("排序", default=0)
    # What clerks write in their ledgers (住建局 for 县住房和城乡建设局); the import reads them.
    short_names = models.CharField(
        "简称", max_length=200, blank=True, help_text="台账中常用的简称，多个用“、”分隔，如：住建局、县住建局"
    )

    class Meta:
        verbose_name = verbose_name_plural = "单位"
        ordering = ["kind", "sort_order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["channel"], condition=~Q(channel=""), name="one_office_per_channel"),
            models.CheckConstraint(condition=Q(channel="") | Q(kind="office"), name="only_offices_run_channels"),
        ]

    def __str__(self) -> str:
        return self.name

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise models.ProtectedError("单位只能停用，不能删除。", {self})

    @property
    def short_name_list(self) -> list[str]:
        return [n.strip() for n in re.split(r"[、,，;；/\s]+", self.short_names) if n.strip()]


class Category(models.Model):
    code = models.SlugField("代码", max_length=32, unique=True)
    name = models.CharField("名称", max_length=64)
    parent = models.ForeignKey(
        "self", verbose_name="上级分类", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    active = models.BooleanField("启用", default=True)
    sort_order = models.PositiveIntegerField("排序", default=0)

    class Meta:
        verbose_name = verbose_name_plural = "诉求分类"
        ordering = ["sort_order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["parent", "name"], name="category_name_unique_under_parent"),
        ]

    def __str__(self) -> str:
        return f"{self.parent.name} / {self.name}" if self.parent_id else self.name

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise models.ProtectedError("分类只能停用，不能删除。", {self})


class Membership(models.Model):
    """Links a user to the department they work for (one department per user)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name="用户", on_delete=models.CASCADE, related_name="membership"
    )
    department = models.ForeignKey(Department, verbose_name="单位", on_delete=models.PROTECT, related_name="members")
    title = models.CharField("职务", max_length=50, blank=True)
    is_head = models.BooleanField("单位负责人", default=False)

    class Meta:
        verbose_name = verbose_name_plural = "用户所属单位"

    def __str__(self) -> str:
        return f"{self.user} @ {self.department}"
