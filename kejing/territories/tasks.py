"""Background work of the territories module (run by ``kejing worker``; immediately in tests)."""

from __future__ import annotations

from django.utils import timezone
from django_tasks import task

from kejing.core.models import Job
from kejing.customers.services import CustomerError

from .models import Rebalance


@task()
def run_rebalance(rebalance_id: int) -> None:
    rb = Rebalance.objects.select_related("unit", "job").get(pk=rebalance_id)
    if rb.job_id:
        Job.objects.filter(pk=rb.job_id).update(status=Job.Status.RUNNING)
    try:
        from .services import compute_rebalance

        compute_rebalance(rb)
        status, message = Job.Status.DONE, ""
    except (CustomerError, ValueError) as exc:
        Rebalance.objects.filter(pk=rb.pk).update(status=Rebalance.Status.FAILED, message=str(exc)[:300])
        status, message = Job.Status.FAILED, str(exc)[:300]
    if rb.job_id:
        Job.objects.filter(pk=rb.job_id).update(status=status, message=message, finished_at=timezone.now())
