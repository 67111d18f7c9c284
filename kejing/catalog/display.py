"""Readable text for packages and usage: the catalog keeps tariffs as structured data, pages show sentences."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils.translation import get_language
from django.utils.translation import gettext as _

from .models import Package, Product


def _num(value: Any) -> str:
    d = Decimal(str(value))
    text = format(d, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def meter_label(meters: dict[str, dict[str, str]], key: str) -> str:
    m = meters.get(key, {})
    if (get_language() or "").startswith("en"):
        return m.get("label_en", key)
    return m.get("label", key)


def meter_unit(meters: dict[str, dict[str, str]], key: str) -> str:
    return meters.get(key, {}).get("unit", "")


def per_text(per: str, meters: dict[str, dict[str, str]]) -> str:
    if per == "enterprise":
        return _("per enterprise")
    return _("per %(unit)s") % {"unit": meter_label(meters, per)}


def package_rows(pkg: Package, meters: dict[str, dict[str, str]]) -> dict[str, list[str]]:
    """Fee, quota, overage, cap, limit and feature sentences of one package."""
    fees = []
    for f in pkg.fees:
        period = _("year") if f.get("period") == "year" else _("month")
        basis = per_text(f.get("per", "enterprise"), meters)
        fees.append(f"{f.get('label', '')} {_num(f['amount'])} {_('yuan')}/{period} · {basis}")
    quotas = []
    for a in pkg.allowances:
        names = " + ".join(meter_label(meters, m) for m in a["meters"])
        unit = meter_unit(meters, a["meters"][0])
        quotas.append(f"{names} {_num(a['amount'])}{unit} · {per_text(a.get('per', 'enterprise'), meters)}")
    overage = []
    for m, rate in pkg.rates.items():
        unit = pkg.rate_units.get(m) or meter_unit(meters, m)
        overage.append(f"{meter_label(meters, m)} {_num(rate)} {_('yuan')}/{unit}")
    for a in pkg.allowances:
        for m in a["meters"]:
            if m not in pkg.rates:
                overage.append(_("%(meter)s: no price above the quota") % {"meter": meter_label(meters, m)})
    caps = []
    if pkg.cap:
        caps.append(f"{_num(pkg.cap['amount'])} {_('yuan')} · {per_text(pkg.cap.get('per', 'enterprise'), meters)}")
    for m, v in pkg.meter_caps.items():
        caps.append(
            _("%(meter)s above %(value)s%(unit)s per user is free")
            % {"meter": meter_label(meters, m), "value": _num(v), "unit": meter_unit(meters, m)}
        )
    limits = []
    for key, v in pkg.limits.items():
        sign = "≥" if key.startswith("min_") else "≤"
        limits.append(f"{meter_label(meters, key[4:])} {sign} {_num(v)}{meter_unit(meters, key[4:])}")
    return {
        "fees": fees,
        "quotas": quotas,
        "overage": overage,
        "caps": caps,
        "limits": limits,
        "features": list(pkg.features),
    }


def relevant_meters(product: Product) -> list[str]:
    """The usage inputs that change this product's price or eligibility, in the catalog's meter order."""
    keys: set[str] = set(product.required_inputs)
    for pkg in product.packages.all():
        for f in pkg.fees:
            if f.get("per", "enterprise") != "enterprise":
                keys.add(f["per"])
        for a in pkg.allowances:
            keys.update(a["meters"])
            if a.get("per", "enterprise") != "enterprise":
                keys.add(a["per"])
        keys.update(pkg.rates)
        keys.update(k[4:] for k in pkg.limits)
        if pkg.cap and pkg.cap.get("per", "enterprise") != "enterprise":
            keys.add(pkg.cap["per"])
    if product.price_table:
        keys.add("bandwidth_mbps")
    return sorted(keys, key=lambda k: (k != "users", k))


def features_of(product: Product) -> list[str]:
    seen: list[str] = []
    for pkg in product.packages.all():
        for f in pkg.features:
            if f not in seen:
                seen.append(f)
    return seen
