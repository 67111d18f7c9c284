"""Forecasting an uploaded sales file: page, job, API, downloads; the very file ``kejing forecast run`` writes;
hand-worked forecasts of flat and all-zero series; managers only; the upload deleted, the forecasts kept for their
starter alone."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pandas as pd
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from kejing.cli import main
from kejing.core.models import AuditLog, Job
from kejing.forecasting import services

from . import cycle_fixtures

on = cycle_fixtures.on
media = cycle_fixtures.media
centre = cycle_fixtures.centre

MONTHS = pd.date_range("2023-01-01", periods=36, freq="MS")


def _sales() -> pd.DataFrame:
    """Three series of 36 months with Chinese headers: 甲 sells 40 every month, 乙 never sells, 丙 grows 100 + t
    with 10 more each January (a series the model has to think about)."""
    frames = [
        pd.DataFrame({"规格": "甲", "月份": MONTHS.strftime("%Y-%m"), "销量": 40}),
        pd.DataFrame({"规格": "乙", "月份": MONTHS.strftime("%Y-%m"), "销量": 0}),
        pd.DataFrame(
            {
                "规格": "丙",
                "月份": MONTHS.strftime("%Y-%m"),
                "销量": [100 + t + 10 * (m.month == 1) for t, m in enumerate(MONTHS)],
            }
        ),
    ]
    return pd.concat(frames)


def _post(client, name: str, data: bytes, follow: bool = False, **form):
    fields = {"horizon": "3", **form, "file": SimpleUploadedFile(name, data)}
    return client.post("/forecasting/model/file/", fields, follow=follow)


def _download(client, job: Job, fmt: str = "xlsx"):
    resp = client.get(f"/forecasting/model/file/{job.pk}/download/" + ("?format=csv" if fmt == "csv" else ""))
    assert resp.status_code == 200, resp.content[:200]
    return resp.content


def test_a_file_is_forecast_as_the_command_forecasts_it(centre, login, media, tmp_path):
    client = login(centre.center)
    data = _sales().to_csv(index=False).encode("gbk")
    before = AuditLog.objects.count()
    resp = _post(client, "销量.csv", data)
    assert resp.status_code == 302
    job = Job.objects.get(kind="forecast_file")
    assert job.status == Job.Status.DONE, job.result
    r = job.result
    assert (r["series"], r["rows"], r["horizon"]) == (3, 9, 3)
    assert (r["first_month"], r["last_month"], r["forecast_from"], r["forecast_to"]) == (
        "2023-01",
        "2025-12",
        "2026-01",
        "2026-03",
    )
    assert r["input"]["columns"] == "列 / columns: 规格 → unique_id, 月份 → ds, 销量 → y"
    # by hand: 甲 is flat (every month 40): its forecast is 40 with a range of width 0; 乙 is all zero: 0
    csv = _download(client, job, "csv")
    assert csv.startswith(b"\xef\xbb\xbf")  # so that Excel reads 甲 乙 丙
    table = pd.read_csv(io.BytesIO(csv[3:]), encoding="utf-8")
    flat = table[table["unique_id"] == "甲"]
    assert flat[["yhat", "lo_80", "hi_80", "lo_95", "hi_95"]].to_numpy().tolist() == [[40.0] * 5] * 3
    assert (table.loc[table["unique_id"] == "乙", ["yhat", "hi_95"]] == 0).all().all()
    assert list(flat["ds"]) == ["2026-01-01", "2026-02-01", "2026-03-01"]
    # the very file the command writes with the same settings (the tobacco policy's: on, 21 days, on)
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    src.write_bytes(data)
    policy = services.policy()["model"]
    args = ["forecast", "run", "--input", str(src), "--horizon", "3", "--output", str(out)]
    args += ["--spring-festival", policy["spring_festival"], "--festival-window", str(policy["festival_window_days"])]
    args += ["--trading-days", "on" if policy["trading_days"] else "off"]
    assert main(args) == 0
    assert csv[3:] == out.read_bytes()
    # the workbook: bilingual headers, the same figures
    rows = list(openpyxl.load_workbook(io.BytesIO(_download(client, job))).active.iter_rows(values_only=True))
    assert rows[0][:3] == ("序列 / series", "月份 / month", "预测 / forecast") and len(rows) == 1 + 9
    assert [row[2] for row in rows[1:]] == pytest.approx(list(table["yhat"]))
    assert rows[1][1] == dt.datetime(2026, 1, 1)  # a date cell, not the text 2026-01-01
    # the page: the summary, a preview of every row (9 < 36), the downloads; the list of my forecasts
    page = client.get(resp["Location"]).content.decode()
    assert "销量.csv" in page and page.count("<tr>") >= 1 + 9 and 'id="forecast-reading"' in page
    assert f"/forecasting/model/file/{job.pk}/download/?format=csv" in page
    assert "销量.csv" in client.get("/forecasting/model/file/").content.decode()
    assert r["preview"][0][:3] == ["丙", "2026-01", round(float(table["yhat"].iloc[0]), 1)]  # sorted by series
    # the upload is gone; the forecasts stay; nothing else was written
    files = [p.relative_to(media).parts[0] for p in media.rglob("*") if p.is_file()]
    assert files == ["forecasts"]
    assert AuditLog.objects.count() == before


def test_only_managers_forecast_files_and_a_forecast_is_its_starters(centre, login, token_for, media):
    data = _sales().to_csv(index=False).encode()
    cm = login(centre.cm1)
    assert cm.get("/forecasting/model/file/").status_code == 404
    assert _post(cm, "s.csv", data).status_code == 404
    resp = cm.post(
        "/api/forecasting/forecast-file", {"file": SimpleUploadedFile("s.csv", data)}, **token_for(centre.cm1)
    )
    assert resp.status_code == 403
    with pytest.raises(services.NotAllowed):
        services.forecast_file(centre.cm1.user, data, "s.csv", {"horizon": 3})
    assert not Job.objects.exists()
    # a market manager through the API: 202, the job, the download
    mm = login(centre.mm1)
    resp = mm.post(
        "/api/forecasting/forecast-file",
        {"file": SimpleUploadedFile("s.xlsx", _xlsx(_sales())), "horizon": 12},
        **token_for(centre.mm1),
    )
    assert resp.status_code == 202, resp.content
    job = resp.json()["job"]
    status = mm.get(f"/api/forecasting/jobs/{job}", **token_for(centre.mm1)).json()
    assert status["status"] == "done" and (status["result"]["series"], status["result"]["rows"]) == (3, 36)
    got = mm.get(f"/api/forecasting/forecast-file/{job}/download?format=csv", **token_for(centre.mm1))
    assert got.status_code == 200 and got.content.count(b"\n") == 1 + 36
    # another manager gets nothing of it
    other = login(centre.mm2)
    assert other.get(f"/accounts/jobs/{job}/").status_code == 404
    assert other.get(f"/forecasting/model/file/{job}/download/").status_code == 404
    assert other.get(f"/api/forecasting/jobs/{job}", **token_for(centre.mm2)).status_code == 404
    assert other.get(f"/api/forecasting/forecast-file/{job}/download", **token_for(centre.mm2)).status_code == 404


def _xlsx(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_excel(buffer, index=False)
    return buffer.getvalue()


def test_bad_settings_and_bad_files_are_named(centre, login, token_for, media):
    client = login(centre.center)
    page = _post(client, "s.csv", b"x", horizon="25", follow=True).content.decode()
    assert "horizon must be a whole number from 1 to 24" in page
    page = _post(client, "s.pdf", b"x", follow=True).content.decode()
    assert "s.pdf is neither" in page
    page = client.post("/forecasting/model/file/", {"horizon": "3"}, follow=True).content.decode()
    assert "choose a file" in page
    resp = client.post(
        "/api/forecasting/forecast-file",
        {"file": SimpleUploadedFile("s.csv", b"x"), "horizon": 0},
        **token_for(centre.center),
    )
    assert resp.status_code == 400 and "horizon" in resp.json()["detail"]
    assert not Job.objects.exists() and not any(p.is_file() for p in media.rglob("*"))
    # a file that reads but is ambiguous fails the job with the form's field; the upload is deleted all the same
    frame = _sales()
    frame["需求量"] = frame["销量"]
    _post(client, "two.csv", frame.to_csv(index=False).encode())
    job = Job.objects.get(kind="forecast_file")
    assert job.status == Job.Status.FAILED and "「销量列 / figures column」" in job.result["error"]
    assert client.get(f"/forecasting/model/file/{job.pk}/download/").status_code == 404
    assert not any(p.is_file() for p in media.rglob("*"))
    _post(client, "two.csv", frame.to_csv(index=False).encode(), value_col="销量")
    assert Job.objects.filter(kind="forecast_file").latest("pk").result["series"] == 3


def test_a_series_that_ended_earlier_is_forecast_from_its_own_end_and_the_page_says_so(centre, login, media):
    client = login(centre.center)
    frame = _sales()
    # 甲 stops after December 2024, a year before the others (2025-12): forecast January - March 2025
    frame = frame[~((frame["规格"] == "甲") & (frame["月份"] > "2024-12"))]
    _post(client, "s.csv", frame.to_csv(index=False).encode())
    job = Job.objects.get(kind="forecast_file")
    r = job.result
    assert (r["forecast_from"], r["forecast_to"], r["ended_early"]) == ("2025-01", "2026-03", 1)
    page = client.get(f"/accounts/jobs/{job.pk}/").content.decode()
    assert "1 个序列在 2025-12 之前结束" in page or "1 series ends before 2025-12" in page


def test_only_a_managers_ten_newest_forecasts_are_kept(centre, login, media, monkeypatch):
    monkeypatch.setattr(services, "FORECAST_FILES_KEPT", 3)  # three instead of ten: the same rule, fewer runs
    data = _sales().to_csv(index=False).encode()
    _post(login(centre.mm1), "his.csv", data)  # another manager's forecast is never his to prune
    client = login(centre.center)
    for k in range(4):
        _post(client, f"s{k}.csv", data)
    jobs = list(Job.objects.filter(kind="forecast_file", created_by=centre.center.user).order_by("pk"))
    assert [j.status for j in jobs] == [Job.Status.DONE] * 4
    first = jobs[0]
    assert first.result["expired"] and first.result["output"] == ""
    assert client.get(f"/forecasting/model/file/{first.pk}/download/").status_code == 404
    assert 'id="forecast-expired"' in client.get(f"/accounts/jobs/{first.pk}/").content.decode()
    for job in jobs[1:]:
        assert not job.result.get("expired") and _download(client, job, "csv").startswith(b"\xef\xbb\xbf")
    listing = client.get("/forecasting/model/file/").content.decode()
    assert f"/forecasting/model/file/{first.pk}/download/" not in listing
    assert f"/forecasting/model/file/{jobs[1].pk}/download/" in listing
    # 3 of his and 1 of the other manager's on disk
    assert len([p for p in (media / "forecasts").iterdir() if p.is_file()]) == 4
    his = Job.objects.get(kind="forecast_file", created_by=centre.mm1.user)
    assert not his.result.get("expired") and _download(login(centre.mm1), his, "csv")
