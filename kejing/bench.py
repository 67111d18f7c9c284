"""Benchmarks: each measures Kejing's code and a baseline in the same run and prints the ratio.

``kejing bench demo``: the demo build (migrate + data) as ``kejing demo`` does it, against the same data built
the straightforward way (a password hash per user, one INSERT per customer). Both run in fresh subprocesses on
fresh SQLite files, so neither benefits from the other's warm caches.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_BUILD = """
import json, os, sys, time
t0 = time.perf_counter()
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kejing.settings")
import django
django.setup()
from django.core.management import call_command
from kejing.core.policies import load_policy_files
call_command("migrate", interactive=False, verbosity=0)
load_policy_files()
from kejing import demo
res = demo.build(customers=int(sys.argv[1]), naive=sys.argv[2] == "naive")
print(json.dumps({"seconds": time.perf_counter() - t0, "counts": res.counts}))
"""


def _run(customers: int, mode: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "KEJING_DB": str(Path(tmp) / "bench.sqlite3")}
        env.pop("DATABASE_URL", None)
        started = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-c", _BUILD, str(customers), mode], env=env, check=True, capture_output=True, text=True
        )
        wall = time.perf_counter() - started
    data = json.loads(out.stdout.strip().splitlines()[-1])
    data["wall_seconds"] = wall
    return data


def bench_demo(customers: int) -> dict:
    ours = _run(customers, "bulk")
    base = _run(customers, "naive")
    if ours["counts"] != base["counts"]:
        raise RuntimeError(f"baseline built different data: {ours['counts']} vs {base['counts']}")
    return {
        "customers": customers,
        "rows": ours["counts"],
        "seconds": round(ours["seconds"], 2),
        "baseline_seconds": round(base["seconds"], 2),
        "speedup": round(base["seconds"] / ours["seconds"], 2),
        "wall_seconds_including_python_start": round(ours["wall_seconds"], 2),
    }
