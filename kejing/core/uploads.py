"""Files uploaded to an import page: stored for the worker, kept while a clean dry run may still be imported,
deleted afterwards.

Why: every import page (customers, group members, the sales ledger) works in two steps. The upload is checked in
the background by a dry run that lists every bad row, and "import now" then imports the very bytes that were
checked. So the upload has to be stored between the two steps. Before, nothing ever removed it: each customer list
and ledger anybody uploaded stayed in the media storage for good, which is both a disk that only grows and
customer data kept without a reason. Now a file is deleted as soon as it can no longer be imported: after the
import itself (done or failed), after a dry run that found errors (the button is not offered; the fixed file is
uploaded anew), and at the latest ``KEJING_IMPORT_KEEP_HOURS`` (24) after a clean dry run that nobody imported.
A job whose file was deleted says so on its page (``params["released"]``), and "import now" on it is refused
with a message that asks for the file again rather than failing in the worker.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from .models import Job

log = logging.getLogger(__name__)

#: the job kinds whose uploads this module keeps and deletes
IMPORT_KINDS = ("import_customers", "import_members", "import_ledger")

GONE = (
    "上传的文件已不再保留(导入后、试运行发现错误后或干净的试运行 {hours} 小时后即删除),请重新上传 / "
    "the uploaded file is no longer kept (it is deleted once imported, after a dry run with errors, or {hours} "
    "hours after a clean dry run): upload it again"
)


class FileGone(Exception):
    """The stored upload of a dry run was deleted; the message asks for the file again."""

    def __init__(self) -> None:
        super().__init__(GONE.format(hours=keep_hours()))


def keep_hours() -> float:
    """How long a clean dry run's file waits for "import now" (setting ``KEJING_IMPORT_KEEP_HOURS``, 24)."""
    return float(getattr(settings, "KEJING_IMPORT_KEEP_HOURS", 24))


def start(user: Any, kind: str, upload: Any, task: Any, folder: str = "imports", **params: Any) -> Job:
    """Store ``upload`` under ``folder``, create the job of ``kind`` that will read it (``params`` plus the stored
    ``path`` and the ``filename``) and queue ``task`` on it. Why stored and not passed: the job runs in the
    worker, and a job's params are JSON.

    For an import (``IMPORT_KINDS``), old clean dry runs' files are swept first, so a deployment without the
    worker's ticker still deletes them; other jobs (the forecasting file pages) delete their upload themselves.
    """
    if kind in IMPORT_KINDS:
        sweep()
    name = default_storage.save(f"{folder}/{kind}-{timezone.now():%Y%m%d%H%M%S}-{upload.name}", upload)
    job = Job.objects.create(kind=kind, created_by=user, params={**params, "path": name, "filename": upload.name})
    task.enqueue(job.pk)
    return job


class NotClean(Exception):
    """Only a dry run whose every row was valid may be imported."""

    def __init__(self) -> None:
        super().__init__("只能导入校验通过的试运行 / only a clean dry run can be imported")


def import_now(prev: Job, task: Any) -> Job:
    """The writing job for the clean dry run ``prev`` on the same stored file, queued on ``task`` (the caller
    fetched ``prev`` among its own jobs of the kind).

    A second press (a double click, a page sent again) gets the import already started from that file, queued,
    running or done, instead of a second import that would find its file deleted by the first. :class:`NotClean`
    for a dry run that did not pass or a job that was no dry run; :class:`FileGone` when the file was deleted.
    """
    if not is_clean_dry_run(prev.status, prev.result, prev.params):
        raise NotClean
    path = prev.params["path"]
    earlier = (
        Job.objects.filter(kind=prev.kind, created_by=prev.created_by, params__path=path, params__dry_run=False)
        .exclude(status=Job.Status.FAILED)
        .order_by("-pk")
        .first()
    )
    if earlier is not None:
        return earlier
    if prev.params.get("released") or not default_storage.exists(path):
        raise FileGone
    params = {k: v for k, v in prev.params.items() if k not in ("released", "released_at")}
    job = Job.objects.create(kind=prev.kind, created_by=prev.created_by, params={**params, "dry_run": False})
    task.enqueue(job.pk)
    return job


def import_from_page(user: Any, kind: str, job_id: str, task: Any, **match: Any) -> Job:
    """:func:`import_now` for the "import now" button: the caller's own dry run ``job_id`` of ``kind`` (``match``
    narrows it further, as the member import's ``ec``). Anything else — someone else's job, another kind, no
    number, a dry run that did not pass — is a 404, as if it did not exist; :class:`FileGone` is left to the
    page, which says so."""
    filters = {f"params__{k}": v for k, v in match.items()}
    prev = None
    if str(job_id).isdigit():
        prev = Job.objects.filter(pk=int(job_id), created_by=user, kind=kind, **filters).first()
    if prev is None:
        raise Http404
    try:
        return import_now(prev, task)
    except NotClean as exc:
        raise Http404 from exc


def is_clean_dry_run(status: str, result: dict[str, Any], params: dict[str, Any]) -> bool:
    """Whether a job's file may still be imported: a dry run that ended with every row valid."""
    return status == Job.Status.DONE and bool(result.get("ok")) and bool(params.get("dry_run"))


def settle(job: Job, status: str, result: dict[str, Any]) -> None:
    """After an import job ends: delete its file unless it was a clean dry run, which "import now" may still use.

    The jobs that read the file are marked ``released = "imported"`` when this was the import that wrote it, else
    ``"deleted"``: the dry run's page then says it was imported, or that the file must be uploaded again.
    """
    if is_clean_dry_run(status, result, job.params):
        return
    imported = status == Job.Status.DONE and bool(result.get("ok")) and not job.params.get("dry_run")
    release(job.params.get("path"), "imported" if imported else "deleted")


def release(path: str | None, why: str = "deleted") -> None:
    """Delete a stored upload and mark every job that read it (the dry run and the import share one file) with
    ``why`` and the time."""
    if not path:
        return
    try:
        default_storage.delete(path)
    except OSError:  # the next sweep tries again: the jobs stay unmarked
        log.exception("could not delete the upload %s", path)
        return
    stamp = timezone.now().isoformat(timespec="seconds")
    with transaction.atomic():
        for job in Job.objects.select_for_update().filter(kind__in=IMPORT_KINDS, params__path=path):
            if not job.params.get("released"):
                Job.objects.filter(pk=job.pk).update(params={**job.params, "released": why, "released_at": stamp})


def sweep(now: dt.datetime | None = None) -> int:
    """Delete the files of import jobs older than :func:`keep_hours` that still hold one; returns how many.

    Jobs still queued or running are left alone whatever their age (a long import must find its file).
    """
    cutoff = (now or timezone.now()) - dt.timedelta(hours=keep_hours())
    stale = (
        Job.objects.filter(
            kind__in=IMPORT_KINDS, created_at__lt=cutoff, status__in=(Job.Status.DONE, Job.Status.FAILED)
        )
        .exclude(params__has_key="released")
        .values_list("params", flat=True)
    )
    paths = {p.get("path") for p in stale if p.get("path")}
    # a dry run may be old while the import of its file is still running
    busy = set(
        Job.objects.filter(kind__in=IMPORT_KINDS, status__in=(Job.Status.QUEUED, Job.Status.RUNNING)).values_list(
            "params__path", flat=True
        )
    )
    for path in sorted(paths - busy):
        release(path)
    return len(paths - busy)
