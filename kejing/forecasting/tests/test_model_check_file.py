"""The model check on an uploaded sales file: page, job, API and Excel; the same reading and figures as
``kejing forecast backtest``; managers only; the file is read once and deleted; bad files are named."""

from __future__ import annotations

import io
import json

import openpyxl
import pandas as pd
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from kejing.cli import main
from kejing.core.models import AuditLog, Job
from kejing.forecasting import services
from kejing.forecasting.engine import backtest

from . import cycle_fixtures

on = cycle_fixtures.on
media = cycle_fixtures.media
centre = cycle_fixtures.centre

MONTHS = pd.date_range("2023-01-01", periods=36, freq="MS")


def _series(k: int) -> list[int]:
    """Series k: 100 k + t, plus 10 in January (t = 0 .. 35 from January 2023). Last year's same month is always
    off by exactly 12 (the year's trend), in and out of sample: the seasonal naive's MASE is 12 / 12 = 1."""
    return [100 * k + t + (10 if m.month == 1 else 0) for t, m in enumerate(MONTHS)]


def _long(n: int = 3) -> pd.DataFrame:
    return pd.concat(
        pd.DataFrame({"unique_id": f"S{k}", "ds": MONTHS.strftime("%Y-%m"), "y": _series(k)}) for k in range(1, n + 1)
    )


def _upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)


def _check(client, name: str, data: bytes, follow: bool = False, **form):
    fields = {"source": "file", "horizon": "3", "folds": "2", "auto_ets": "1", **form, "file": _upload(name, data)}
    return client.post("/forecasting/model/check/", fields, follow=follow)


def test_a_chinese_gbk_file_is_scored_as_the_engine_scores_it(centre, login, media):
    client = login(centre.center)
    frame = _long().rename(columns={"unique_id": "规格", "ds": "月份", "y": "销量"})
    data = frame.to_csv(index=False).encode("gbk")
    before = AuditLog.objects.count()
    resp = _check(client, "历史销量.csv", data)
    assert resp.status_code == 302
    job = Job.objects.get(kind="forecast_check")
    assert job.status == Job.Status.DONE, job.result
    r = job.result
    # 3 series; 2 origins 3 months apart, each scoring 3 months: 3 x 2 = 6 windows
    assert (r["series"], r["windows"], r["horizon"], r["folds"]) == (3, 6, 3, 2)
    assert (r["source"], r["filename"], r["first_month"], r["last_month"]) == (
        "file",
        "历史销量.csv",
        "2023-01",
        "2025-12",
    )
    assert r["input"]["columns"] == "列 / columns: 规格 → unique_id, 月份 → ds, 销量 → y"
    # seasonal naive, by hand: every error is 12 and every in-sample scale is 12, so MASE = 1.0; WAPE = 12 x 18
    # scored months / those months' sales (each series' last 6 months: the 2 folds cut 3 and 6 months back)
    sn = r["methods"]["seasonal_naive"]
    assert sn["mase"] == pytest.approx(1.0)
    actual = sum(sum(_series(k)[-6:]) for k in (1, 2, 3))  # S1: 130 + 131 + … + 135 (no January) = 795
    assert sum(_series(1)[-6:]) == 795
    assert sn["wape"] == pytest.approx(12 * 18 / actual, abs=1e-4)
    # the engine's own backtest of the canonical frame, with the policy's model settings, gives the same figures
    direct = backtest(
        _long(),
        3,
        2,
        methods=("kejing", "seasonal_naive", "auto_ets"),
        spring_festival=services.festival_setting(),
        settings=services.model_settings(),
    )
    for name in ("kejing", "seasonal_naive", "auto_ets"):
        assert r["methods"][name]["mase"] == direct["methods"][name]["mase"]
        assert r["methods"][name]["wape"] == direct["methods"][name]["wape"]
    # the uploaded file is gone once read, and nothing but the job was written
    assert not any(p.is_file() for p in media.rglob("*") if "uploads" in p.parts)
    assert AuditLog.objects.count() == before
    page = client.get(resp["Location"]).content.decode()
    assert "历史销量.csv" in page and 'id="check-table"' in page and 'id="check-reading"' in page
    assert 'id="check-units"' not in page  # a file has no region units
    listing = client.get("/forecasting/model/check/").content.decode()
    assert 'id="check-file-form"' in listing and "历史销量.csv" in listing
    rows = list(
        openpyxl.load_workbook(
            io.BytesIO(client.get(f"/forecasting/model/check/{job.pk}/export/").content)
        ).active.iter_rows(values_only=True)
    )
    assert len(rows) == 1 + 3 and rows[2][2] == pytest.approx(1.0)
    assert rows[1][9] == "历史销量.csv: 2023-01 – 2025-12"


def test_the_command_prints_the_pages_figures(centre, login, tmp_path, capsys):
    frame = _long().rename(columns={"unique_id": "item", "ds": "date", "y": "sales"})
    data = frame.to_csv(index=False).encode()
    _check(login(centre.center), "sales.csv", data)
    r = Job.objects.get(kind="forecast_check").result
    path = tmp_path / "sales.csv"
    path.write_bytes(data)
    policy = services.policy()["model"]
    args = ["forecast", "backtest", "--input", str(path), "--horizon", "3", "--folds", "2", "--json", "--quiet"]
    args += ["--spring-festival", policy["spring_festival"], "--festival-window", str(policy["festival_window_days"])]
    args += ["--trading-days", "on" if policy["trading_days"] else "off"]
    capsys.readouterr()
    assert main(args) == 0
    out = json.loads(capsys.readouterr().out)
    for name in ("kejing", "seasonal_naive", "auto_ets"):
        assert (r["methods"][name]["mase"], r["methods"][name]["wape"]) == (
            out["methods"][name]["mase"],
            out["methods"][name]["wape"],
        )
    assert r["input"]["columns"] == out["input"]["columns"] == "列 / columns: item → unique_id, date → ds, sales → y"


def test_a_report_with_a_column_per_month_in_a_workbook_reads_as_the_long_file(centre, login):
    client = login(centre.center)
    long = _long()
    across = long.pivot(index="unique_id", columns="ds", values="y").reset_index()
    across.columns = ["规格", *[f"{m.year}年{m.month}月" for m in MONTHS]]
    buffer = io.BytesIO()
    across.to_excel(buffer, index=False)
    _check(client, "report.xlsx", buffer.getvalue())
    _check(client, "long.csv", long.to_csv(index=False).encode())
    wide, plain = (j.result for j in Job.objects.filter(kind="forecast_check").order_by("pk"))
    assert wide["series"] == plain["series"] == 3
    assert [m["mase"] for m in wide["rows"]] == [m["mase"] for m in plain["rows"]]
    assert "wide layout: 36 period columns" in wide["input"]["note"]
    assert "columns" not in plain["input"]  # unique_id, ds, y: nothing to say


def test_what_is_ambiguous_is_named_with_the_forms_field_and_settled_by_it(centre, login, media):
    client = login(centre.center)
    frame = _long().rename(columns={"unique_id": "规格", "ds": "月份"})
    frame["需求量"] = frame.pop("y")
    frame["销售量"] = frame["需求量"] - 1
    data = frame.to_csv(index=False).encode()
    _check(client, "ledger.csv", data)
    failed = Job.objects.get(kind="forecast_check")
    assert failed.status == Job.Status.FAILED
    assert "销售量, 需求量" in failed.result["error"] and "「销量列 / figures column」" in failed.result["error"]
    assert "--value-col" not in failed.result["error"]  # the page's user has no command line
    assert "「销量列 / figures column」" in client.get(f"/accounts/jobs/{failed.pk}/").content.decode()
    assert not any(p.is_file() for p in media.rglob("*") if "uploads" in p.parts)  # deleted after a failure too
    _check(client, "ledger.csv", data, value_col="需求量")
    done = Job.objects.filter(kind="forecast_check").latest("pk")
    assert done.status == Job.Status.DONE and done.result["series"] == 3
    assert done.result["input"]["columns"] == "列 / columns: 规格 → unique_id, 月份 → ds, 需求量 → y"
    # a figure that is no number names its row (row 5 of the file: the header is row 1)
    bad = _long()
    bad["y"] = bad["y"].astype(object)
    bad.iloc[3, 2] = "many"
    _check(client, "bad.csv", bad.to_csv(index=False).encode())
    assert "row 5" in Job.objects.filter(kind="forecast_check").latest("pk").result["error"]


def test_the_wrong_kind_of_file_or_too_big_a_file_is_refused_before_it_is_stored(centre, login, media):
    client = login(centre.center)
    page = _check(client, "photo.jpg", b"\xff\xd8\xff", follow=True).content.decode()
    assert "photo.jpg is neither" in page
    page = client.post(
        "/forecasting/model/check/", {"source": "file", "horizon": "3", "folds": "2"}, follow=True
    ).content.decode()
    assert "choose a file" in page
    page = _check(client, "sales.csv", b"unique_id,ds,y\n", horizon="13", follow=True).content.decode()
    assert "horizon must be a whole number from 1 to 12" in page
    big = b"unique_id,ds,y\n" + b"a,2024-01,1\n" * (services.CHECK_FILE_MAX_MB * 1024 * 1024 // 12 + 1)
    page = _check(client, "big.csv", big, follow=True).content.decode()
    assert f"larger than {services.CHECK_FILE_MAX_MB} MB" in page
    assert not Job.objects.filter(kind="forecast_check").exists()
    assert not any(p.is_file() for p in media.rglob("*"))
    # an empty file and bytes that are no text are failed jobs with the reason
    _check(client, "empty.csv", b"")
    _check(client, "book.xlsx", b"not a workbook")
    errors = [j.result["error"] for j in Job.objects.filter(kind="forecast_check").order_by("pk")]
    assert "the file empty.csv is empty" in errors[0] and "cannot read the workbook book.xlsx" in errors[1]


def test_only_managers_check_files_and_a_check_is_its_starters(centre, login, token_for, media):
    data = _long().to_csv(index=False).encode()
    cm = login(centre.cm1)
    assert _check(cm, "sales.csv", data).status_code == 404
    resp = cm.post(
        "/api/forecasting/model-check/file",
        {"file": _upload("sales.csv", data), "horizon": 3, "folds": 2},
        **token_for(centre.cm1),
    )
    assert resp.status_code == 403
    with pytest.raises(services.NotAllowed):
        services.check_file(centre.cm1.user, data, "sales.csv", {"horizon": 3, "folds": 2})
    assert not Job.objects.exists() and not any(p.is_file() for p in media.rglob("*"))
    # a market manager checks through the API (multipart), without AutoETS
    mm = login(centre.mm1)
    resp = mm.post(
        "/api/forecasting/model-check/file",
        {"file": _upload("sales.csv", data), "horizon": 2, "folds": 3, "auto_ets": "false"},
        **token_for(centre.mm1),
    )
    assert resp.status_code == 202, resp.content
    job = resp.json()["job"]
    status = mm.get(f"/api/forecasting/jobs/{job}", **token_for(centre.mm1)).json()
    assert status["status"] == "done"
    assert set(status["result"]["methods"]) == {"kejing", "seasonal_naive"}
    assert (status["result"]["series"], status["result"]["windows"]) == (3, 9)
    resp = mm.post(
        "/api/forecasting/model-check/file",
        {"file": _upload("sales.csv", data), "horizon": 0, "folds": 3},
        **token_for(centre.mm1),
    )
    assert resp.status_code == 400 and "horizon" in resp.json()["detail"]
    # another manager sees neither its page, its Excel nor its API status
    other = login(centre.mm2)
    assert other.get(f"/accounts/jobs/{job}/").status_code == 404
    assert other.get(f"/forecasting/model/check/{job}/export/").status_code == 404
    assert other.get(f"/api/forecasting/jobs/{job}", **token_for(centre.mm2)).status_code == 404
