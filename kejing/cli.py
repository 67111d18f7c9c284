"""The ``kejing`` command line: set-up, demo, serving, background worker, imports/exports and benchmarks.

Every command has ``--help``. Database selection: ``DATABASE_URL`` (PostgreSQL) if set, else the SQLite file in
``KEJING_DB`` (default ``var/kejing.sqlite3`` under the current directory).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from kejing import DEFAULT_DEMO_PASSWORD


def _django(db: str | None = None) -> None:
    if db:
        os.environ["KEJING_DB"] = db
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kejing.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)


def _db_path() -> Path | None:
    if os.environ.get("DATABASE_URL"):
        return None
    from django.conf import settings

    return Path(settings.DATABASES["default"]["NAME"])


def _migrate(verbose: bool = False) -> None:
    from django.core.management import call_command

    path = _db_path()
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    call_command("migrate", interactive=False, verbosity=1 if verbose else 0)
    from kejing.core.policies import load_policy_files

    load_policy_files()
    from kejing.catalog.services import sync_catalog

    sync_catalog()  # the product catalog also lives in tables (editable in the admin site)


def cmd_setup(args: argparse.Namespace) -> int:
    _django()
    _migrate(verbose=True)
    print("数据库已就绪 / database ready")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    _django()
    from django.core.management import call_command
    from django.db import connection

    path = _db_path()
    started = time.perf_counter()
    if path is not None:
        for suffix in ("", "-wal", "-shm"):
            p = Path(str(path) + suffix)
            if p.exists():
                p.unlink()
        connection.close()
    _migrate()
    if path is None:
        call_command("flush", interactive=False, verbosity=0)
        from kejing.core.policies import load_policy_files

        load_policy_files()
    from kejing import demo

    result = demo.build(customers=args.customers, password=args.password)
    seconds = time.perf_counter() - started
    url = f"http://127.0.0.1:{args.port}/"
    if args.json:
        print(
            json.dumps(
                {
                    "url": url,
                    "database": str(path or "DATABASE_URL"),
                    "password": result.password,
                    "seconds": round(seconds, 2),
                    "counts": result.counts,
                    "users": result.users,
                },
                ensure_ascii=False,
            )
        )
    else:
        _print_logins(result, url, path, seconds)
    if args.no_serve:
        return 0
    sys.stdout.flush()
    return _serve(args.port, "127.0.0.1", worker=True)


def _print_logins(result, url: str, path, seconds: float) -> None:
    from kejing.org.models import Role

    labels = dict(Role.choices)
    print(f"演示数据已生成 / demo data built in {seconds:.1f}s: {result.counts}")
    print(f"数据库 / database: {path or 'DATABASE_URL'}")
    print(f"所有演示账号的密码 / password of every demo login: {result.password}\n")
    shown: dict[tuple[str, str], list[str]] = {}
    for u in result.users:
        shown.setdefault((u["industry"], u["role"]), []).append(u["username"])
    print(f"{'行业 industry':<16}{'角色 role':<30}{'账号 logins'}")
    for (industry, role), names in shown.items():
        names_txt = ", ".join(names) if len(names) <= 3 else f"{names[0]}, {names[1]} … {names[-1]} ({len(names)})"
        print(f"{industry:<16}{str(labels[role]):<30}{names_txt}")
    print(f"\n打开 / open {url}  (Ctrl+C 停止 / to stop)")


def _stop_on_signal(signum: int, frame: object) -> None:
    """SIGTERM/SIGHUP handler of :func:`_serve`: leave the server the way Ctrl+C does."""
    raise KeyboardInterrupt


def _serve(port: int, host: str, worker: bool) -> int:
    """Serve with waitress and, with ``worker``, a background worker in a child process that ends with us.

    Why the signal handlers: Ctrl+C reaches the whole process group, but a service manager, ``kill`` or a closed
    terminal sends SIGTERM/SIGHUP to this process alone, whose default action ends it at once, without the
    ``finally`` below. The worker was then left running on its own, on a database that the next ``kejing demo``
    deletes and rebuilds under it (it failed there on a half-migrated table).
    """
    from waitress import serve

    from kejing.wsgi import application

    previous = {}
    for name in ("SIGTERM", "SIGHUP"):  # SIGHUP does not exist on Windows
        if hasattr(signal, name):
            previous[name] = signal.signal(getattr(signal, name), _stop_on_signal)
    child = None
    try:
        if worker:
            child = subprocess.Popen([sys.executable, "-m", "kejing.cli", "worker"], env=os.environ.copy())
        serve(application, host=host, port=port, threads=8, ident="kejing")
    except KeyboardInterrupt:
        pass
    finally:
        if child is not None:
            child.send_signal(signal.SIGTERM)
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:  # a task that does not stop in time is cut short
                child.kill()
                child.wait()
        for name, handler in previous.items():
            signal.signal(getattr(signal, name), handler)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    _django()
    _migrate()
    print(f"Kejing on http://{args.host}:{args.port}/")
    return _serve(args.port, args.host, worker=not args.no_worker)


def cmd_worker(args: argparse.Namespace) -> int:
    _django()
    from django.core.management import call_command

    from kejing.forecasting.schedule import start_ticker

    if not args.no_calendar:
        start_ticker()  # opens the month's round and the week's tasks on time (policy [cycle].auto_open_minutes)
    call_command("db_worker", interval=args.interval, verbosity=1)
    return 0


def _print_report(report, as_json: bool) -> None:
    if as_json:
        print(json.dumps(report.as_dict(), ensure_ascii=False))
        return
    state = "试运行 dry run" if report.dry_run else "已导入 imported"
    print(
        f"{state}: {report.rows} 行 rows, 新增 created {report.created}, 更新 updated {report.updated}, "
        f"无变化 unchanged {report.unchanged}"
    )
    for e in report.errors:
        print(f"  第 {e.row} 行 row {e.row} [{e.field}] {e.message}")
    if report.errors:
        print(f"{len(report.errors)} 处错误,未写入任何数据 / {len(report.errors)} errors, nothing written")


def read_input_table(path: str):
    """The table in ``path`` for an import command, or ``None`` after printing why it cannot be read."""
    from kejing.core.tabular import TableError, read_table

    try:
        return read_table(path)
    except (TableError, OSError) as exc:
        print(f"错误 / error: {exc}", file=sys.stderr)
        return None


def cmd_import(args: argparse.Namespace) -> int:
    _django()
    from kejing.customers.importer import import_customers

    table = read_input_table(args.file)
    if table is None:
        return 2
    report = import_customers(table, dry_run=args.dry_run)
    _print_report(report, args.json)
    return 0 if report.ok else 1


def cmd_export(args: argparse.Namespace) -> int:
    _django()
    from kejing.customers.exports import export_customers
    from kejing.customers.models import Customer

    qs = Customer.objects.select_related("unit", "cm").order_by("code")
    if args.industry:
        qs = qs.filter(industry=args.industry)
    if args.unit:
        qs = qs.filter(unit__path__contains=f"/{args.unit}/")
    data, count = export_customers(qs, fmt="csv" if args.file.lower().endswith(".csv") else "xlsx")
    Path(args.file).write_bytes(data)
    print(f"已导出 {count} 个客户 / exported {count} customers to {args.file}")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from kejing.bench import bench_demo

    out = bench_demo(args.customers)
    print(json.dumps(out, ensure_ascii=False) if args.json else "\n".join(f"{k}: {v}" for k, v in out.items()))
    return 0


def cmd_review_types(args: argparse.Namespace) -> int:
    _django()
    import datetime as dt

    from django.utils import timezone

    from kejing.service.services import open_type_review, quarter_end

    end = dt.date.fromisoformat(args.quarter_end) if args.quarter_end else quarter_end(timezone.localdate())
    made = open_type_review(end)
    print(f"已为 {made} 名客户经理创建 {end} 季度客户类型复核任务 / review tasks created for {made} CMs")
    return 0


def cmd_manage(args: argparse.Namespace) -> int:
    _django()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["kejing manage", *args.rest])
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="kejing", description="Kejing (客经) — 客户经理工作平台 / customer-manager platform"
    )
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("setup", help="create or migrate the database and load policy files")
    s.set_defaults(func=cmd_setup)

    s = sub.add_parser("demo", help="build the demo database, print the logins, then serve it")
    s.add_argument("--customers", type=int, default=10_000, help="number of tobacco retail customers (default 10000)")
    s.add_argument(
        "--password",
        default=DEFAULT_DEMO_PASSWORD,
        help=f"password of every demo login (default {DEFAULT_DEMO_PASSWORD})",
    )
    s.add_argument("--no-serve", action="store_true", help="build and print, do not start the server")
    s.add_argument("--json", action="store_true", help="print one JSON object with users, roles and password")
    s.add_argument("--port", type=int, default=8000, help="port to serve on (default 8000)")
    s.set_defaults(func=cmd_demo)

    s = sub.add_parser("serve", help="serve Kejing with waitress (and a background worker)")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--no-worker", action="store_true", help="do not start the background worker")
    s.set_defaults(func=cmd_serve)

    s = sub.add_parser("worker", help="run background tasks (imports and other long jobs)")
    s.add_argument("--interval", type=float, default=1.0, help="seconds between polls for new tasks")
    s.add_argument(
        "--no-calendar",
        action="store_true",
        help="do not open rounds and weeks (give it to every worker but one when several run)",
    )
    s.set_defaults(func=cmd_worker)

    s = sub.add_parser("import", help="import data from .xlsx or .csv (UTF-8 or GBK)")
    isub = s.add_subparsers(dest="what", required=True)
    c = isub.add_parser("customers", help="import customers; nothing is written unless every row is valid")
    c.add_argument("file", help="path of the .xlsx or .csv file")
    c.add_argument("--dry-run", action="store_true", help="only check and report the rows")
    c.add_argument("--json", action="store_true", help="print the report as JSON")
    c.set_defaults(func=cmd_import)
    from kejing.groupbiz.cli import cmd_import_members

    c = isub.add_parser(
        "members", help="import members of a group customer (EC); nothing is written unless every row is valid"
    )
    c.add_argument("file", help="path of the .xlsx or .csv file")
    c.add_argument("--ec", required=True, help="the EC's customer code or EC code")
    c.add_argument("--dry-run", action="store_true", help="only check and report the rows")
    c.add_argument("--json", action="store_true", help="print the report as JSON")
    c.set_defaults(func=cmd_import_members)

    s = sub.add_parser("export", help="export data to .xlsx (or .csv)")
    esub = s.add_subparsers(dest="what", required=True)
    c = esub.add_parser("customers", help="export customers in the import format")
    c.add_argument("file", help="output path, .xlsx or .csv")
    c.add_argument("--industry", choices=["tobacco", "telecom", "bank"])
    c.add_argument("--unit", help="only customers under this org-unit code")
    c.set_defaults(func=cmd_export)

    s = sub.add_parser("bench", help="benchmarks (our code and its baseline in the same run)")
    bsub = s.add_subparsers(dest="what", required=True)
    bench_sub = bsub
    c = bsub.add_parser("demo", help="demo build time vs. a row-by-row baseline")
    c.add_argument("--customers", type=int, default=10_000)
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=cmd_bench)

    s = sub.add_parser("review-types", help="give every CM this quarter's customer-type review task")
    s.add_argument("--quarter-end", help="last day of the quarter, YYYY-MM-DD (default: the current quarter)")
    s.set_defaults(func=cmd_review_types)

    s = sub.add_parser("manage", help="run a Django management command (e.g. createsuperuser)")
    s.add_argument("rest", nargs=argparse.REMAINDER)
    s.set_defaults(func=cmd_manage)

    from importlib import import_module

    # Each module adds its own commands (grade, pay, quote, numbering, forecast, allocate, territory, …).
    for name in ("appraisal", "catalog", "groupbiz", "forecasting", "territories"):
        import_module(f"kejing.{name}.cli").register(sub, bench_sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
