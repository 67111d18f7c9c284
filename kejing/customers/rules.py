"""The customer rules of an industry, read from its policy file: allowed values and field authority.

Kept free of models so the same object validates a web form, an API call and an import row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import get_language

from kejing.core.policies import get_policy
from kejing.core.validators import credit_code_error, normalize_phone, phone_error

# model field -> the policy list that holds its allowed values
LIST_OF_FIELD = {
    "customer_type": "customer_types",
    "business_format": "business_formats",
    "market_type": "market_types",
    "market_scale": "market_scales",
    "order_cycle": "order_cycles",
    "ordering_method": "ordering_methods",
    "value_tier": "value_tiers",
    "sector": "sectors",
    "size": "sizes",
}
COMMON_FIELDS = ["name", "phone", "address", "latitude", "longitude", "status", "value_tier", "customer_type"]
INDUSTRY_FIELDS = {
    "tobacco": [
        "licence_no",
        "business_format",
        "market_type",
        "market_scale",
        "tier",
        "order_cycle",
        "ordering_method",
    ],
    "telecom": ["ec_code", "sector", "size"],
    "bank": ["credit_code", "sector", "size"],
}
STATUSES = ("active", "suspended", "closed", "prospect")
LICENCE_RE = re.compile(r"^\d{12}$")
EC_CODE_RE = re.compile(r"^\d{10}$")


@dataclass(frozen=True)
class FieldRule:
    name: str
    mode: str  # direct | approval | route | owner
    steps: tuple[str, ...] = ()
    owner: str = ""
    review: str = ""
    inform_customer: bool = False


@dataclass
class CustomerRules:
    industry: str
    data: dict[str, Any]
    rules: dict[str, FieldRule] = field(default_factory=dict)

    @classmethod
    def for_industry(cls, industry: str) -> CustomerRules:
        data = get_policy(industry, "customers")
        rules = {}
        for name, spec in data.get("fields", {}).items():
            rules[name] = FieldRule(
                name=name,
                mode=spec.get("mode", "owner"),
                steps=tuple(spec.get("steps", ())),
                owner=spec.get("owner", ""),
                review=spec.get("review", ""),
                inform_customer=bool(spec.get("inform_customer", False)),
            )
        return cls(industry=industry, data=data, rules=rules)

    # ---- reference lists -------------------------------------------------------------------------------------
    def fields(self) -> list[str]:
        return COMMON_FIELDS + INDUSTRY_FIELDS[self.industry]

    def items(self, list_name: str) -> list[dict[str, str]]:
        return self.data.get("lists", {}).get(list_name, [])

    def choices(self, model_field: str) -> list[tuple[str, str]]:
        lang = "zh" if (get_language() or "zh-hans").startswith("zh") else "en"
        return [(i["code"], i.get(lang) or i["code"]) for i in self.items(LIST_OF_FIELD[model_field])]

    def label(self, model_field: str, code: str) -> str:
        if not code or model_field not in LIST_OF_FIELD:
            return code or ""
        return dict(self.choices(model_field)).get(code, code)

    def code_for(self, model_field: str, text: str) -> str | None:
        """Accept a code or its Chinese/English label (imports come with labels)."""
        text = text.strip()
        for item in self.items(LIST_OF_FIELD[model_field]):
            if text in (item["code"], item.get("zh"), item.get("en")):
                return item["code"]
        return None

    @property
    def tier_range(self) -> tuple[int, int]:
        t = self.data.get("tiers", {})
        return int(t.get("min", 1)), int(t.get("max", 30))

    def compliance_kinds(self) -> list[tuple[str, str]]:
        lang = "zh" if (get_language() or "zh-hans").startswith("zh") else "en"
        return [(i["code"], i.get(lang, i["code"])) for i in self.data.get("compliance", {}).get("kinds", [])]

    # ---- authority -------------------------------------------------------------------------------------------
    def rule(self, name: str) -> FieldRule | None:
        return self.rules.get(name)

    def review_fields(self) -> list[str]:
        return [r.name for r in self.rules.values() if r.review == "quarterly"]

    # ---- values ----------------------------------------------------------------------------------------------
    def clean(self, name: str, raw: Any) -> Any:
        """Return the stored form of ``raw`` for field ``name`` or raise ``ValueError`` with a clear message."""
        value = "" if raw is None else (raw.strip() if isinstance(raw, str) else raw)
        if name not in self.fields():
            raise ValueError(f"字段 {name} 不适用于本行业 / field {name} does not apply to this industry")
        if name == "name":
            if not value:
                raise ValueError("名称不能为空 / name is required")
            return str(value)[:120]
        if name == "phone":
            value = normalize_phone(str(value))
            err = phone_error(value)
            if err:
                raise ValueError(err)
            return value
        if name in ("latitude", "longitude"):
            if value == "":
                return None
            try:
                num = Decimal(str(value)).quantize(Decimal("0.000001"))
            except InvalidOperation:
                raise ValueError("坐标应为数字 / coordinate must be a number") from None
            limit = 90 if name == "latitude" else 180
            if not -limit <= num <= limit:
                raise ValueError(f"坐标超出范围 ±{limit} / coordinate out of range ±{limit}")
            return num
        if name == "status":
            if value not in STATUSES:
                raise ValueError(f"状态应为 {'/'.join(STATUSES)} / status must be one of {', '.join(STATUSES)}")
            return value
        if name == "tier":
            if value == "":
                return None
            lo, hi = self.tier_range
            try:
                num = int(str(value))
            except ValueError:
                raise ValueError("档位应为整数 / tier must be a whole number") from None
            if not lo <= num <= hi:
                raise ValueError(f"档位应在 {lo}–{hi} 之间 / tier must be between {lo} and {hi}")
            return num
        if name == "licence_no":
            if value and not LICENCE_RE.match(str(value)):
                raise ValueError("许可证号应为 12 位数字 / licence number must be 12 digits")
            return value or None
        if name == "ec_code":
            if value and not EC_CODE_RE.match(str(value)):
                raise ValueError("集团编码应为 10 位数字 / EC code must be 10 digits")
            return value or None
        if name == "credit_code":
            if value:
                err = credit_code_error(str(value))
                if err:
                    raise ValueError(err)
                return str(value).upper()
            return None
        if name in LIST_OF_FIELD:
            if value == "":
                return ""
            code = self.code_for(name, str(value))
            if code is None:
                allowed = "、".join(c for c, _ in self.choices(name))
                raise ValueError(f"取值 “{value}” 不在允许范围内({allowed}) / value not allowed")
            return code
        return str(value)[:200]

    def display(self, name: str, value: Any) -> str:
        if value in (None, ""):
            return ""
        if name in LIST_OF_FIELD:
            return self.label(name, str(value))
        return str(value)


_rules_cache: dict[str, tuple[int, CustomerRules]] = {}


def rules_for(industry: str) -> CustomerRules:
    from kejing.core import policies

    data = policies.get_policy(industry, "customers")
    cached = _rules_cache.get(industry)
    if cached and cached[0] == id(data):
        return cached[1]
    rules = CustomerRules.for_industry(industry)
    _rules_cache[industry] = (id(data), rules)
    return rules
