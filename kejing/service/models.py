"""Visits and tasks.

A visit is planned (a date) and later recorded (what was found, the guidance given, how the customer followed
the previous guidance, the next step). The previous visit's guidance is shown when the next one is recorded, so
that advice is followed up rather than forgotten.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kejing.customers.models import Customer
from kejing.org.models import Staff


class Visit(models.Model):
    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    class Purpose(models.TextChoices):
        ROUTINE = "routine", _("Routine visit")
        FIRST = "first", _("First visit")
        FORECAST = "forecast", _("Demand forecast")
        FEEDBACK = "feedback", _("Forecast feedback")
        SALES = "sales", _("Sales / recommendation")
        SERVICE = "service", _("Service / complaint")
        SURVEY = "survey", _("Inventory & profit survey")

    customer = models.ForeignKey(Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="visits")
    cm = models.ForeignKey(Staff, verbose_name=_("customer manager"), on_delete=models.PROTECT, related_name="visits")
    planned_for = models.DateField(_("planned for"), db_index=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.PLANNED)
    purpose = models.CharField(_("purpose"), max_length=16, choices=Purpose.choices, default=Purpose.ROUTINE)
    visited_on = models.DateField(_("visited on"), null=True, blank=True)
    findings = models.TextField(_("findings"), blank=True)
    guidance = models.TextField(_("guidance given"), blank=True)
    followup = models.TextField(_("follow-up of previous guidance"), blank=True)
    next_step = models.CharField(_("next step"), max_length=300, blank=True)
    previous = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        ordering = ["-planned_for", "-id"]
        indexes = [models.Index(fields=["cm", "status", "planned_for"])]

    def __str__(self) -> str:
        return f"{self.customer} {self.planned_for}"

    @property
    def is_overdue(self) -> bool:
        return self.status == self.Status.PLANNED and self.planned_for < timezone.localdate()


class Task(models.Model):
    class Kind(models.TextChoices):
        FIRST_VISIT = "first_visit", _("First visit to a new customer")
        INFORM_CUSTOMER = "inform_customer", _("Tell the customer about an approved change")
        TYPE_REVIEW = "type_review", _("Quarterly customer-type review")
        OTHER = "other", _("Other")

    staff = models.ForeignKey(Staff, verbose_name=_("assignee"), on_delete=models.CASCADE, related_name="tasks")
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.CASCADE, related_name="tasks")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=200)
    due = models.DateField(_("due"))
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        ordering = ["done_at", "due", "id"]
        indexes = [models.Index(fields=["staff", "done_at", "due"])]

    def __str__(self) -> str:
        return self.title

    @property
    def is_overdue(self) -> bool:
        return self.done_at is None and self.due < timezone.localdate()
