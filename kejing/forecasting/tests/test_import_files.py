"""The files uploaded to an import page are kept only while a clean dry run may still be imported
(kejing.core.uploads): deleted after the import, after a dry run with errors, and a day after a clean dry run that
nobody imported; the pages and the API then say so instead of failing in the worker."""

from __future__ import annotations

import datetime as dt

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from kejing.core import uploads
from kejing.core.models import Job
from kejing.forecasting.models import LedgerEntry

from . import cycle_fixtures

cycle_data, on, media = cycle_fixtures.cycle_data, cycle_fixtures.on, cycle_fixtures.media

NOV = dt.date(2026, 11, 1)
CLEAN = "客户编码,规格编码,月份,需求量\nC1,JF01,2026-11,9\nC2,YL01,2026-11,3\n"
PAGE = "/forecasting/ledger/import/"


def _upload(text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("ledger.csv", text.encode("utf-8"), content_type="text/csv")


def _stored(media) -> list[str]:
    folder = media / "imports"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def _dry_run(client, text: str = CLEAN) -> Job:
    client.post(PAGE, {"file": _upload(text), "dry_run": "1"})
    return Job.objects.filter(kind="import_ledger").latest("pk")


def test_the_file_stays_for_import_now_and_goes_with_the_import(cycle_data, login, media):
    client = login(cycle_data.org.mm1)
    dry = _dry_run(client)
    assert dry.result["ok"] and len(_stored(media)) == 1  # kept: "import now" reads these bytes
    assert 'id="import-now"' in client.get(f"{PAGE}?job={dry.pk}").content.decode()
    client.post(PAGE, {"from_job": dry.pk})
    assert LedgerEntry.objects.get(customer=cycle_data.org.c1, spec__code="JF01", month=NOV).demand == 9
    assert _stored(media) == []
    done = Job.objects.filter(kind="import_ledger").exclude(pk=dry.pk).get()
    dry.refresh_from_db()
    assert dry.params["released"] == done.params["released"] == "imported"
    # a second press (a double click) leads to the same import, not a second one that finds no file
    again = client.post(PAGE, {"from_job": dry.pk})
    assert again["Location"].endswith(f"?job={done.pk}") and Job.objects.filter(kind="import_ledger").count() == 2
    # the dry run's page now says the file was imported, and offers no second import
    page = client.get(f"{PAGE}?job={dry.pk}").content.decode()
    assert 'id="import-imported"' in page and 'id="import-now"' not in page


def test_a_dry_run_with_errors_and_a_direct_import_keep_nothing(cycle_data, login, media):
    client = login(cycle_data.org.mm1)
    bad = _dry_run(client, "客户编码,规格编码,月份,需求量\nC1,TH04,2026-11,-2\n")
    assert not bad.result["ok"] and _stored(media) == []
    bad.refresh_from_db()
    assert bad.params["released"] == "deleted"
    client.post(PAGE, {"file": _upload(CLEAN)})  # no dry run: imported at once
    direct = Job.objects.filter(kind="import_ledger").latest("pk")
    assert direct.result["ok"] and not direct.params["dry_run"] and _stored(media) == []


def test_a_clean_dry_run_nobody_imports_is_swept_after_a_day(cycle_data, login, media):
    client = login(cycle_data.org.mm1)
    old, fresh = _dry_run(client), _dry_run(client)
    assert len(_stored(media)) == 2
    Job.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(hours=25))
    assert uploads.sweep() == 1  # 25 hours > 24: the old one goes, the fresh one stays
    assert _stored(media) == [fresh.params["path"].split("/")[-1]]
    assert uploads.sweep() == 0  # a released job is not looked at again
    # its page says so; "import now" is refused with the reason and writes nothing
    page = client.get(f"{PAGE}?job={old.pk}").content.decode()
    assert 'id="import-expired"' in page and 'id="import-now"' not in page
    resp = client.post(PAGE, {"from_job": old.pk}, follow=True)
    assert "请重新上传" in resp.content.decode() and "24" in resp.content.decode()
    assert Job.objects.filter(kind="import_ledger").count() == 2
    assert not LedgerEntry.objects.filter(month=NOV).exists()
    # the fresh one still imports
    client.post(PAGE, {"from_job": fresh.pk})
    assert LedgerEntry.objects.get(customer=cycle_data.org.c2, spec__code="YL01", month=NOV).demand == 3


def test_the_sweep_waits_for_a_running_import_and_runs_on_each_upload(cycle_data, login, media, settings):
    client = login(cycle_data.org.mm1)
    old = _dry_run(client)
    Job.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(hours=30))
    running = Job.objects.create(
        kind="import_ledger", created_by=old.created_by, status=Job.Status.RUNNING, params={**old.params}
    )
    assert uploads.sweep() == 0 and len(_stored(media)) == 1  # its import still reads the file
    Job.objects.filter(pk=running.pk).update(status=Job.Status.FAILED)
    settings.KEJING_IMPORT_KEEP_HOURS = 48
    assert uploads.sweep() == 0  # 30 hours are within 48
    settings.KEJING_IMPORT_KEEP_HOURS = 24
    _dry_run(client)  # a new upload sweeps first
    old.refresh_from_db()
    assert old.params["released"] == "deleted" and len(_stored(media)) == 1


def test_the_api_says_gone_for_a_deleted_file(cycle_data, login, media):
    client = login(cycle_data.org.mm1)
    dry = _dry_run(client)
    uploads.release(dry.params["path"])
    resp = client.post(f"/api/forecasting/ledger/import/{dry.pk}")
    assert resp.status_code == 410 and "请重新上传" in resp.json()["detail"]
    # a file deleted behind the jobs' back (say, by hand) is refused the same way
    dry2 = _dry_run(client)
    (media / dry2.params["path"]).unlink()
    assert client.post(f"/api/forecasting/ledger/import/{dry2.pk}").status_code == 410
    assert not LedgerEntry.objects.filter(month=NOV).exists()


def test_import_now_refuses_what_is_not_a_clean_dry_run_of_ones_own(cycle_data, login, media):
    client = login(cycle_data.org.mm1)
    dry = _dry_run(client)
    assert client.post(PAGE, {"from_job": "x1"}).status_code == 404
    assert client.get(f"{PAGE}?job=x1").status_code == 200
    assert login(cycle_data.org.mm2).post(PAGE, {"from_job": dry.pk}).status_code == 404
    client = login(cycle_data.org.mm1)
    client.post(PAGE, {"from_job": dry.pk})
    done = Job.objects.filter(kind="import_ledger").latest("pk")
    assert client.post(PAGE, {"from_job": done.pk}).status_code == 404  # an import is no dry run
    assert client.post(f"/api/forecasting/ledger/import/{done.pk}").status_code == 400


def test_a_press_while_the_import_waits_in_the_queue_gets_that_import(cycle_data, login, media):
    client = login(cycle_data.org.mm1)
    dry = _dry_run(client)
    # the import of the first press, not yet started by the worker
    queued = Job.objects.create(
        kind="import_ledger", created_by=dry.created_by, params={**dry.params, "dry_run": False}
    )
    second = client.post(PAGE, {"from_job": dry.pk})["Location"]
    assert second.endswith(f"?job={queued.pk}") and Job.objects.filter(kind="import_ledger").count() == 2
    assert not LedgerEntry.objects.filter(month=NOV).exists()  # nothing ran twice, nothing ran at all yet
