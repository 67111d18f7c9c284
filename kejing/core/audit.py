"""Writing audit records. Services call these inside their transaction so that the change and its trace land
together or not at all."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterable
from typing import Any

from django.db import models
from django.utils import timezone

from .db import insert_rows
from .models import AuditLog


def plain(value: Any) -> Any:
    """A JSON-safe form of a field value (dates, decimals and model instances become strings/ids)."""
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return value


def snapshot(obj: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """The current values of ``fields`` (foreign keys by id), for a before/after comparison."""
    out = {}
    for name in fields:
        field = obj._meta.get_field(name)
        out[name] = plain(getattr(obj, field.attname))
    return out


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    return {k: [before.get(k), after[k]] for k in after if before.get(k) != after[k]}


def record(
    *,
    actor,
    action: str,
    obj: models.Model,
    changes: dict[str, list[Any]] | None = None,
    customer=None,
    approved_by=None,
    note: str = "",
) -> AuditLog:
    return AuditLog.objects.create(
        actor=actor,
        action=action,
        model=obj._meta.label_lower,
        object_pk=str(obj.pk),
        customer=customer,
        changes={k: [plain(a), plain(b)] for k, (a, b) in (changes or {}).items()},
        approved_by=approved_by,
        note=note[:300],
    )


def record_many(entries: list[AuditLog]) -> None:
    """Bulk insert prepared entries (imports write thousands at once)."""
    AuditLog.objects.bulk_create(entries, batch_size=2000)


def record_rows(
    *, actor, action: str, model: str, rows: Iterable[tuple[str, int | None, dict[str, list[Any]]]], at=None
) -> int:
    """Write one audit record per ``(object_pk, customer_id, changes)`` of ``rows``, all by ``actor`` with
    ``action`` on ``model`` (a label such as ``forecasting.ledgerentry``) at the same moment; ``changes`` already
    JSON-safe (:func:`plain`). Returns how many were written.

    Why not :func:`record_many`: an import of a company's ledger history audits millions of rows, and building an
    ``AuditLog`` object for each cost more than the rest of the writing (docs/benchmarks.md). The records are the
    same; they go in as plain rows (``kejing.core.db.insert_rows``).
    """
    at = at or timezone.now()
    actor_id = getattr(actor, "pk", actor)
    return insert_rows(
        AuditLog,
        ["at", "actor", "action", "model", "object_pk", "customer", "changes", "note"],
        [(at, actor_id, action, model, pk, customer_id, changes, "") for pk, customer_id, changes in rows],
    )
