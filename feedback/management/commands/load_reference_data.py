from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from feedback.services.reference import load_reference_data


class Command(BaseCommand):
    help = "载入工作日历（2004–2026）、诉求分类、单位、角色组和默认办理时限（可重复执行）"

    def handle(self, *args: Any, **options: Any) -> None:
        created = load_reference_data()
        self.stdout.write(
            "基础数据已就绪：新增分类 {categories} 个、单位 {departments} 个、角色组 {groups} 个、"
            "时限规则 {policies} 条、日历年份 {calendar_years} 个。".format(**created)
        )
