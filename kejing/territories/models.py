"""Re-balance proposals (a territory run and its moves), CM home bases and monthly visit plans."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kejing.customers.models import Customer
from kejing.org.models import OrgUnit, Staff


class CmBase(models.Model):
    """Where a CM starts and ends his working day. Without one, routes start at his territory's centre."""

    staff = models.OneToOneField(Staff, verbose_name=_("customer manager"), on_delete=models.CASCADE, related_name="+")
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6)
    label = models.CharField(_("label"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("CM home base")
        verbose_name_plural = _("CM home bases")

    def __str__(self) -> str:
        return f"{self.staff} @ {self.latitude},{self.longitude}"


class Rebalance(models.Model):
    """One territory run over a department or market: the engine's proposal, kept until a manager decides.

    ``snapshot`` keeps what the pictures need (every customer's position and CM before and after), so the
    before/after map still shows the proposal after moves were applied."""

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        READY = "ready", _("Ready for review")
        FAILED = "failed", _("Failed")

    unit = models.ForeignKey(OrgUnit, verbose_name=_("org unit"), on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    job = models.ForeignKey("core.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.RUNNING)
    policy_version = models.CharField(_("policy version"), max_length=32, blank=True)
    move_penalty_km = models.FloatField(_("move penalty (km)"), default=1.0)
    metrics = models.JSONField(default=dict, blank=True)
    snapshot = models.JSONField(default=dict, blank=True)
    message = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = _("territory re-balance")
        verbose_name_plural = _("territory re-balances")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.unit} {self.created_at:%Y-%m-%d %H:%M}"


class Move(models.Model):
    """A proposed change of a customer's CM; applied through ``customers.services.reassign`` (audited)."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("Proposed")
        APPLIED = "applied", _("Applied")
        REJECTED = "rejected", _("Rejected")
        STALE = "stale", _("Outdated")

    rebalance = models.ForeignKey(Rebalance, on_delete=models.CASCADE, related_name="moves")
    customer = models.ForeignKey(Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="+")
    from_cm = models.ForeignKey(
        Staff, verbose_name=_("from CM"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    to_cm = models.ForeignKey(Staff, verbose_name=_("to CM"), on_delete=models.PROTECT, related_name="+")
    km_before = models.FloatField(_("km to territory centre before"))
    km_after = models.FloatField(_("km to territory centre after"))
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.PROPOSED)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("proposed move")
        verbose_name_plural = _("proposed moves")
        ordering = ["rebalance", "to_cm_id", "customer_id"]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.from_cm_id} → {self.to_cm_id}"

    @property
    def km_change(self) -> float:
        return round(self.km_after - self.km_before, 2)


class MonthPlan(models.Model):
    """A CM's visit plan for one month, made once (the visits themselves are ``service.Visit`` rows)."""

    cm = models.ForeignKey(Staff, verbose_name=_("customer manager"), on_delete=models.CASCADE, related_name="+")
    month = models.DateField(_("month"))  # first day of the month
    visits = models.PositiveIntegerField(_("visits"), default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    policy_version = models.CharField(_("policy version"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("monthly visit plan")
        verbose_name_plural = _("monthly visit plans")
        constraints = [models.UniqueConstraint(fields=["cm", "month"], name="territories_one_plan_per_month")]
        ordering = ["-month", "cm_id"]

    def __str__(self) -> str:
        return f"{self.cm} {self.month:%Y-%m}"
