"""``kejing.core.db.update_rows`` and ``insert_rows``: many rows set by primary key, or inserted, in one go —
``executemany`` on SQLite; on PostgreSQL arrays (``UPDATE … FROM unnest``) and ``COPY``. The suite runs on both
in CI, so both paths are checked."""

import pytest

from kejing.core.db import insert_rows, update_rows
from kejing.customers.models import Customer


@pytest.mark.django_db
def test_update_rows_sets_each_rows_own_values_and_nothing_else(org):
    before = {c.pk: (c.name, c.tier) for c in Customer.objects.all()}
    # C1 and C3 change, C2 is not named; chunk=1 makes one statement per row on PostgreSQL, two in all
    update_rows(Customer, ["tier", "value_tier"], [(25, "A", org.c1.pk), (3, "", org.c3.pk)], chunk=1)
    got = {c.code: (c.tier, c.value_tier, c.name) for c in Customer.objects.all()}
    assert got["C1"] == (25, "A", before[org.c1.pk][0])
    assert got["C3"] == (3, "", before[org.c3.pk][0])
    assert got["C2"] == (10, "B", before[org.c2.pk][0])  # untouched


@pytest.mark.django_db
def test_update_rows_with_no_rows_does_nothing(org):
    update_rows(Customer, ["tier"], [])
    assert sorted(Customer.objects.values_list("tier", flat=True)) == [10, 10, 10]


@pytest.mark.django_db
def test_update_rows_writes_null(org):
    from kejing.forecasting.models import ForecastLine, Round, Spec

    spec = Spec.objects.create(code="X1", brand="测", name="测试", price_class="mid", price=100)
    rnd = Round.objects.create(target="2027-01-01")
    line = ForecastLine.objects.create(
        round=rnd, customer=org.c1, spec=spec, unit=org.u1, cm=org.cm1, merged_qty=5, model_qty=4, source="model"
    )
    update_rows(ForecastLine, ["model_qty", "merged_qty", "source"], [(None, 7, "cm", line.pk)])
    line.refresh_from_db()
    assert (line.model_qty, line.merged_qty, line.source) == (None, 7, "cm")


@pytest.mark.django_db
def test_insert_rows_writes_what_the_orm_reads_back(org):
    """Dates, an aware datetime, JSON, a NULL foreign key and text, in statements of one row each (``chunk=1``)."""
    import datetime as dt

    from django.utils import timezone

    from kejing.core.models import AuditLog
    from kejing.forecasting.models import LedgerEntry, Spec

    spec = Spec.objects.create(code="X1", brand="测", name="测试", price_class="mid", price=100)
    at = timezone.make_aware(dt.datetime(2026, 11, 28, 9, 30, 15, 123456))
    assert (
        insert_rows(
            AuditLog,
            ["at", "actor", "action", "model", "object_pk", "customer", "changes", "note"],
            [
                (at, org.admin.user.pk, "test", "x.y", "1", org.c1.pk, {"demand": [None, 7], "名": ["甲", "乙"]}, ""),
                (at, None, "test", "x.y", "2", None, {}, "备注"),
            ],
            chunk=1,
        )
        == 2
    )
    got = list(AuditLog.objects.filter(action="test").order_by("object_pk"))
    assert [(x.at, x.actor_id, x.customer_id, x.changes, x.note) for x in got] == [
        (at, org.admin.user.pk, org.c1.pk, {"demand": [None, 7], "名": ["甲", "乙"]}, ""),
        (at, None, None, {}, "备注"),
    ]
    # JSON written this way is queried as JSON, as the ORM's own writes are
    assert AuditLog.objects.filter(action="test", changes__demand__1=7).count() == 1
    months = [dt.date(2026, 10, 1), dt.date(2026, 11, 1)]
    insert_rows(
        LedgerEntry,
        ["customer", "spec", "month", "demand", "supplied", "guidance"],
        [(org.c1.pk, spec.pk, m, 5 + i, None, "") for i, m in enumerate(months)],
    )
    assert list(LedgerEntry.objects.filter(spec=spec).order_by("month").values_list("month", "demand", "supplied")) == [
        (months[0], 5, None),
        (months[1], 6, None),
    ]
    assert LedgerEntry.objects.filter(spec=spec, month__gte=months[1]).count() == 1  # dates compare as dates


@pytest.mark.django_db
def test_insert_rows_with_no_rows_writes_nothing(org):
    from kejing.core.models import AuditLog

    before = AuditLog.objects.count()
    assert insert_rows(AuditLog, ["at", "action"], []) == 0
    assert AuditLog.objects.count() == before


@pytest.mark.django_db
def test_record_rows_writes_one_audit_record_per_row(org):
    from kejing.core import audit
    from kejing.core.models import AuditLog

    n = audit.record_rows(
        actor=org.admin.user,
        action="ledger_import",
        model="forecasting.ledgerentry",
        rows=[("1:2:2026-10", org.c1.pk, {"demand": [14, 15]}), ("3:2:2026-10", org.c3.pk, {"stock": [None, 0]})],
    )
    assert n == 2
    got = AuditLog.objects.filter(action="ledger_import").order_by("object_pk")
    assert [(x.object_pk, x.customer_id, x.actor_id, x.changes) for x in got] == [
        ("1:2:2026-10", org.c1.pk, org.admin.user.pk, {"demand": [14, 15]}),
        ("3:2:2026-10", org.c3.pk, org.admin.user.pk, {"stock": [None, 0]}),
    ]
    assert org.c1.audit_entries.filter(action="ledger_import").count() == 1  # a customer's history finds it
