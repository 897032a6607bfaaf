"""The statistics rollup tables (see ``feedback.figures.rollup``), kept exact by triggers."""

from __future__ import annotations

from django.db import models
from pyroaring import BitMap

from feedback.models.reference import Category, Department


class StatsFigures(models.Model):
    """The figures of a rollup row judged at the end of time (feedback.figures.rollup): every dated event
    counts as happened and every unreplied assignment as overdue.

    The rollup tables' foreign keys have no database constraint: a deferred check at commit would
    take a key-share lock on the department row, which a writer waiting for this key's mark may
    hold FOR UPDATE (services lock an assignment with its department): a deadlock. The rows are
    derived data, rebuilt nightly, and categories and departments are never deleted."""

    issues = models.PositiveIntegerField(default=0)
    closed = models.PositiveIntegerField(default=0)
    followed_up = models.PositiveIntegerField(default=0)
    rated = models.PositiveIntegerField(default=0)
    satisfied = models.PositiveIntegerField(default=0)
    dissatisfied = models.PositiveIntegerField(default=0)
    unreachable = models.PositiveIntegerField(default=0)
    follow_up_skipped = models.PositiveIntegerField(default=0)
    rehandled = models.PositiveIntegerField(default=0)
    assigned_issues = models.PositiveIntegerField(default=0)
    replied = models.PositiveIntegerField(default=0)
    assignments = models.PositiveIntegerField(default=0)
    assignments_replied = models.PositiveIntegerField(default=0)
    on_time = models.PositiveIntegerField(default=0)
    late = models.PositiveIntegerField(default=0)
    overdue_open = models.PositiveIntegerField(default=0)
    on_time_original = models.PositiveIntegerField(default=0)
    late_original = models.PositiveIntegerField(default=0)
    overdue_open_original = models.PositiveIntegerField(default=0)

    class Meta:
        abstract = True


class StatsCounts(StatsFigures):
    """The figures of one rollup key. Exact at any ``as_of`` on or after ``last_event_on`` and after
    ``last_open_due_on``, once the open assignments not yet due are taken off (StatsOpenDue); before
    that the key is read live."""

    # The latest accepted reply, closure or re-handling (local date) among the key's issues.
    last_event_on = models.DateField(null=True)
    # The latest due date (current or original) of a still unreplied assignment.
    last_open_due_on = models.DateField(null=True)

    class Meta:
        abstract = True


class StatsRollup(StatsCounts):
    """Per (day received, channel, category): the issues' figures and all their counted assignments'."""

    received_on = models.DateField()
    channel = models.CharField(max_length=16)
    category = models.ForeignKey(
        Category, on_delete=models.DO_NOTHING, related_name="+", db_index=False, db_constraint=False
    )

    class Meta:
        verbose_name = verbose_name_plural = "统计汇总（按日）"
        constraints = [
            models.UniqueConstraint(fields=["received_on", "channel", "category"], name="one_stats_rollup_per_key")
        ]
        indexes = [
            # Used by feedback.figures.rollup to find the keys not yet settled at as_of (read live).
            models.Index(fields=["last_event_on"], name="stats_rollup_last_event_idx"),
            models.Index(fields=["last_open_due_on"], name="stats_rollup_last_open_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.received_on} {self.channel} {self.category_id}：{self.issues}"


class StatsMonthRollup(StatsCounts):
    """The sums of StatsRollup over a month (``month`` = its first day)."""

    month = models.DateField()
    channel = models.CharField(max_length=16)
    category = models.ForeignKey(
        Category, on_delete=models.DO_NOTHING, related_name="+", db_index=False, db_constraint=False
    )

    class Meta:
        verbose_name = verbose_name_plural = "统计汇总（按月）"
        constraints = [
            models.UniqueConstraint(fields=["month", "channel", "category"], name="one_stats_month_rollup_per_key")
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.channel} {self.category_id}：{self.issues}"


class StatsOwnCounts(models.Model):
    """A department's own assignments' figures, beside those of the issues it has an assignment of."""

    own_assignments = models.PositiveIntegerField(default=0)
    own_assignments_replied = models.PositiveIntegerField(default=0)
    own_on_time = models.PositiveIntegerField(default=0)
    own_late = models.PositiveIntegerField(default=0)
    own_overdue_open = models.PositiveIntegerField(default=0)
    own_on_time_original = models.PositiveIntegerField(default=0)
    own_late_original = models.PositiveIntegerField(default=0)
    own_overdue_open_original = models.PositiveIntegerField(default=0)

    class Meta:
        abstract = True


class StatsDepartmentCounts(StatsCounts, StatsOwnCounts):
    """Per department as well: the issue figures (and ``assignments``…) cover the issues with a
    counted assignment to the department, all their assignments; ``own_*`` the department's own."""

    channel = models.CharField(max_length=16)
    category = models.ForeignKey(
        Category, on_delete=models.DO_NOTHING, related_name="+", db_index=False, db_constraint=False
    )
    department = models.ForeignKey(
        Department, on_delete=models.DO_NOTHING, related_name="+", db_index=False, db_constraint=False
    )

    class Meta:
        abstract = True


class StatsDepartmentRollup(StatsDepartmentCounts):
    received_on = models.DateField()

    class Meta:
        verbose_name = verbose_name_plural = "统计汇总（按日、单位）"
        constraints = [
            models.UniqueConstraint(
                fields=["received_on", "channel", "category", "department"], name="one_stats_department_rollup_per_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.received_on} {self.channel} {self.category_id} {self.department_id}：{self.own_assignments}"


class StatsDepartmentMonthRollup(StatsDepartmentCounts):
    """The sums of StatsDepartmentRollup over a month (``month`` = its first day): a five-year
    department table reads 60 of these per key instead of 1,800 daily rows."""

    month = models.DateField()

    class Meta:
        verbose_name = verbose_name_plural = "统计汇总（按月、单位）"
        constraints = [
            models.UniqueConstraint(
                fields=["month", "channel", "category", "department"], name="one_stats_department_month_per_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.channel} {self.category_id} {self.department_id}：{self.own_assignments}"


class StatsChannelDepartmentCounts(StatsFigures, StatsOwnCounts):
    """The department rows summed over the categories, per channel (decision 0750): what a table of
    departments or townships over every category reads, 14 times fewer rows. Derived from the
    per-category rows by the refresh and the rebuild only; read when no key of the window is live,
    so it needs no dates of its own."""

    channel = models.CharField(max_length=16)
    department = models.ForeignKey(
        Department, on_delete=models.DO_NOTHING, related_name="+", db_index=False, db_constraint=False
    )

    class Meta:
        abstract = True


class StatsChannelDepartmentRollup(StatsChannelDepartmentCounts):
    """StatsDepartmentRollup summed over the categories of each (day, channel, department)."""

    received_on = models.DateField()

    class Meta:
        verbose_name = verbose_name_plural = "统计汇总（按日、渠道、单位）"
        constraints = [
            models.UniqueConstraint(
                fields=["received_on", "channel", "department"], name="one_stats_channel_department_per_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.received_on} {self.channel} {self.department_id}：{self.own_assignments}"


class StatsChannelDepartmentMonthRollup(StatsChannelDepartmentCounts):
    """StatsDepartmentMonthRollup summed over the categories of each (month, channel, department)."""

    month = models.DateField()

    class Meta:
        verbose_name = verbose_name_plural = "统计汇总（按月、渠道、单位）"
        constraints = [
            models.UniqueConstraint(
                fields=["month", "channel", "department"], name="one_stats_channel_department_month_per_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.channel} {self.department_id}：{self.own_assignments}"


class StatsOpenDue(models.Model):
    """The open assignments per key, department and due dates: the rollup counts them overdue, and
    a query for ``as_of`` takes off those due on or after it (feedback.figures.rollup)."""

    received_on = models.DateField()
    channel = models.CharField(max_length=16)
    category = models.ForeignKey(
        Category, on_delete=models.DO_NOTHING, related_name="+", db_index=False, db_constraint=False
    )
    department = models.ForeignKey(
        Department, on_delete=models.DO_NOTHING, related_name="+", db_index=False, db_constraint=False
    )
    due_date = models.DateField()
    original_due_date = models.DateField()
    assignments = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = verbose_name_plural = "统计汇总（未回复交办的期限）"
        constraints = [
            models.UniqueConstraint(
                fields=["received_on", "channel", "category", "department", "due_date", "original_due_date"],
                name="one_stats_open_due_per_key",
            )
        ]
        # Used by feedback.figures.rollup: the open assignments not yet due at as_of, in a window of
        # receipt, read from the index alone on PostgreSQL (decision 0710).
        indexes = [
            models.Index(
                fields=["due_date", "received_on"],
                include=["channel", "category", "department", "original_due_date", "assignments"],
                name="stats_open_due_window_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.received_on} {self.channel} {self.category_id} {self.department_id} {self.due_date}"


class StatsMonthRequesters(models.Model):
    """Distinct requesters of the issues received in a month: per channel and category, and over
    all channels (``channel`` empty) or all categories (``category_id`` 0), since distinct counts
    cannot be added up. Read by the month table for whole months (feedback.figures.rollup)."""

    month = models.DateField()
    channel = models.CharField(max_length=16, blank=True)
    category_id = models.IntegerField()
    requesters = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = verbose_name_plural = "统计汇总（按月诉求人数）"
        constraints = [
            models.UniqueConstraint(
                fields=["month", "channel", "category_id"], name="one_stats_month_requesters_per_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.channel or '*'} {self.category_id or '*'}：{self.requesters}"


class StatsRequesterSet(models.Model):
    """The exact set of the requesters (their ids) of the issues received in a year, a month or on a
    day, per channel and for all channels (``channel`` ''): a serialised roaring bitmap (pyroaring).
    Distinct requesters cannot be added up, sets can: a window's count is the size of the union of
    its whole years' sets, its other whole months' sets and its other days' sets
    (feedback.figures.rollup; docs/decisions/0680, 0740)."""

    class Span(models.TextChoices):
        YEAR = "year", "年"
        MONTH = "month", "月"
        DAY = "day", "日"

    span = models.CharField(max_length=5, choices=Span.choices)
    first = models.DateField()  # the day, or the first day of the month or the year
    channel = models.CharField(max_length=16)  # '': every channel
    requesters = models.PositiveIntegerField(default=0)
    bits = models.BinaryField()

    class Meta:
        verbose_name = verbose_name_plural = "统计汇总（诉求人集合）"
        constraints = [
            models.UniqueConstraint(fields=["span", "first", "channel"], name="one_stats_requester_set_per_key")
        ]

    def __str__(self) -> str:
        return f"{self.get_span_display()} {self.first} {self.channel}：{self.requesters}"

    def members(self) -> BitMap:
        """The requester ids."""
        return BitMap.deserialize(bytes(self.bits))


class StatsRollupDirtyKey(models.Model):
    """A rollup key whose issues changed since it was summed. Database triggers (migration 0008)
    add one on every write that can move a figure, whoever makes it (services, the admin, a raw
    UPDATE); the statistics read such keys live until feedback.figures.rollup.refresh sums them again,
    which the services do in the same transaction."""

    received_on = models.DateField()
    channel = models.CharField(max_length=16)
    category_id = models.IntegerField()
    # An issue came, went, moved to another key or changed requester: the month's distinct
    # requesters (StatsMonthRequesters) are counted again too.
    requesters_changed = models.BooleanField(default=False, db_default=False)

    class Meta:
        verbose_name = verbose_name_plural = "待重算的统计汇总"
        constraints = [
            models.UniqueConstraint(fields=["received_on", "channel", "category_id"], name="one_stats_dirty_key")
        ]

    def __str__(self) -> str:
        return f"{self.received_on} {self.channel} {self.category_id}"


class StatsGeneration(models.Model):
    """One row: which state of the statistics' inputs this is. ``token`` is drawn when the database is
    migrated (a restored or another database has its own); ``n`` goes up once per transaction that
    marks a rollup key or changes a department or category (deferred database triggers, migration
    0760), and when a rebuild corrects the rollup. A figure computed with no key of its window live is
    kept under (token, n) and is right as long as both are unchanged (feedback.figures.kept)."""

    token = models.CharField(max_length=32)
    n = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = verbose_name_plural = "统计输入版本"

    def __str__(self) -> str:
        return f"{self.token}:{self.n}"
