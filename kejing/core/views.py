from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.template import TemplateDoesNotExist
from django.template.loader import select_template
from django.urls import reverse_lazy
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
    return render(request, "core/job.html", {"job": job, "summary": summary})
