"""``kejing grade`` and ``kejing pay``: the grading and pay engines run over CSV or Excel files, without Django.

Why a command line: the evaluation committee and the pay clerk can check a round or a month from their own
files before (or without) loading them into the web app, and the tests can run the whole path from file to
JSON. The main ``kejing`` parser adds these commands with :func:`register`; ``python -m kejing.appraisal.cli`` runs
them on their own. Exit status: 0 done, 1 bad input (every bad cell is listed with its row and column),
2 bad policy or usage. Columns are documented in docs/appraisal.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from decimal import Decimal
from typing import Any, TextIO

from .engine.common import AppraisalError, fmt, parse_date, parse_month
from .engine.grading import COMPLETE, INCOMPLETE, INELIGIBLE, grade_cm
from .engine.pay import LINE_CODES, pay_run
from .engine.policy import READINGS, CorpsPolicy
from .engine.tables import InputError, RowError, read_exams, read_reviews, read_staff

EXIT_OK, EXIT_INPUT, EXIT_POLICY = 0, 1, 2


class _Failure(Exception):
    def __init__(self, code: int, message: str, errors: list[RowError] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.errors = errors or []


def register(subparsers: Any, bench: Any = None) -> None:
    """Add the ``grade`` and ``pay`` commands to an ``argparse`` subparsers object (``bench``: the subparsers
    of ``kejing bench``, unused here)."""
    s = subparsers.add_parser(
        "grade",
        help="score CMs for a grading round and propose level and tier (三级九档)",
        description="Score each CM of the staff file (basic conditions, exam, reviews) and propose a grade.",
    )
    _common(s)
    s.add_argument("--staff", required=True, help="staff file (.csv or .xlsx), one row per CM")
    s.add_argument("--reviews", required=True, help="review forms, one row per form")
    s.add_argument("--exams", help="exam marks, one row per CM (without it no total is proposed)")
    s.add_argument("--date", help="date of the round, YYYY-MM-DD (default: today)")
    s.set_defaults(func=cmd_grade)

    s = subparsers.add_parser(
        "pay",
        help="monthly pay of each CM: post + floating + seniority + performance",
        description="Compute one month's pay for each CM of the staff file, with an explanation per line.",
    )
    _common(s)
    s.add_argument("--staff", required=True, help="staff file (.csv or .xlsx); one row per grade held")
    s.add_argument("--month", required=True, help="pay month, YYYY-MM")
    s.add_argument(
        "--seniority",
        choices=READINGS,
        help="reading of the seniority bands (default: the policy's, 'marginal' for tobacco)",
    )
    s.set_defaults(func=cmd_pay)


def _common(s: argparse.ArgumentParser) -> None:
    s.add_argument(
        "--policy",
        default="tobacco",
        help="industry (tobacco, telecom, bank) or path of a corps .toml file (default tobacco)",
    )
    s.add_argument("--lang", choices=("zh", "en"), default="zh", help="language of the explanations (default zh)")
    s.add_argument("--json", action="store_true", help="print one JSON object")


def _policy(name: str) -> CorpsPolicy:
    try:
        return CorpsPolicy.load(name)
    except ValueError as exc:  # CorpsPolicyError, or PolicyError for an unknown industry or a missing file
        raise _Failure(EXIT_POLICY, f"策略文件有误 / policy error: {exc}") from exc


def _table(path: str) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    # Imported here so that registering the commands in the main ``kejing`` parser does not load openpyxl.
    from kejing.core.tabular import TableError, read_table

    try:
        table = read_table(path)
    except (TableError, OSError) as exc:
        raise _Failure(EXIT_INPUT, f"无法读取 / cannot read {path}: {exc}") from exc
    return table.header, table.rows


def _parse(fn: Any, *args: Any) -> Any:
    try:
        return fn(*args)
    except InputError as exc:
        raise _Failure(EXIT_INPUT, "输入有误 / bad input", exc.errors) from exc
    except AppraisalError as exc:
        raise _Failure(EXIT_INPUT, f"输入有误 / bad input: {exc}") from exc


def _policy_info(policy: CorpsPolicy) -> dict[str, str]:
    return {
        "source": policy.source,
        "version": policy.version,
        "effective_from": policy.effective_from.isoformat(),
        "title": policy.title,
    }


def run_grade(args: argparse.Namespace) -> dict[str, Any]:
    """The ``grade`` command's result as a JSON-ready dict; raises ``_Failure`` on bad input."""
    policy = _policy(args.policy)
    try:
        on = parse_date(args.date) if args.date else dt.date.today()
    except AppraisalError as exc:
        raise _Failure(EXIT_INPUT, f"--date: {exc}") from exc
    staff = _parse(read_staff, policy, *_table(args.staff), "grade", args.staff)
    ids = {s.staff_id for s in staff}
    reviews = _parse(read_reviews, policy, *_table(args.reviews), ids, args.reviews)
    exams = _parse(read_exams, policy, *_table(args.exams), ids, args.exams) if args.exams else {}
    results = []
    for s in staff:
        try:
            result = grade_cm(policy, s, reviews.get(s.staff_id, []), exams.get(s.staff_id), on)
        except AppraisalError as exc:
            raise _Failure(EXIT_INPUT, f"{s.staff_id}: {exc}") from exc
        results.append(result.as_dict(policy, args.lang))
    summary = {k: sum(1 for r in results if r["status"] == k) for k in (COMPLETE, INCOMPLETE, INELIGIBLE)}
    return {"policy": _policy_info(policy), "as_of": on.isoformat(), "summary": summary, "results": results}


def run_pay(args: argparse.Namespace) -> dict[str, Any]:
    """The ``pay`` command's result as a JSON-ready dict; raises ``_Failure`` on bad input."""
    policy = _policy(args.policy)
    try:
        month = parse_month(args.month)
    except AppraisalError as exc:
        raise _Failure(EXIT_INPUT, f"--month: {exc}") from exc
    staff = _parse(read_staff, policy, *_table(args.staff), "pay", args.staff)
    reading = args.seniority or policy.pay.seniority.reading
    slips = pay_run(policy, staff, month, reading)
    total = sum((s.total for s in slips), Decimal("0.00"))
    by_line = {code: fmt(sum((s.amount(code) for s in slips), Decimal("0.00"))) for code in LINE_CODES}
    return {
        "policy": _policy_info(policy),
        "month": month.strftime("%Y-%m"),
        "seniority_reading": reading,
        "payslips": [s.as_dict(policy, args.lang) for s in slips],
        "totals": by_line,
        "total": fmt(total),
    }


def _fail(exc: _Failure, as_json: bool, out: TextIO, err: TextIO) -> int:
    print(f"错误 / error: {exc}", file=err)
    for e in exc.errors:
        print(f"  {e.text()}", file=err)
    if as_json:
        print(
            json.dumps({"error": str(exc), "errors": [e.as_dict() for e in exc.errors]}, ensure_ascii=False), file=out
        )
    return exc.code


def cmd_grade(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    try:
        data = run_grade(args)
    except _Failure as exc:
        return _fail(exc, args.json, out, err)
    if args.json:
        print(json.dumps(data, ensure_ascii=False), file=out)
        return EXIT_OK
    zh = args.lang == "zh"
    print(
        f"{data['policy']['title']} {data['policy']['version']} — {'评定日' if zh else 'round date'} {data['as_of']}",
        file=out,
    )
    head = (
        ("工号", "姓名", "状态", "基本条件", "专业考试", "综合评议", "总分", "建议级别")
        if zh
        else ("staff", "name", "status", "basic", "exam", "review", "total", "proposed")
    )
    print("  ".join(f"{h:<10}" for h in head), file=out)
    for r in data["results"]:
        cells = (
            r["staff_id"],
            r["name"],
            r["status"],
            r["basic"]["value"],
            (r["exam"] or {}).get("value", "-"),
            (r["review"] or {}).get("value", "-"),
            (r["total"] or {}).get("value", "-"),
            (r["proposed"] or {}).get("label") or "-",
        )
        print("  ".join(f"{str(c):<10}" for c in cells), file=out)
        for note in r["problems"] + r["warnings"]:
            print(f"    ! {note}", file=out)
    print(json.dumps(data["summary"]), file=out)
    return EXIT_OK


def cmd_pay(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    try:
        data = run_pay(args)
    except _Failure as exc:
        return _fail(exc, args.json, out, err)
    if args.json:
        print(json.dumps(data, ensure_ascii=False), file=out)
        return EXIT_OK
    zh = args.lang == "zh"
    print(
        f"{data['policy']['title']} {data['policy']['version']} — {'月份' if zh else 'month'} {data['month']}", file=out
    )
    head = (
        ("工号", "姓名", "级别", "岗位", "浮动", "年功", "效益", "合计")
        if zh
        else ("staff", "name", "grade", "post", "floating", "seniority", "performance", "total")
    )
    print("  ".join(f"{h:<10}" for h in head), file=out)
    for s in data["payslips"]:
        amounts = {ln["code"]: ln["amount"] for ln in s["lines"]}
        cells = (
            s["staff_id"],
            s["name"],
            s["grade"]["label"],
            *(amounts.get(c, "0.00") for c in LINE_CODES),
            s["total"],
        )
        print("  ".join(f"{str(c):<10}" for c in cells), file=out)
        for note in s["notes"]:
            print(f"    ! {note}", file=out)
    print(f"{'合计' if zh else 'total'}: {data['total']}", file=out)
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    """A stand-alone parser with just these two commands (for ``python -m kejing.appraisal.cli``)."""
    parser = argparse.ArgumentParser(prog="kejing", description="Kejing grading and pay (no database needed)")
    register(parser.add_subparsers(dest="command", required=True))
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
