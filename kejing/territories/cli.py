"""``kejing territory`` and ``kejing bench territory``: the territory engine on files, without Django.

Why a command line: a department can try a territory design on its own export (or a planning spreadsheet)
before touching the live assignment, and the benchmark needs a reproducible run. Exit status: 0 done, 1 bad
input (each bad cell listed with file, row and column), 2 bad policy. Columns are documented in
docs/territories.md.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from typing import Any


def register(sub: argparse._SubParsersAction, bench: argparse._SubParsersAction) -> None:
    """Add ``territory`` to ``kejing`` and ``territory`` to ``kejing bench``."""
    s = sub.add_parser(
        "territory",
        help="assign customers to CMs within the load bounds (compact territories, few moves)",
        description="Assign each customer of the customers file to a CM of the cms file so that every CM's load "
        "is within the policy bounds, territories are compact and few customers change CM.",
    )
    s.add_argument("--customers", required=True, help="customers file (.csv/.xlsx): id, lat, lon[, area, current_cm]")
    s.add_argument("--cms", required=True, help="CMs file (.csv/.xlsx): id, area[, lat, lon of the home base]")
    s.add_argument("--policy", default="tobacco", help="industry whose territories policy applies (default tobacco)")
    s.add_argument("--move-penalty", type=float, help="km a customer's new centre must be nearer to move him")
    s.add_argument("--seed", type=int, help="seed for CMs without customers or base (default: the policy's)")
    s.add_argument("--out", help="write the full assignment (id, cm, current_cm) to this CSV file")
    s.add_argument("--json", action="store_true", help="print one JSON object")
    s.set_defaults(func=cmd_territory)

    b = bench.add_parser(
        "territory",
        help="territory assignment vs. k-means + greedy repair on county-like data",
        description="Time Kejing's assignment and score its compactness against k-means plus greedy capacity "
        "repair on the same synthetic counties.",
    )
    b.add_argument("--customers", type=int, default=10_000)
    b.add_argument("--seed", type=int, default=2026)
    b.add_argument("--json", action="store_true")
    b.set_defaults(func=cmd_bench_territory)


def run_territory(args: argparse.Namespace) -> tuple[int, dict[str, Any]]:
    """The ``territory`` command's exit status and result (or ``{"errors": [...]}``)."""
    from kejing.core.tabular import TableError, read_table

    from .engine.policy import TerritoryPolicy, TerritoryPolicyError
    from .engine.run import solve, summary
    from .engine.tables import InputError, build_problem

    try:
        policy = TerritoryPolicy.load(args.policy)
    except (TerritoryPolicyError, ValueError) as exc:
        return 2, {"errors": [f"策略文件有误 / policy error: {exc}"]}
    tables = []
    for path in (args.customers, args.cms):
        try:
            t = read_table(path)
        except (TableError, OSError) as exc:
            return 1, {"errors": [f"无法读取 / cannot read {path}: {exc}"]}
        tables.append((t.header, t.rows))
    try:
        problem = build_problem(tables[0], tables[1], policy, names=(args.customers, args.cms))
    except InputError as exc:
        return 1, {"errors": [e.text() for e in exc.errors]}
    except TerritoryPolicyError as exc:
        return 1, {"errors": [str(exc)]}
    t0 = time.perf_counter()
    result, points = solve(problem, policy, move_penalty_km=args.move_penalty, seed=args.seed)
    out = summary(problem, result, points, time.perf_counter() - t0)
    if args.out:
        with open(args.out, "w", newline="", encoding="utf-8-sig") as fh:
            w = csv.writer(fh)
            w.writerow(["id", "cm", "current_cm"])
            for i, cid in enumerate(problem.customer_ids):
                cur = problem.current[i]
                w.writerow([cid, out["assignment"][cid], problem.cm_ids[cur] if cur >= 0 else ""])
    return 0, out


def cmd_territory(args: argparse.Namespace) -> int:
    code, out = run_territory(args)
    if args.json:
        print(json.dumps(out, ensure_ascii=False))
    elif code:
        print("\n".join(out["errors"]), file=sys.stderr)
    else:
        print(
            f"客户 customers {out['customers']}, 客户经理 CMs {out['cms']}, 负荷达标 bounds ok {out['bounds_ok']}, "
            f"紧凑度 compactness {out['compactness']} km (原 before {out['compactness_before']}), "
            f"调整 moved {out['moved']}, {out['seconds']} s"
        )
        for row in out["loads"]:
            print(f"  {row['cm']:<12} {row['area']:<6} {row['min']}-{row['max']}: {row['before']} -> {row['after']}")
    return code


def cmd_bench_territory(args: argparse.Namespace) -> int:
    from .engine.run import bench

    out = bench(args.customers, args.seed)
    print(json.dumps(out, ensure_ascii=False) if args.json else "\n".join(f"{k}: {v}" for k, v in out.items()))
    return 0
