"""The ledger import's writer (``services._write_ledger``): month by month, as plain rows. What it creates,
updates and audits, the unit totals it refreshes, and that a failure in a later month leaves the earlier months
unwritten too (one transaction for the whole file)."""

from __future__ import annotations

import datetime as dt

import pytest

from kejing.core import audit
from kejing.core.models import AuditLog
from kejing.forecasting import services
from kejing.forecasting.models import LedgerEntry, Spec, UnitHistory

from . import cycle_fixtures

cycle_ledger, on = cycle_fixtures.cycle_ledger, cycle_fixtures.on

OCT, NOV = dt.date(2026, 10, 1), dt.date(2026, 11, 1)
# October (the fixture: C1 JF01 ordered and supplied 14, C1 TH04 4 / 4): C1 JF01 ordered one more, C1 TH04 as it
# was. November has no ledger yet: C1 JF01 and C3 JF01 are new rows, C1's with no supplied figure and a guidance.
FILE = (
    "客户编码,规格编码,月份,需求量,供货量,经营指导\n"
    "C1,JF01,2026-10,15,14,\n"
    "C1,TH04,2026-10,4,4,\n"
    "C1,JF01,2026-11,7,,多进一条\n"
    "C3,JF01,2026-11,2,2,\n"
)


def _import(org, text: str, **kwargs) -> dict:
    return services.import_ledger(org.admin.user, cycle_fixtures.csv_table(text), dry_run=False, **kwargs)


@pytest.mark.django_db
def test_two_months_create_update_and_audit_each_changed_row_once(cycle_ledger):
    org = cycle_ledger
    jf01 = Spec.objects.get(code="JF01")
    logged = AuditLog.objects.filter(action="ledger_import").count()
    calls: list[tuple] = []
    report = _import(org, FILE, progress=lambda *args: calls.append(args))
    # two new rows (November), one changed (C1 JF01 October), one unchanged (C1 TH04: neither written nor audited)
    assert (report["ok"], report["created"], report["updated"]) == (True, 2, 1), report
    # four rows are too few for the checking's progress (every 1,000th row); the writing is announced once
    assert calls == [(4, 4, "写入 4 行 / writing 4 rows")]
    row = LedgerEntry.objects.get(customer=org.c1, spec=jf01, month=NOV)
    assert (row.demand, row.supplied, row.sold, row.stock, row.allocated, row.guidance) == (
        7, None, None, None, None, "多进一条"
    )  # fmt: skip
    assert LedgerEntry.objects.get(customer=org.c1, spec=jf01, month=OCT).demand == 15
    logs = {x.object_pk: x for x in AuditLog.objects.filter(action="ledger_import").order_by("pk")[logged:]}
    assert {pk: x.changes for pk, x in logs.items()} == {
        f"{org.c1.pk}:{jf01.pk}:2026-10": {"demand": [14, 15]},  # supplied 14 and guidance "" did not change
        f"{org.c1.pk}:{jf01.pk}:2026-11": {
            "demand": [None, 7],
            "supplied": [None, None],
            "guidance": [None, "多进一条"],
        },
        f"{org.c3.pk}:{jf01.pk}:2026-11": {"demand": [None, 2], "supplied": [None, 2], "guidance": [None, ""]},
    }
    assert {(x.actor_id, x.model, x.customer_id) for x in logs.values()} == {
        (org.admin.user.pk, "forecasting.ledgerentry", org.c1.pk),
        (org.admin.user.pk, "forecasting.ledgerentry", org.c3.pk),
    }
    assert len({x.at for x in logs.values()}) == 1  # one import, one moment
    # the unit totals of both months: each unit holds one of the three shops, so a total is that shop's figure
    totals = {
        (u, m): (d, s)
        for u, m, d, s in UnitHistory.objects.filter(spec=jf01, month__in=[OCT, NOV]).values_list(
            "unit_id", "month", "demand", "supplied"
        )
    }
    assert totals[(org.c1.unit_id, OCT)] == (15, 14)
    assert totals[(org.c1.unit_id, NOV)] == (7, 0)  # no supplied figure counts as 0 in the total
    assert totals[(org.c3.unit_id, NOV)] == (2, 2)
    # the same file again changes nothing and audits nothing
    again = _import(org, FILE)
    assert (again["created"], again["updated"]) == (0, 0)
    assert AuditLog.objects.filter(action="ledger_import").count() == logged + 3


@pytest.mark.django_db
def test_a_failure_in_the_second_month_leaves_the_first_month_unwritten(cycle_ledger, monkeypatch):
    org = cycle_ledger
    real, months = audit.record_rows, []

    def fail_on_second_month(**kwargs):  # October is written and audited first, then November fails
        months.append(kwargs["rows"][0][0][-7:])
        if len(months) == 2:
            raise RuntimeError("disk full")
        return real(**kwargs)

    monkeypatch.setattr(audit, "record_rows", fail_on_second_month)
    logged = AuditLog.objects.filter(action="ledger_import").count()
    with pytest.raises(RuntimeError, match="disk full"):
        _import(org, FILE)
    assert months == ["2026-10", "2026-11"]
    assert LedgerEntry.objects.get(customer=org.c1, spec__code="JF01", month=OCT).demand == 14  # as before
    assert not LedgerEntry.objects.filter(month=NOV).exists()
    assert AuditLog.objects.filter(action="ledger_import").count() == logged
