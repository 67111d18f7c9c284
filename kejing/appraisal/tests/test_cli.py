"""The ``grade`` and ``pay`` commands, from files to JSON, and their errors for bad rows.

The sample files in ``data/`` are the hand-worked examples of docs/appraisal.md:
S001 formal rural bachelor (economics), CM since 2018-03-01, intermediate b from 2025-01, senior c from 2026-07;
S002 contract urban, CM since 2025-09-01, not graded; S003 contract urban, CM since 2014-01-15, junior a;
S004 contract rural (written with Chinese values), CM since 2009-05-20, intermediate a.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import Workbook

from kejing.appraisal import cli

from .helpers import DATA

STAFF, REVIEWS, EXAMS = (str(DATA / n) for n in ("staff.csv", "reviews.csv", "exams.csv"))
STAFF_HEADER = (
    "staff_id,name,staff_type,area,cm_start,prior_cm_years,prior_other_years,education,major,econ_cert,"
    "marketer_cert,level,tier,grade_from"
)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def grade_json(capsys, *extra: str) -> dict:
    code, out, err = run(
        capsys,
        "grade",
        "--staff",
        STAFF,
        "--reviews",
        REVIEWS,
        "--exams",
        EXAMS,
        "--date",
        "2026-06-30",
        "--json",
        *extra,
    )
    assert code == 0, err
    return json.loads(out)


def test_grade_command(capsys):
    data = grade_json(capsys)
    assert data["policy"]["source"] == "tobacco/corps.toml" and data["as_of"] == "2026-06-30"
    assert data["summary"] == {"complete": 1, "incomplete": 2, "ineligible": 1}
    s001, s002, s003, s004 = data["results"]
    # S001: 15 + 10 = 25.00; 88 × 40% = 35.20; 5.10 + 3.40 + 8.80 + 8.88 = 26.18; total 86.38 → senior c.
    # (Its first leader form is given item by item: 9×5 + 18 + 4 + 9 + 9 + 5 = 90.)
    assert [s001[k]["value"] for k in ("basic", "exam", "review", "total")] == ["25.00", "35.20", "26.18", "86.38"]
    assert (s001["proposed"]["level"], s001["proposed"]["tier"], s001["proposed"]["label"]) == (
        "senior",
        "c",
        "高级c档",
    )
    assert s001["warnings"] and s001["status"] == "complete"
    # S002: one year as CM only on 2026-09-01.
    assert s002["status"] == "ineligible" and s002["eligible_from"] == "2026-09-01" and s002["proposed"] is None
    # S003: college (non-matching 12) but an intermediate economics certificate = matching college 13;
    # 12 full years + 2 other years = 14 → 3 + 13 = 16, capped 15; basic 28.00; exam 75 × 40% = 30.00;
    # only 7 customer reviews → the customer group cannot close.
    assert s003["basic"]["value"] == "28.00" and s003["exam"]["value"] == "30.00"
    assert s003["status"] == "incomplete" and s003["review"] is None and s003["total"] is None
    assert s003["problems"] == ["客户评议只有 7 份,至少需要 10 份,该组不能结束"]
    # S004: high school 10 + 17 years (capped 15) = 25.00; no exam, no reviews.
    assert s004["basic"]["value"] == "25.00" and s004["status"] == "incomplete"


def test_grade_without_exams_and_in_english(capsys):
    code, out, _ = run(
        capsys, "grade", "--staff", STAFF, "--reviews", REVIEWS, "--date", "2026-06-30", "--json", "--lang", "en"
    )
    data = json.loads(out)
    s001 = data["results"][0]
    assert s001["status"] == "incomplete" and s001["problems"] == ["no professional exam mark yet"]
    assert s001["review"]["value"] == "26.18"


def test_pay_command(capsys):
    code, out, err = run(capsys, "pay", "--staff", STAFF, "--month", "2026-03", "--json")
    assert code == 0, err
    data = json.loads(out)
    totals = {s["staff_id"]: s["total"] for s in data["payslips"]}
    # S001 650 + 100 + 0 + 800 × 1.35 = 1830.00   S002 550 + 50 + 0 + 300 × 1.10 = 930.00
    # S003 550 + 50 + 52 + 300 × 1.20 = 1012.00   S004 550 + 100 + 78 (16 yrs: 40 + 30 + 8) + 400 × 1.35 = 1268.00
    assert totals == {"S001": "1830.00", "S002": "930.00", "S003": "1012.00", "S004": "1268.00"}
    assert data["total"] == "5040.00" and data["seniority_reading"] == "marginal"
    assert data["totals"] == {"post": "2300.00", "floating": "300.00", "seniority": "130.00", "performance": "2310.00"}


def test_pay_command_flat_reading_and_a_later_grade(capsys):
    code, out, _ = run(capsys, "pay", "--staff", STAFF, "--month", "2026-03", "--seniority", "flat", "--json")
    data = json.loads(out)
    # flat: S003 12 × 6 = 72 → 1032.00; S004 16 × 8 = 128 → 1318.00
    assert [s["total"] for s in data["payslips"]] == ["1830.00", "930.00", "1032.00", "1318.00"]
    assert data["total"] == "5110.00"
    code, out, _ = run(capsys, "pay", "--staff", STAFF, "--month", "2026-07", "--json")
    s001 = json.loads(out)["payslips"][0]
    # senior c from 2026-07, rural → senior b: 650 + 200 + 800 × 1.45 (1160) = 2010.00
    assert (s001["grade"]["level"], s001["paid_tier"], s001["total"]) == ("senior", "b", "2010.00")


def test_text_output(capsys):
    code, out, _ = run(capsys, "pay", "--staff", STAFF, "--month", "2026-03")
    assert code == 0 and "合计: 5040.00" in out and "S004" in out
    code, out, _ = run(
        capsys,
        "grade",
        "--staff",
        STAFF,
        "--reviews",
        REVIEWS,
        "--exams",
        EXAMS,
        "--date",
        "2026-06-30",
        "--lang",
        "en",
    )
    assert code == 0 and "86.38" in out and "Senior c" in out


def test_register_adds_both_commands_to_another_parser(capsys):
    parser = argparse.ArgumentParser(prog="kejing")
    sub = parser.add_subparsers(dest="command", required=True)
    cli.register(sub)
    args = parser.parse_args(["pay", "--policy", "tobacco", "--staff", STAFF, "--month", "2026-03", "--json"])
    assert args.func(args) == 0
    assert json.loads(capsys.readouterr().out)["total"] == "5040.00"


def test_runs_as_a_module_without_django():
    code = (
        "import sys, json; from kejing.appraisal.cli import main; rc = main(sys.argv[1:]); "
        "assert 'django' not in sys.modules, 'django was imported'; sys.exit(rc)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, "pay", "--staff", STAFF, "--month", "2026-03", "--json"],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[3],
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["total"] == "5040.00"


def test_chinese_headers_gbk_and_excel(tmp_path, capsys):
    text = "工号,姓名,用工类型,区域,任职日期,级别,档次,定级生效月\nC1,周杰,正式工,城市,2020/01/01,高级,b,2025-01\n"
    path = tmp_path / "staff_gbk.csv"
    path.write_bytes(text.encode("gbk"))
    code, out, err = run(capsys, "pay", "--staff", str(path), "--month", "2026-03", "--json")
    assert code == 0, err
    # 650 + 200 + 800 × 1.45 (1160) = 2010.00
    assert json.loads(out)["payslips"][0]["total"] == "2010.00"
    wb = Workbook()
    ws = wb.active
    ws.append(["staff_id", "name", "staff_type", "area", "cm_start", "level", "tier", "grade_from"])
    ws.append(["X1", "吴", "contract", "rural", "2020-01-01", "junior", "c", "2025-01"])
    xlsx = tmp_path / "staff.xlsx"
    wb.save(xlsx)
    code, out, err = run(capsys, "pay", "--staff", str(xlsx), "--month", "2026-03", "--json")
    assert code == 0, err
    slip = json.loads(out)["payslips"][0]
    # 2020-01-01 → 2026-03-31: 6 full years → 6 × 4 = 24; rural junior c → b: 300 × 1.15 = 345;
    # 550 + 50 + 24 + 345 = 969.00
    assert slip["total"] == "969.00"


# -- bad input ----------------------------------------------------------------------------------------------------


def write(tmp_path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_bad_staff_rows_name_row_and_column(tmp_path, capsys):
    staff = write(
        tmp_path,
        "staff.csv",
        STAFF_HEADER + "\n"
        "A1,甲,formal,urban,2020-01-01,0,0,college,,,,junior,c,2025-01\n"
        "A2,乙,formal,city,2020-13-01,0,0,college,,,,junior,c,2025-01\n"
        "A3,丙,temp,urban,2020-01-01,x,0,college,,,,junior,,2025-01\n",
    )
    code, out, err = run(capsys, "pay", "--staff", staff, "--month", "2026-03", "--json")
    assert code == 1
    errors = json.loads(out)["errors"]
    assert [(e["row"], e["column"]) for e in errors] == [
        (3, "area"),
        (3, "cm_start"),
        (4, "staff_type"),
        (4, "prior_cm_years"),
        (4, "tier"),
    ]
    assert "第 3 行 row 3 [cm_start]" in err and "2020-13-01" in err


def test_inconsistent_rows_of_one_cm_and_missing_grade_month(tmp_path, capsys):
    staff = write(
        tmp_path,
        "staff.csv",
        STAFF_HEADER + "\n"
        "A1,甲,formal,urban,2020-01-01,0,0,college,,,,junior,c,2025-01\n"
        "A1,甲,formal,rural,2020-01-01,0,0,college,,,,junior,b,2026-01\n"
        "A2,乙,formal,urban,2020-01-01,0,0,college,,,,junior,b,\n"
        "A3,丙,formal,urban,2020-01-01,0,0,college,,,,junior,b,2025-01\n"
        "A3,丙,formal,urban,2020-01-01,0,0,college,,,,junior,a,2025-01\n",
    )
    code, out, _ = run(capsys, "pay", "--staff", staff, "--month", "2026-03", "--json")
    assert code == 1
    assert [(e["row"], e["column"]) for e in json.loads(out)["errors"]] == [
        (3, "area"),
        (4, "grade_from"),
        (6, "grade_from"),
    ]


def test_missing_required_column_is_reported_on_the_header_row(tmp_path, capsys):
    staff = write(tmp_path, "staff.csv", "staff_id,name,cm_start\nA1,甲,2020-01-01\n")
    code, out, err = run(capsys, "pay", "--staff", staff, "--month", "2026-03", "--json")
    assert code == 1
    assert [(e["row"], e["column"]) for e in json.loads(out)["errors"]] == [(1, "staff_type"), (1, "area")]


def test_bad_reviews_and_exams(tmp_path, capsys):
    reviews = write(
        tmp_path,
        "reviews.csv",
        "staff_id,group,reviewer,score\n"
        "S001,leader,L1,90\n"
        "S999,leader,L2,90\n"
        "S001,boss,L3,90\n"
        "S001,leader,L4,120\n"
        "S001,leader,L1,80\n"
        "S001,customer,C1,\n",
    )
    code, out, err = run(capsys, "grade", "--staff", STAFF, "--reviews", reviews, "--json")
    assert code == 1
    assert [(e["row"], e["column"]) for e in json.loads(out)["errors"]] == [
        (3, "staff_id"),
        (4, "group"),
        (5, "score"),
        (6, "reviewer"),
        (7, "score"),
    ]
    exams = write(tmp_path, "exams.csv", "工号,成绩\nS001,88\nS001,90\nS003,101\n")
    code, out, err = run(capsys, "grade", "--staff", STAFF, "--reviews", REVIEWS, "--exams", exams, "--json")
    assert code == 1
    assert [(e["row"], e["column"]) for e in json.loads(out)["errors"]] == [(3, "工号"), (4, "成绩")]


def test_item_marks_must_match_the_score(tmp_path, capsys):
    header = (
        "staff_id,group,score,conduct_rules,dedication,attitude,ethics,discipline,results,expression,"
        "communication,computer,mandarin\n"
    )
    reviews = write(
        tmp_path,
        "reviews.csv",
        header + "S001,leader,91,9,9,9,9,9,18,4,9,9,5\n"  # the items add up to 90
        "S001,leader,,9,9,9,9,9,18,5,9,9,5\n",
    )  # expression above its maximum of 4
    code, out, _ = run(capsys, "grade", "--staff", STAFF, "--reviews", reviews, "--json")
    assert code == 1
    assert [(e["row"], e["column"]) for e in json.loads(out)["errors"]] == [(2, "score"), (3, "expression")]


@pytest.mark.parametrize(
    "argv,code,message",
    [
        (["pay", "--staff", STAFF, "--month", "2026-13"], 1, "--month"),
        (["pay", "--staff", "/nonexistent/staff.csv", "--month", "2026-03"], 1, "cannot read"),
        (["pay", "--policy", "airline", "--staff", STAFF, "--month", "2026-03"], 2, "unknown industry"),
        (["grade", "--staff", STAFF, "--reviews", REVIEWS, "--date", "30/06/2026"], 1, "--date"),
    ],
)
def test_bad_arguments(capsys, argv, code, message):
    rc, out, err = run(capsys, *argv)
    assert rc == code and message in err


def test_other_industries_run(tmp_path, capsys):
    staff = write(
        tmp_path,
        "staff.csv",
        STAFF_HEADER + "\nA1,甲,contract,rural,2010-01-01,0,0,bachelor,finance,,,intermediate,b,2025-01\n",
    )
    # telecom (invented numbers): 1400 + 300 + seniority (16 years, marginal: 5×10 + 5×15 + 6×20 = 245)
    #   + 1600 × 1.25 (rural b → a) = 2000 → 3945.00
    # bank (invented numbers): 2200 + 600 + seniority (16 years, flat: 16 × 30 = 480)
    #   + 2600 × 1.25 (no rural bump in this bank) = 3250 → 6530.00
    for industry, total in (("telecom", "3945.00"), ("bank", "6530.00")):
        code, out, err = run(capsys, "pay", "--policy", industry, "--staff", staff, "--month", "2026-03", "--json")
        assert code == 0, err
        data = json.loads(out)
        assert data["policy"]["source"] == f"{industry}/corps.toml" and data["total"] == total
