"""``kejing bench ledger-import``: writing a month of the sales ledger back, Kejing's writer against Django's
``bulk_update``, in the same run on the same data.

The demo company (``--customers`` shops, 36 months of ledger) is built once into a temporary SQLite file and
copied, so both writers start from the very same rows. Each then runs in a fresh process: the month with the most
rows is read into a table as the page's import would read a file, every row's demand raised by one carton (so
every row changes), and ``services.import_ledger`` writes it — once with :func:`services._update_ledger` (one
``INSERT ... ON CONFLICT DO UPDATE`` per 2,000 rows), once with that function swapped for ``bulk_update`` of the
same fields, the code the import used before. Both ledgers are then compared row by row (a digest of every
figure); a difference stops the benchmark. The seconds timed are the import's (checking and writing, the audit
records and the unit totals included), not the demo build.
"""

from __future__ import annotations

import hashlib
import json
import os
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
print(json.dumps(one_run(sys.argv[1])))
"""


def _baseline_update(changed: list, fields: list[str]) -> None:
    """The writer the import had before: Django's ``bulk_update`` of the file's fields, 1,000 rows a batch."""
    from .models import LedgerEntry

    LedgerEntry.objects.bulk_update(changed, fields, batch_size=1000)


def one_run(mode: str) -> dict[str, Any]:
    """Import the busiest month with every demand raised by one, with Kejing's writer or the baseline's
    (``mode`` "kejing" or "baseline"); in the benchmark's own process and database."""
    from django.contrib.auth import get_user_model
    from django.db.models import Count

    from kejing.core.tabular import Table

    from . import services
    from .models import LedgerEntry

    busiest = LedgerEntry.objects.values("month").annotate(n=Count("id")).order_by("-n", "-month").first()
    month = busiest["month"]
    header = ["客户编码", "规格编码", "月份", "需求量", "供货量", "销售量", "库存量"]
    rows = []
    figures = ("customer__code", "spec__code", "demand", "supplied", "sold", "stock")
    for i, (code, spec, demand, supplied, sold, stock) in enumerate(
        LedgerEntry.objects.filter(month=month).order_by("pk").values_list(*figures).iterator(chunk_size=5000)
    ):
        cells = [code, spec, f"{month:%Y-%m}", (demand or 0) + 1, supplied, sold, stock]
        rows.append((i + 2, {h: "" if v is None else str(v) for h, v in zip(header, cells, strict=True)}))
    table = Table(header=header, rows=rows, encoding="utf-8")
    user = get_user_model().objects.get(username="center01")
    if mode == "baseline":
        services._update_ledger = _baseline_update
    started = time.perf_counter()
    report = services.import_ledger(user, table, dry_run=False)
    seconds = time.perf_counter() - started
    if not report["ok"]:
        raise RuntimeError(f"the import refused its own rows: {report['errors'][:3]}")
    digest = hashlib.sha256()
    for row in LedgerEntry.objects.order_by("customer_id", "spec_id", "month").values_list(
        "customer_id", "spec_id", "month", "demand", "supplied", "sold", "stock", "recorded_forecast", "guidance"
    ):
        digest.update(repr(row).encode())
    return {"month": f"{month:%Y-%m}", "rows": len(rows), "updated": report["updated"], "seconds": seconds,
            "digest": digest.hexdigest()}  # fmt: skip


def _python(script: str, db: Path, *args: str) -> str:
    env = {**os.environ, "KEJING_DB": str(db)}
    env.pop("DATABASE_URL", None)
    out = subprocess.run([sys.executable, "-c", script, *args], env=env, check=True, capture_output=True, text=True)
    return out.stdout


def bench_ledger_import(customers: int) -> dict[str, Any]:
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
            runs[mode] = json.loads(_python(_RUN, db, mode).strip().splitlines()[-1])
    ours, theirs = runs["kejing"], runs["baseline"]
    if ours["digest"] != theirs["digest"] or ours["updated"] != theirs["updated"]:
        raise RuntimeError("the two writers left different ledgers")
    return {
        "customers": customers,
        "month": ours["month"],
        "rows": ours["rows"],
        "updated": ours["updated"],
        "seconds": round(ours["seconds"], 2),
        "baseline_seconds": round(theirs["seconds"], 2),
        "speedup": round(theirs["seconds"] / ours["seconds"], 2),
        "same_ledger": True,
        "demo_build_seconds": round(built, 1),
    }
