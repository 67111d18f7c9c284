"""The ``kejing`` command line, run as a user runs it (subprocesses on a temporary SQLite file)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from kejing.cli import build_parser


def _kejing(*args, db, check=True):
    env = {**os.environ, "KEJING_DB": str(db), "KEJING_VAR": str(db.parent)}
    env.pop("DATABASE_URL", None)
    env.pop("DJANGO_SETTINGS_MODULE", None)  # the real settings, as a user gets them
    return subprocess.run(
        [sys.executable, "-m", "kejing.cli", *args], env=env, capture_output=True, text=True, check=check, timeout=300
    )


def test_every_command_has_help(capsys):
    parser = build_parser()
    commands = [
        ["setup"],
        ["demo"],
        ["serve"],
        ["worker"],
        ["import", "customers"],
        ["export", "customers"],
        ["bench", "demo"],
        ["import"],
        ["export"],
        ["bench"],
        [],
    ]
    for cmd in commands:
        with pytest.raises(SystemExit) as done:
            parser.parse_args([*cmd, "--help"])
        assert done.value.code == 0
        assert "usage: kejing" in capsys.readouterr().out


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    db = tmp_path_factory.mktemp("demo") / "demo.sqlite3"
    out = _kejing("demo", "--customers", "300", "--no-serve", "--json", "--password", "Demo-pass-1", db=db)
    return db, json.loads(out.stdout)


def test_demo_json_lists_every_role_and_industry(demo_db):
    db, info = demo_db
    assert info["password"] == "Demo-pass-1" and db.exists()
    roles = {u["role"] for u in info["users"]}
    assert roles == {"cm", "market_manager", "dept_head", "center", "monopoly", "committee", "trainer", "admin"}
    assert {u["industry"] for u in info["users"]} == {"tobacco", "telecom", "bank"}
    assert sum(1 for u in info["users"] if u["role"] == "cm" and u["industry"] == "tobacco") == 65
    assert info["counts"]["customers"] == 300 + 12 + 8  # retail + telecom + bank at this size


def test_demo_logins_work_without_password_change(demo_db):
    db, info = demo_db
    code = (
        "import os; os.environ['DJANGO_SETTINGS_MODULE']='kejing.settings'\n"
        "import django; django.setup()\n"
        "from django.test import Client\n"
        "c = Client(); c.post('/accounts/login/', {'username': 'cm001', 'password': 'Demo-pass-1'})\n"
        "r = c.get('/customers/'); print(r.status_code, r.content.decode().count('/customers/') > 5)\n"
    )
    env = {**os.environ, "KEJING_DB": str(db)}
    env.pop("DATABASE_URL", None)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["200", "True"]


def test_demo_ledger_carries_the_balanced_quantities_of_past_rounds(demo_db):
    """What balancing pushes down in a live round is in the demo's past months too: the ledger's balanced
    quantity is the round's, and the shop recorded it."""
    import sqlite3

    db, _ = demo_db
    with sqlite3.connect(db) as con:
        rows = con.execute(
            """SELECT r.target, COUNT(*), SUM(l.allocated = f.balanced_qty), SUM(l.recorded_forecast = l.allocated)
            FROM forecasting_round r
            JOIN forecasting_forecastline f ON f.round_id = r.id
            JOIN forecasting_ledgerentry l
              ON l.customer_id = f.customer_id AND l.spec_id = f.spec_id AND l.month = r.target
            WHERE r.target < (SELECT MAX(target) FROM forecasting_round)
            GROUP BY r.target"""
        ).fetchall()
    assert len(rows) == 4  # the past rounds: the three complete months and this month
    for target, n, same, recorded in rows:
        assert n > 100 and same == n and recorded == n, (target, n, same, recorded)


def test_export_then_import_dry_run(demo_db, tmp_path):
    db, _ = demo_db
    xlsx = tmp_path / "all.xlsx"
    out = _kejing("export", "customers", str(xlsx), "--industry", "tobacco", db=db)
    assert "300" in out.stdout and xlsx.exists()
    out = _kejing("import", "customers", str(xlsx), "--dry-run", "--json", db=db)
    report = json.loads(out.stdout)
    assert report["ok"] and report["unchanged"] == 300 and report["created"] == 0


def test_import_bad_gbk_csv_reports_rows_and_exits_1(demo_db, tmp_path):
    db, _ = demo_db
    bad = tmp_path / "bad.csv"
    bad.write_bytes("客户编码,客户名称,区域单元编码,客户经理工号,联系电话\nX1,新店,T-YC-01,CM999,123\n".encode("gbk"))
    out = _kejing("import", "customers", str(bad), "--json", db=db, check=False)
    assert out.returncode == 1
    errors = json.loads(out.stdout)["errors"]
    assert {(e["row"], e["field"]) for e in errors} == {(2, "客户经理工号"), (2, "联系电话")}
    missing = _kejing("import", "customers", str(tmp_path / "nope.csv"), db=db, check=False)
    assert missing.returncode == 2 and "error" in missing.stderr


def _children(pid: int) -> list[int]:
    path = f"/proc/{pid}/task/{pid}/children"
    with open(path, encoding="ascii") as f:
        return [int(x) for x in f.read().split()]


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().split(")")[-1].split()[0] != "Z"  # a zombie has ended
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not os.path.exists("/proc/self/task"), reason="reads the process tree from Linux's /proc")
def test_serve_ends_its_worker_when_it_is_terminated(tmp_path):
    # `kejing serve` (and the demo) runs the background worker as a child process. A service manager or `kill`
    # sends SIGTERM to the server alone: the worker must end with it, not run on by itself on the database
    import signal
    import socket
    import time
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    db = tmp_path / "serve.sqlite3"
    env = {**os.environ, "KEJING_DB": str(db), "KEJING_VAR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "kejing.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    workers: list[int] = []
    try:
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, "kejing serve ended on its own"
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=2)
                break
            except OSError:
                assert time.monotonic() < deadline, "kejing serve did not answer in 120 s"
                time.sleep(0.5)
        workers = _children(server.pid)
        assert len(workers) == 1 and all(_alive(w) for w in workers)
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0
        deadline = time.monotonic() + 15
        while any(_alive(w) for w in workers) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not any(_alive(w) for w in workers), "the worker outlived the server"
    finally:
        if server.poll() is None:
            server.kill()
        for w in workers:
            if _alive(w):
                os.kill(w, signal.SIGKILL)
