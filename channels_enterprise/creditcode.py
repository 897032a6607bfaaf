"""The unified social credit code (统一社会信用代码, GB 32100-2015): 18 characters, the last a check.

Pure functions, no ORM. Only the 18th character's check is enforced. The 9-character organisation
code inside it (characters 9–17) carries its own GB 11714 check, but codes issued to some
individual businesses (个体工商户) during the 2016 migration do not always satisfy it, so refusing
them would refuse real enterprises; ``organisation_check_ok`` is offered for display only.
"""

from __future__ import annotations

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # no I, O, S, V, Z
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
LENGTH = 18

_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ORG_CHARSET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def check_character(first17: str) -> str:
    """The 18th character for the first 17 (already upper-case and within CHARSET)."""
    total = sum(CHARSET.index(c) * w for c, w in zip(first17, WEIGHTS, strict=True))
    return CHARSET[(31 - total % 31) % 31]


def normalise(code: str) -> str:
    return code.strip().upper()


def credit_code_problem(code: str) -> str:
    """Why ``code`` is not a valid credit code, in words a clerk understands; "" when it is valid."""
    code = normalise(code)
    if len(code) != LENGTH:
        return f"统一社会信用代码应为18位，当前为{len(code)}位。"
    wrong = sorted({c for c in code if c not in CHARSET})
    if wrong:
        return f"统一社会信用代码含有不允许的字符：{'、'.join(wrong)}（不使用 I、O、S、V、Z）。"
    expected = check_character(code[:17])
    if code[17] != expected:
        return f"统一社会信用代码校验位错误：第18位应为“{expected}”，填写的是“{code[17]}”，请核对后重新填写。"
    return ""


def organisation_check_ok(code: str) -> bool:
    """GB 11714 check of the organisation code part (characters 9–17); informative only."""
    org = normalise(code)[8:17]
    if len(org) != 9 or any(c not in _ORG_CHARSET for c in org):
        return False
    total = sum(_ORG_CHARSET.index(c) * w for c, w in zip(org[:8], _ORG_WEIGHTS, strict=True))
    value = 11 - total % 11
    return org[8] == {10: "X", 11: "0"}.get(value, str(value))
