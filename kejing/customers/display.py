"""Turning stored codes into what a person reads: field labels, list labels, role names, staff names.

Pages show a change as “订货周期: 每周一次 → 两周一次”, never as “order_cycle: W1 → W2”.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils.translation import gettext as _

from kejing.core.models import AuditLog
from kejing.org.models import OrgUnit, Role, Staff

from .models import ChangeRequest, Customer
from .rules import LIST_OF_FIELD, rules_for


def field_labels() -> dict[str, str]:
    """Labels of customer and visit fields, plus the pseudo-fields the audit trail uses."""
    from kejing.service.models import Visit

    labels = {f.name: str(f.verbose_name) for f in Visit._meta.get_fields() if hasattr(f, "verbose_name")}
    labels.update({f.name: str(f.verbose_name) for f in Customer._meta.get_fields() if hasattr(f, "verbose_name")})
    labels.update({"contact": _("contact"), "compliance": _("compliance record")})
    return labels


def role_label(role: str) -> str:
    return str(dict(Role.choices).get(role, role))


def _choice_labels() -> dict[str, dict[str, str]]:
    from kejing.service.models import Visit

    return {
        "visit.status": {k: str(v) for k, v in Visit.Status.choices},
        "visit.purpose": {k: str(v) for k, v in Visit.Purpose.choices},
        "customer.status": {k: str(v) for k, v in Customer.Status.choices},
    }


def value_text(
    industry: str, field: str, value: Any, *, model: str = "customers.customer", names: dict[str, dict] | None = None
) -> str:
    if value in (None, ""):
        return "—"
    if names and field in names:
        return str(names[field].get(value, value))
    if model == "service.visit" and field in ("status", "purpose"):
        return _choice_labels()[f"visit.{field}"].get(value, str(value))
    if field == "status":
        return _choice_labels()["customer.status"].get(value, str(value))
    if field in LIST_OF_FIELD:
        return rules_for(industry).display(field, value)
    return str(value)


def history(customer: Customer, limit: int = 100) -> list[dict[str, Any]]:
    """Audit entries of a customer, each with ``changes`` as (label, before, after) texts."""
    entries = list(AuditLog.objects.filter(customer=customer).select_related("actor", "approved_by")[:limit])
    labels = field_labels()
    staff_ids = {v for e in entries for v in e.changes.get("cm", []) if v}
    unit_ids = {v for e in entries for v in e.changes.get("unit", []) if v}
    names = {
        "cm": dict(Staff.objects.filter(pk__in=staff_ids).values_list("pk", "name")),
        "unit": dict(OrgUnit.objects.filter(pk__in=unit_ids).values_list("pk", "name")),
    }
    return [
        {
            "entry": e,
            "changes": [
                (
                    labels.get(f, f),
                    value_text(customer.industry, f, a, model=e.model, names=names),
                    value_text(customer.industry, f, b, model=e.model, names=names),
                )
                for f, (a, b) in e.changes.items()
            ],
        }
        for e in entries
    ]


def label_requests(requests: Iterable[ChangeRequest]) -> list[ChangeRequest]:
    """Attach readable texts to change requests (``field_label``, ``old_text``, ``new_text``, ``steps_text``,
    ``waiting_for``) so templates need no lookups."""
    labels = field_labels()
    out = []
    for r in requests:
        industry = r.customer.industry
        r.field_label = labels.get(r.field, r.field)
        r.old_text = value_text(industry, r.field, r.old_value)
        r.new_text = value_text(industry, r.field, r.new_value)
        r.steps_text = [
            (role_label(s), i == r.step_index and r.status == ChangeRequest.Status.PENDING)
            for i, s in enumerate(r.steps)
        ]
        r.waiting_for = role_label(r.current_role) if r.current_role else ""
        out.append(r)
    return out
