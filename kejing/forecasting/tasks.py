"""Background work of the forecasting cycle (run by ``kejing worker``; immediately in tests).

Each task takes a ``Job`` id: the page that started it refreshes itself from the job's progress and shows its
``result`` once the status is done or failed. A failed job writes nothing: the services validate first and write
in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.files.storage import default_storage
from django.utils import timezone
from django_tasks import task

from kejing.core import uploads
from kejing.core.models import Job
from kejing.core.tabular import TableError, read_table

from . import services
from .models import Round


def _finish(job: Job, status: str, result: dict[str, Any]) -> None:
    Job.objects.filter(pk=job.pk).update(
        status=status, result=result, finished_at=timezone.now(), message=str(result.get("error", ""))[:300]
    )


def _on_upload(job: Job, service: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    """``service`` (``services.check_file`` or ``forecast_file``) on the file the job's starter uploaded
    (``views.start_file_job`` stored it with ``kejing.core.uploads.start``)."""
    p = job.params
    with default_storage.open(p["path"], "rb") as fh:
        data = fh.read()
    return service(job.created_by, data, p["filename"], p, job=job)


def _run(job_id: int, work: Callable[[Job], dict[str, Any]], limit: int = 300) -> None:
    """Run ``work`` on the job: its result when it ends, else the job fails and its result says why (the first
    ``limit`` characters) — the job page must say what went wrong, whatever it was. A file the starter uploaded
    for the job (``params["source"] == "file"``) is deleted once the work is over, done or failed: the result
    keeps the figures, the sales history is not kept."""
    job = Job.objects.select_related("created_by").get(pk=job_id)
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING)
    try:
        result, status = work(job), Job.Status.DONE
    except Exception as exc:
        result, status = {"ok": False, "error": str(exc)[:limit]}, Job.Status.FAILED
    finally:
        if job.params.get("source") == "file":
            default_storage.delete(job.params["path"])
    _finish(job, status, result)


@task()
def run_model_forecast(job_id: int) -> None:
    """The model source of a round: engine forecast of unit x spec totals, shared out to the shops."""
    _run(job_id, lambda job: services.run_model(Round.objects.get(pk=job.params["round"]), job=job))


def _check(job: Job) -> dict[str, Any]:
    p = job.params
    if p.get("source") == "file":
        return _on_upload(job, services.check_file)
    return services.check_model(job.created_by, p["horizon"], p["folds"], p.get("auto_ets", True), job=job)


@task()
def run_model_check(job_id: int) -> None:
    """Backtest the model on the starter's own history (``services.check_model``) or on the file he uploaded
    (``services.check_file``); reads only. Its messages name columns, hence the longer error."""
    _run(job_id, _check, limit=600)


@task()
def run_ledger_import(job_id: int) -> None:
    """Check (dry run) or import a stored ledger file; the same stored file serves both steps."""
    job = Job.objects.select_related("created_by").get(pk=job_id)
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING)
    try:
        with default_storage.open(job.params["path"], "rb") as fh:
            table = read_table(fh, filename=job.params.get("filename"))
        job.progress(0, len(table.rows), "校验中 / validating")
        result = services.import_ledger(
            job.created_by,
            table,
            dry_run=job.params.get("dry_run", True),
            progress=lambda done, total, message="": job.progress(done, total, message),
        )
        result["encoding"] = table.encoding
        status = Job.Status.DONE
    except (TableError, OSError, KeyError) as exc:
        result = {"ok": False, "rows": 0, "created": 0, "updated": 0, "error": str(exc)[:300]}
        result["errors"] = [{"row": 0, "field": "", "message": str(exc)[:300]}]
        status = Job.Status.FAILED
    except Exception as exc:  # a failure while writing: the transaction is rolled back, the page says why
        result = {"ok": False, "rows": 0, "created": 0, "updated": 0, "error": str(exc)[:300]}
        result["errors"] = [{"row": 0, "field": "", "message": str(exc)[:300]}]
        status = Job.Status.FAILED
    rows = result.get("rows", 0)
    uploads.settle(job, status, result)
    Job.objects.filter(pk=job.pk).update(done=rows, total=rows)
    _finish(job, status, result)


@task()
def run_balance(job_id: int) -> None:
    """Balance a round against its supply; the result lists placed and unplaced cartons per spec x area."""
    job = Job.objects.select_related("created_by").get(pk=job_id)
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING)
    try:
        rnd = Round.objects.get(pk=job.params["round"])
        result = {
            "ok": True,
            **services.balance(job.created_by, rnd, progress=job.progress, mode=job.params.get("mode")),
        }
        status = Job.Status.DONE
    except services.ForecastError as exc:
        result = {"ok": False, "error": "; ".join(str(v) for v in exc.errors.values())[:300]}
        status = Job.Status.FAILED
    except Exception as exc:  # anything else: nothing was written (one transaction), the page says why
        result = {"ok": False, "error": str(exc)[:300]}
        status = Job.Status.FAILED
    _finish(job, status, result)


@task()
def run_forecast_file(job_id: int) -> None:
    """Forecast the series of the file the starter uploaded (``services.forecast_file``); the forecasts' CSV is
    kept for his download."""
    _run(job_id, lambda job: _on_upload(job, services.forecast_file), limit=600)
