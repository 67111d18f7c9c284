"""Background work of the forecasting cycle (run by ``kejing worker``; immediately in tests)."""

from __future__ import annotations

from django.utils import timezone
from django_tasks import task

from kejing.core.models import Job

from . import services
from .models import Round


@task()
def run_model_forecast(job_id: int) -> None:
    """The model source of a round: engine forecast of unit x spec totals, shared out to the shops."""
    job = Job.objects.select_related("created_by").get(pk=job_id)
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING)
    try:
        rnd = Round.objects.get(pk=job.params["round"])
        result = services.run_model(rnd, job=job)
        status = Job.Status.DONE
    except Exception as exc:  # the job page must say what went wrong, whatever it was
        result = {"ok": False, "error": str(exc)[:300]}
        status = Job.Status.FAILED
    Job.objects.filter(pk=job.pk).update(
        status=status, result=result, finished_at=timezone.now(), message=str(result.get("error", ""))[:300]
    )
