"""Background tasks of group business (run by ``kejing worker``; immediately in tests)."""

from __future__ import annotations

from django.core.files.storage import default_storage
from django.utils import timezone
from django_tasks import task

from kejing.core import uploads
from kejing.core.models import Job
from kejing.core.tabular import TableError, read_table
from kejing.customers.models import Customer

from .importer import import_members
from .services import GroupError


def _finish(job: Job, status: str, result: dict) -> None:
    Job.objects.filter(pk=job.pk).update(
        status=status, result=result, finished_at=timezone.now(), done=job.total or 1, total=job.total or 1
    )


@task()
def run_member_import(job_id: int) -> None:
    job = Job.objects.select_related("created_by").get(pk=job_id)
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING)
    try:
        ec = Customer.objects.get(pk=job.params["ec"])
        with default_storage.open(job.params["path"], "rb") as fh:
            table = read_table(fh, filename=job.params.get("filename"))
        job.progress(0, len(table.rows) * 2, "校验中 / validating")
        report = import_members(
            ec,
            table,
            actor=job.created_by,
            dry_run=job.params.get("dry_run", True),
            progress=lambda done, total: job.progress(done, total),
        )
        result = report.as_dict()
        result["encoding"] = table.encoding
        status = Job.Status.DONE
    except (TableError, OSError, KeyError, Customer.DoesNotExist) as exc:
        result = {"ok": False, "errors": [{"row": 0, "field": "", "message": str(exc)}], "rows": 0}
        status = Job.Status.FAILED
    uploads.settle(job, status, result)
    _finish(job, status, result)


@task()
def run_bills(job_id: int) -> None:
    from .billrun import run_month

    job = Job.objects.select_related("created_by").get(pk=job_id)
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING)
    try:
        ecs = list(Customer.objects.filter(pk__in=job.params["ecs"]).order_by("pk"))
        runs = run_month(
            ecs, job.params["month"], actor=job.created_by, job=job, progress=lambda d, t: job.progress(d, t)
        )
        result = {"ok": True, "runs": [r.pk for r in runs], "totals": {r.ec_id: r.totals.get("total") for r in runs}}
        status = Job.Status.DONE
    except GroupError as exc:
        result = {"ok": False, "errors": [{"row": 0, "field": "", "message": str(exc)}]}
        status = Job.Status.FAILED
    _finish(job, status, result)
