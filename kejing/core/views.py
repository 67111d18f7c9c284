from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.template import TemplateDoesNotExist
from django.template.loader import select_template
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Job


class PasswordChange(auth_views.PasswordChangeView):
    """Django's password change, which also clears the "must change password" mark."""

    template_name = "core/password_change.html"
    success_url = reverse_lazy("dashboard")

    def form_valid(self, form):
        response = super().form_valid(form)
        from kejing.org.models import Staff

        Staff.objects.filter(user=self.request.user).update(must_change_password=False)
        messages.success(self.request, _("Your password has been changed."))
        return response


QUEUED_TOO_LONG_MINUTES = 2  # the worker polls every second or so; minutes in the queue mean none is running


@login_required
def job_detail(request, pk: int):
    """Progress of a background job; the page refreshes itself until the job ends."""
    job = get_object_or_404(Job, pk=pk)
    if job.created_by_id != request.user.pk and not request.user.is_superuser:
        raise Http404
    # an app may describe what a finished job of its kind did in ``jobs/<kind>.html`` (the page otherwise shows
    # only the status and the last message)
    summary = None
    if job.status in (Job.Status.DONE, Job.Status.FAILED):
        try:
            summary = select_template([f"jobs/{job.kind}.html"])
        except TemplateDoesNotExist:
            pass
    # a job that has waited minutes without starting while no other job runs has no worker to run it (``kejing
    # serve --no-worker``, or the worker stopped): the page would refresh forever without saying so. Behind a
    # running job (a model run takes minutes) it is only waiting its turn.
    waited = (timezone.now() - job.created_at).total_seconds() / 60
    stuck = None
    if job.status == Job.Status.QUEUED and waited >= QUEUED_TOO_LONG_MINUTES:
        busy = Job.objects.filter(
            status=Job.Status.RUNNING, created_at__gte=timezone.now() - dt.timedelta(hours=1)
        ).exists()
        stuck = None if busy else int(waited)
    return render(request, "core/job.html", {"job": job, "summary": summary, "stuck_minutes": stuck})
