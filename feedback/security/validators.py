"""Password validators: the published demo password and the project's names are never a password."""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError

from feedback.passwords import DEMO_PASSWORD

# Words anyone could guess from the portal's own pages and repository.
FORBIDDEN_WORDS = ("zhitongche", "直通车", "ztc", "dongkou", "洞口")


class ForbiddenWordsValidator:
    def validate(self, password: str, user: Any = None) -> None:
        folded = re.sub(r"[\s\-_.]", "", password.casefold())
        if password == DEMO_PASSWORD or folded == DEMO_PASSWORD.replace("-", ""):
            raise ValidationError("不能使用公开的演示密码。", code="demo_password")
        for word in FORBIDDEN_WORDS:
            if word in folded:
                raise ValidationError(f"密码不能包含系统名称或地名（“{word}”）。", code="project_name")

    def get_help_text(self) -> str:
        return "密码不能是演示密码，也不能包含系统名称或地名（如“直通车”“zhitongche”“洞口”）。"
