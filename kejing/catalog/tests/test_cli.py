"""``kejing quote`` reads the policy files directly (no database); ``kejing catalog load`` syncs the rows."""

from __future__ import annotations

import json

from kejing.cli import main


def test_quote_json(capsys):
    code = main(["quote", "--product", "CWT", "--users", "10", "--usage", "positionings=200000", "--interval", "120",
                 "--start", "2026-02-12", "--json"])  # fmt: skip
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["cheapest"] == {"main": "CWT-B"} and out["monthly"] == "380.00"
    assert out["packages"][0]["eligible"] is False


def test_quote_bandwidth_zone_and_text(capsys):
    assert main(["quote", "--product", "无线宽带接入", "--bandwidth", "3", "--zone", "local_in",
                 "--start", "2026-02-12"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    # 2750.00 in-area; 22 working days from Thu 12 Feb 2026: 13, 14 (make-up Sat), 24–27 Feb, 28 (make-up Sat)
    # = 7, then 2–6, 9–13, 16–20 Mar = 15 more → Fri 20 Mar
    assert "2750.00" in out and "2026-03-20" in out


def test_quote_errors_name_the_field(capsys):
    assert main(["quote", "--product", "QXT", "--usage", "smss=3", "--json"]) == 2
    assert "smss" in json.loads(capsys.readouterr().out)["error"]
    assert main(["quote", "--product", "没有这个", "--json"]) == 2


def test_catalog_load(tel, capsys, monkeypatch):
    import kejing.cli

    monkeypatch.setattr(kejing.cli, "_migrate", lambda verbose=False: None)
    assert main(["catalog", "load", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["changed"] is False and out["products"] >= 30  # the fixture loaded it already
