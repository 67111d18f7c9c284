"""``kejing bench ledger-import``: the sales ledger import's writer against the one it replaced, in the same run on
the same data.

The demo company (``--customers`` shops, 36 months of ledger) is built once into a temporary SQLite file and
copied, so both writers start from the very same rows. Each then runs in a fresh process on its copy:

- by default, the month with the most rows is read into a table as the page's import would read a file, every
  row's demand raised by one carton (so every row changes and is audited), and imported back;
- with ``--history``, the whole ledger (every month) is read into a table, the ledger and the unit totals are
  emptied, and the table is imported into the empty ledger: a company's first load of its history.

``services.import_ledger`` runs once with its own writer (:func:`services._write_ledger`: month by month, plain
rows through ``kejing.core.db``) and once with that function swapped for :func:`_orm_write`, the writer of
commit 7e3dd78: a Django object for every row and every audit record, the whole file at once,
``INSERT ... ON CONFLICT DO UPDATE`` for the changed rows. Afterwards the ledger, the unit totals and the import's
audit records of both copies are compared (a digest of every value); a difference stops the benchmark. The
seconds timed are the import's (checks, writing, audit records, unit totals), not the build or the reading; the
peak memory is the process's, the table it imported included.
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

_BUILD = """
import os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kejing.settings")
import django
django.setup()
from django.core.management import call_command
from kejing.core.policies import load_policy_files
call_command("migrate", interactive=False, verbosity=0)
load_policy_files()
from kejing import demo
demo.build(customers=int(sys.argv[1]))
"""

_RUN = """
import json, os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kejing.settings")
import django
django.setup()
from kejing.forecasting.bench_import import one_run
print(json.dumps(one_run(sys.argv[1], sys.argv[2] == "history")))
"""


def _orm_write(user, parsed, fields, customers) -> dict[str, int]:
    """The writer the import had until commit 7e3dd78, kept as the benchmark's baseline: a ``LedgerEntry`` object
    for every row of the file and an ``AuditLog`` object for every change, all at once; new rows by
    ``bulk_create``, changed ones by ``INSERT ... ON CONFLICT DO UPDATE`` of the file's columns."""
    from kejing.core import audit
    from kejing.core.models import AuditLog

    from . import services
    from .models import LedgerEntry

    unit_of = {c.pk: c.unit_id for c in customers.values()}
    months = {m for _, _, m in parsed}
    existing = {
        (e.customer_id, e.spec_id, e.month): e
        for e in LedgerEntry.objects.filter(month__in=months, customer_id__in={c for c, _, _ in parsed})
    }
    new, changed, logs = [], [], []
    now = services.timezone.now()
    for (cid, sid, month), (_, row) in parsed.items():
        values = dict(zip(fields, row, strict=True))
        e = existing.get((cid, sid, month))
        if e is None:
            e = LedgerEntry(customer_id=cid, spec_id=sid, month=month, **values)
            new.append(e)
            diff = {k: [None, audit.plain(v)] for k, v in values.items()}
        else:
            diff = {k: [getattr(e, k), v] for k, v in values.items() if getattr(e, k) != v}
            if not diff:
                continue
            for k, v in values.items():
                setattr(e, k, v)
            changed.append(e)
        logs.append(
            AuditLog(
                at=now,
                actor=user,
                action="ledger_import",
                model="forecasting.ledgerentry",
                object_pk=f"{cid}:{sid}:{month:%Y-%m}",
                customer_id=cid,
                changes=diff,
            )
        )
    LedgerEntry.objects.bulk_create(new, batch_size=2000)
    if changed:
        LedgerEntry.objects.bulk_create(
            [
                LedgerEntry(
                    customer_id=e.customer_id, spec_id=e.spec_id, month=e.month, **{k: getattr(e, k) for k in fields}
                )
                for e in changed
            ],
            update_conflicts=True,
            unique_fields=["customer", "spec", "month"],
            update_fields=list(fields),
            batch_size=2000,
        )
    audit.record_many(logs)
    services.refresh_unit_history(months, {unit_of[c] for c, _, _ in parsed})
    return {"created": len(new), "updated": len(changed)}


def _digest() -> str:
    """Every value of the ledger, of the unit totals and of the import's audit records (their JSON read back)."""
    from kejing.core.models import AuditLog

    from .models import LedgerEntry, UnitHistory

    digest = hashlib.sha256()
    queries = (
        LedgerEntry.objects.order_by("customer_id", "spec_id", "month").values_list(
            "customer_id", "spec_id", "month", "demand", "supplied", "sold", "stock", "recorded_forecast", "guidance"
        ),
        UnitHistory.objects.order_by("unit_id", "spec_id", "month").values_list(
            "unit_id", "spec_id", "month", "demand", "supplied"
        ),
        AuditLog.objects.filter(action="ledger_import")
        .order_by("object_pk")
        .values_list("actor_id", "model", "object_pk", "customer_id", "changes", "note"),
    )
    for query in queries:
        for row in query.iterator(chunk_size=20_000):
            digest.update(json.dumps(row, default=str, sort_keys=True).encode())
    return digest.hexdigest()


def one_run(mode: str, history: bool = False) -> dict[str, Any]:
    """Import the busiest month with every demand raised by one, or (``history``) the whole ledger into an
    emptied one, with Kejing's writer (``mode`` "kejing") or the baseline's ("baseline"); in the benchmark's own
    process and database."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.db.models import Count

    from kejing.core.tabular import Table

    from . import services
    from .models import LedgerEntry, UnitHistory

    header = ["客户编码", "规格编码", "月份", "需求量", "供货量", "销售量", "库存量"]
    figures = ("customer__code", "spec__code", "month", "demand", "supplied", "sold", "stock")
    entries = LedgerEntry.objects.order_by("month", "pk")
    if not history:
        busiest = LedgerEntry.objects.values("month").annotate(n=Count("id")).order_by("-n", "-month").first()
        entries = entries.filter(month=busiest["month"])
    rows = []
    for i, (code, spec, month, demand, supplied, sold, stock) in enumerate(
        entries.values_list(*figures).iterator(chunk_size=20_000)
    ):
        cells = [code, spec, f"{month:%Y-%m}", demand if history else (demand or 0) + 1, supplied, sold, stock]
        rows.append((i + 2, {h: "" if v is None else str(v) for h, v in zip(header, cells, strict=True)}))
    table = Table(header=header, rows=rows, encoding="utf-8")
    if history:
        with connection.cursor() as cur:
            for model in (LedgerEntry, UnitHistory):
                cur.execute(f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)}")
    user = get_user_model().objects.get(username="center01")
    if mode == "baseline":
        services._write_ledger = _orm_write
    started = time.perf_counter()
    report = services.import_ledger(user, table, dry_run=False)
    seconds = time.perf_counter() - started
    if not report["ok"]:
        raise RuntimeError(f"the import refused its own rows: {report['errors'][:3]}")
    return {
        "months": len({cells["月份"] for _, cells in rows}),
        "rows": len(rows),
        "created": report["created"],
        "updated": report["updated"],
        "seconds": seconds,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
        "digest": _digest(),
    }


def _python(script: str, db: Path, *args: str) -> str:
    env = {**os.environ, "KEJING_DB": str(db)}
    env.pop("DATABASE_URL", None)
    out = subprocess.run([sys.executable, "-c", script, *args], env=env, check=True, capture_output=True, text=True)
    return out.stdout


def bench_ledger_import(customers: int, history: bool = False) -> dict[str, Any]:
    """Both writers on copies of one demo database; the ratio is the baseline's seconds over Kejing's."""
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "demo.sqlite3"
        started = time.perf_counter()
        _python(_BUILD, base, str(customers))
        built = time.perf_counter() - started
        runs = {}
        for mode in ("kejing", "baseline"):
            db = Path(tmp) / f"{mode}.sqlite3"
            shutil.copyfile(base, db)
            runs[mode] = json.loads(_python(_RUN, db, mode, "history" if history else "month").strip().splitlines()[-1])
            db.unlink()
    ours, theirs = runs["kejing"], runs["baseline"]
    if any(ours[k] != theirs[k] for k in ("digest", "created", "updated")):
        raise RuntimeError("the two writers left different ledgers, unit totals or audit records")
    return {
        "customers": customers,
        "scenario": "history" if history else "month",
        "months": ours["months"],
        "rows": ours["rows"],
        "created": ours["created"],
        "updated": ours["updated"],
        "seconds": round(ours["seconds"], 2),
        "baseline_seconds": round(theirs["seconds"], 2),
        "speedup": round(theirs["seconds"] / ours["seconds"], 2),
        "peak_mb": ours["peak_mb"],
        "baseline_peak_mb": theirs["peak_mb"],
        "same_result": True,
        "demo_build_seconds": round(built, 1),
    }
