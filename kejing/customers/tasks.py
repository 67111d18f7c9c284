"""Background tasks of the customer master (run by ``kejing worker``; immediately in tests)."""

from __future__ import annotations

from django.core.files.storage import default_storage
from django.utils import timezone
from django_tasks import task

from kejing.core import uploads
from kejing.core.models import Job
from kejing.core.tabular import TableError, read_table

from .importer import import_customers


@task()
def run_customer_import(job_id: int) -> None:
    job = Job.objects.select_related("created_by").get(pk=job_id)
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING)
    try:
        with default_storage.open(job.params["path"], "rb") as fh:
            table = read_table(fh, filename=job.params.get("filename"))
        from kejing.org.models import OrgUnit
        from kejing.org.scoping import is_admin, unit_scope

        user = job.created_by
        allowed = None if user is None or is_admin(user) else unit_scope(user)
        if allowed is not None:
            allowed = OrgUnit.objects.filter(pk__in=allowed.values("pk"))
        job.progress(0, len(table.rows), "校验中 / validating")
        report = import_customers(
            table,
            actor=user,
            allowed_units=allowed,
            dry_run=job.params.get("dry_run", True),
            progress=lambda done, total: job.progress(done, total),
        )
        result = report.as_dict()
        result["encoding"] = table.encoding
        status = Job.Status.DONE
    except (TableError, OSError, KeyError) as exc:
        result = {"ok": False, "errors": [{"row": 0, "field": "", "message": str(exc)}], "rows": 0}
        status = Job.Status.FAILED
    uploads.settle(job, status, result)
    Job.objects.filter(pk=job.pk).update(
        status=status,
        result=result,
        finished_at=timezone.now(),
        done=result.get("rows", 0),
        total=result.get("rows", 0),
    )
