"""Small format checks shared by forms, the API and imports. Each returns an error message or ``None``."""

from __future__ import annotations

import re

MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
LANDLINE_RE = re.compile(r"^0\d{2,3}-?\d{7,8}(-\d{1,6})?$")
_CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def normalize_phone(value: str) -> str:
    """Strip spaces, a leading +86/86 and full-width digits so that people can paste numbers as they have them."""
    v = value.strip().translate(str.maketrans("０１２３４５６７８９－", "0123456789-")).replace(" ", "")
    if v.startswith("+86"):
        v = v[3:]
    elif v.startswith("86") and len(v) == 13:
        v = v[2:]
    return v


def phone_error(value: str) -> str | None:
    if not value:
        return None
    if MOBILE_RE.match(value) or LANDLINE_RE.match(value):
        return None
    return "电话号码格式不正确(手机 11 位,固话如 0351-1234567) / bad phone number"


def credit_code_error(value: str) -> str | None:
    """Unified social credit code (统一社会信用代码, GB 32100-2015): 18 characters with a mod-31 check character."""
    v = value.upper()
    if len(v) != 18 or any(c not in _CREDIT_ALPHABET for c in v):
        return "统一社会信用代码应为 18 位数字或大写字母 / credit code must be 18 digits or capital letters"
    total = sum(_CREDIT_ALPHABET.index(c) * w for c, w in zip(v[:17], _CREDIT_WEIGHTS, strict=True))
    check = _CREDIT_ALPHABET[(31 - total % 31) % 31]
    if v[17] != check:
        return f"统一社会信用代码校验位错误(应为 {check}) / credit code check character should be {check}"
    return None


def credit_code_with_check(first17: str) -> str:
    """Complete a 17-character stem with its check character (used by the demo generator and tests)."""
    total = sum(_CREDIT_ALPHABET.index(c) * w for c, w in zip(first17.upper(), _CREDIT_WEIGHTS, strict=True))
    return first17.upper() + _CREDIT_ALPHABET[(31 - total % 31) % 31]
