"""Commands of group business: ``kejing import-members``, ``kejing numbering …``, ``kejing bill-run`` and
``kejing bench billrun``.

``numbering`` and ``bench billrun`` need no database (the engines are pure); the others open the Django project
like every other ``kejing`` command. Exit status: 0 ok, 1 bad input (every bad row is listed), 2 usage error.
"""

from __future__ import annotations

import argparse
import json
import sys
import time


def register(sub: argparse._SubParsersAction, bench: argparse._SubParsersAction) -> None:
    """Add this app's subcommands to the ``kejing`` parser; ``bench`` is the subparsers of ``kejing bench``."""
    s = sub.add_parser(
        "import-members",
        help="import members of a group customer (EC) from .xlsx/.csv; nothing is written unless every row is valid",
    )
    s.add_argument("file", help="path of the .xlsx or .csv file (UTF-8 or GBK)")
    s.add_argument("--ec", required=True, help="EC code (集团编码) or customer code")
    s.add_argument("--dry-run", action="store_true", help="only check and report the rows")
    s.add_argument("--json", action="store_true", help="print the report as JSON")
    s.set_defaults(func=cmd_import_members)

    s = sub.add_parser("numbering", help="check or build numbers: MSISDN, IMSI, IMEI, SMS centre, V-net, PBX")
    nsub = s.add_subparsers(dest="what", required=True)
    c = nsub.add_parser("msisdn", help="mobile number: format, country code, operator by segment")
    c.add_argument("value")
    c.add_argument("--rules", choices=["current", "source"], default="current", help="today's segments or the 13x rule")
    c = nsub.add_parser("imsi", help="IMSI: 15 digits, MCC 460, MNC")
    c.add_argument("value")
    c = nsub.add_parser("imei", help="IMEI: TAC/FAC/SNR/SP and the Luhn check digit")
    c.add_argument("value")
    c = nsub.add_parser("smsc", help="SMS-centre number of an area code (1380 + code + 500)")
    c.add_argument("value", help="area code, e.g. 027 or 0351")
    c = nsub.add_parser("vnet-short", help="V-net short number (6 + 2-5 digits, second digit not 0)")
    c.add_argument("value")
    c.add_argument("--phone", default="", help="the member's phone (its last four digits may be the short number)")
    c = nsub.add_parser("pbx-virtual", help="build (AREA PBX [EXT]) or parse (NUMBER) a PBX virtual caller number")
    c.add_argument("parts", nargs="+")
    c.add_argument("--pbx-digits", type=int, default=None, help="length of the PBX number when parsing (default 3)")
    for c in nsub.choices.values():
        c.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_numbering)

    s = sub.add_parser("bill-run", help="run the monthly group bill for ECs (idempotent; resumes after a kill)")
    s.add_argument("--month", required=True, help="YYYY-MM")
    s.add_argument("--ec", action="append", help="EC code; repeat for several (default: every EC)")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_bill_run)

    b = bench.add_parser("billrun", help="monthly bill run: vectorised engine vs a per-record Python baseline")
    b.add_argument("--members", type=int, default=1_000_000)
    b.add_argument("--baseline-members", type=int, default=None, help="measure the baseline on a subset (scaled)")
    b.add_argument("--json", action="store_true")
    b.set_defaults(func=cmd_bench_billrun)


def _print(out: dict, as_json: bool) -> None:
    if as_json:
        print(json.dumps(out, ensure_ascii=False, default=str))
    else:
        for k, v in out.items():
            print(f"{k}: {v}")


def cmd_numbering(args: argparse.Namespace) -> int:
    from .engine import numbering as n

    if args.what == "msisdn":
        res = n.check_msisdn(args.value, ruleset=args.rules)
    elif args.what == "imsi":
        res = n.check_imsi(args.value)
    elif args.what == "imei":
        res = n.check_imei(args.value)
    elif args.what == "smsc":
        res = n.smsc_number(args.value)
    elif args.what == "vnet-short":
        res = n.check_short_number(args.value, args.phone)
    else:
        if len(args.parts) == 1:
            res = n.parse_pbx_virtual(args.parts[0], args.pbx_digits)
        elif len(args.parts) in (2, 3):
            res = n.pbx_virtual_number(*args.parts)
        else:
            print("用法 / usage: pbx-virtual NUMBER | AREA PBX [EXTENSION]", file=sys.stderr)
            return 2
    _print(res.as_dict(), args.json)
    return 0 if res.ok else 1


def cmd_import_members(args: argparse.Namespace) -> int:
    from kejing.cli import _django

    _django()
    from kejing.customers.models import Customer

    from .importer import import_members

    ec = Customer.objects.filter(industry="telecom").filter(ec_code=args.ec).first()
    ec = ec or Customer.objects.filter(industry="telecom", code=args.ec).first()
    if ec is None:
        print(f"错误 / error: 没有集团客户 {args.ec} / no EC {args.ec}", file=sys.stderr)
        return 2
    from kejing.cli import read_input_table

    table = read_input_table(args.file)
    if table is None:
        return 2
    started = time.perf_counter()
    report = import_members(ec, table, dry_run=args.dry_run)
    out = report.as_dict()
    out["ec"] = {"code": ec.ec_code, "name": ec.name}
    out["seconds"] = round(time.perf_counter() - started, 2)
    if args.json:
        print(json.dumps(out, ensure_ascii=False))
    else:
        state = "试运行 dry run" if report.dry_run else "已导入 imported"
        print(
            f"{state} {ec.name}: {report.rows} 行 rows, 新成员 new {report.created}, 已是成员 existing "
            f"{report.existing}, 加入集团用户 joined {report.joined} ({out['seconds']} s)"
        )
        for e in report.errors:
            print(f"  第 {e.row} 行 row {e.row} [{e.field}] {e.message}")
        if report.errors:
            print(f"{len(report.errors)} 处错误,未写入任何数据 / {len(report.errors)} errors, nothing written")
    return 0 if report.ok else 1


def cmd_bill_run(args: argparse.Namespace) -> int:
    from kejing.cli import _django

    _django()
    from kejing.customers.models import Customer

    from .billrun import run_month
    from .services import GroupError

    qs = Customer.objects.filter(industry="telecom", group_users__isnull=False).distinct().order_by("pk")
    if args.ec:
        qs = qs.filter(ec_code__in=args.ec)

    def progress(done: int, total: int) -> None:
        print(f"\r{done}/{total}", end="", file=sys.stderr, flush=True)

    try:
        runs = run_month(list(qs), args.month, progress=progress)
    except GroupError as exc:
        print(f"\n错误 / error: {exc}", file=sys.stderr)
        return 1
    print("", file=sys.stderr)
    out = {"month": args.month, "bills": [{"ec": r.ec.ec_code, "total": r.totals["total"]} for r in runs]}
    _print(out, args.json)
    return 0


def cmd_bench_billrun(args: argparse.Namespace) -> int:
    from .engine.baseline import baseline_bill
    from .engine.billing import run_bill
    from .engine.generate import generate_month

    x = generate_month(args.members)
    started = time.perf_counter()
    res = run_bill(x)
    seconds = time.perf_counter() - started
    out = {"members": args.members, "usage_records": int(len(x.usage_qty))}
    sub = args.baseline_members
    if sub and sub < args.members:
        xs = generate_month(sub)
        t = time.perf_counter()
        base = baseline_bill(xs)
        base_seconds = (time.perf_counter() - t) * args.members / sub
        check = run_bill(xs)
        note = f"baseline measured on {sub} members and scaled linearly to {args.members}"
    else:
        t = time.perf_counter()
        base = baseline_bill(x)
        base_seconds = time.perf_counter() - t
        check = res
        note = "baseline measured on the same month"
    same = base["accounts"] == check.account_totals() and base["members"] == {
        k: v for k, v in check.member_remainders().items() if v
    }
    if not same:
        print("baseline and engine disagree", file=sys.stderr)
        return 1
    totals = res.totals()
    out.update(
        {
            "seconds": round(seconds, 3),
            "baseline_seconds": round(base_seconds, 3),
            "speedup": round(base_seconds / seconds, 2),
            "same_totals": same,
            "baseline_note": note,
            "total_yuan": f"{totals['charged'] / 100:.2f}",
            "paid_by_group_yuan": f"{totals['group'] / 100:.2f}",
            "left_to_members_yuan": f"{totals['members'] / 100:.2f}",
            "chunks": res.chunks,
        }
    )
    _print(out, args.json)
    return 0
