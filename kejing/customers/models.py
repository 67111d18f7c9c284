"""Customers of all three industries in one table.

Common attributes are columns; the industry-specific ones are nullable columns too (not a JSON bag) so that
they can be filtered, indexed and validated: tobacco retail shops (licence, business format, tier …), telecom
enterprises (EC code), bank corporate clients (unified credit code). Which values are allowed comes from the
industry's policy file (``policies/<industry>/customers.toml``).
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kejing.core.pinyin import pinyin_keys
from kejing.org.models import Industry, OrgUnit, Role, Staff


class Customer(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")
        CLOSED = "closed", _("Closed")
        PROSPECT = "prospect", _("Prospect")

    industry = models.CharField(_("industry"), max_length=16, choices=Industry.choices, db_index=True)
    code = models.CharField(_("customer code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=120)
    name_initials = models.CharField(max_length=120, db_index=True, editable=False, default="")
    name_pinyin = models.CharField(max_length=400, editable=False, default="")
    phone = models.CharField(_("phone"), max_length=20, blank=True, db_index=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    unit = models.ForeignKey(OrgUnit, verbose_name=_("region unit"), on_delete=models.PROTECT, related_name="customers")
    cm = models.ForeignKey(
        Staff,
        verbose_name=_("customer manager"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="customers",
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE)
    value_tier = models.CharField(_("value tier"), max_length=8, blank=True)
    customer_type = models.CharField(_("customer type"), max_length=32, blank=True)
    # tobacco retail
    licence_no = models.CharField(_("licence no."), max_length=32, null=True, blank=True, unique=True)
    business_format = models.CharField(_("business format"), max_length=32, blank=True)
    market_type = models.CharField(_("market type"), max_length=32, blank=True)
    market_scale = models.CharField(_("market scale"), max_length=32, blank=True)
    tier = models.PositiveSmallIntegerField(_("tier"), null=True, blank=True)
    order_cycle = models.CharField(_("order cycle"), max_length=16, blank=True)
    ordering_method = models.CharField(_("ordering method"), max_length=16, blank=True)
    # telecom enterprise / bank corporate client
    ec_code = models.CharField(_("EC code"), max_length=32, null=True, blank=True, unique=True)
    credit_code = models.CharField(_("unified credit code"), max_length=18, null=True, blank=True, unique=True)
    sector = models.CharField(_("industry sector"), max_length=32, blank=True)
    size = models.CharField(_("size"), max_length=16, blank=True)

    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["code"]
        indexes = [models.Index(fields=["cm", "status"]), models.Index(fields=["unit", "status"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def save(self, *args, **kwargs) -> None:
        self.refresh_search_keys()
        if self.licence_no == "":
            self.licence_no = None
        if self.ec_code == "":
            self.ec_code = None
        if self.credit_code == "":
            self.credit_code = None
        super().save(*args, **kwargs)

    def refresh_search_keys(self) -> None:
        self.name_initials, self.name_pinyin = pinyin_keys(self.name)


class Contact(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(_("name"), max_length=50)
    title = models.CharField(_("position"), max_length=50, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    is_primary = models.BooleanField(_("primary contact"), default=False)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["-is_primary", "id"]

    def __str__(self) -> str:
        return self.name


class ComplianceRecord(models.Model):
    """A licence-compliance event (守法记录), kept by the monopoly department; customer managers only read it."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="compliance_records")
    date = models.DateField(_("date"))
    kind = models.CharField(_("kind"), max_length=32)
    description = models.CharField(_("description"), max_length=300, blank=True)
    recorded_by = models.ForeignKey(Staff, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("compliance record")
        verbose_name_plural = _("compliance records")
        ordering = ["-date"]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.date} {self.kind}"


class ChangeRequest(models.Model):
    """A change of one customer field that needs approval (or that another department handles).

    ``steps`` is the list of roles that must decide, in order, copied from the policy when the request is made so
    that a later policy change does not alter a request in flight. The last approval writes the value.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPLIED = "applied", _("Approved and applied")
        REJECTED = "rejected", _("Rejected")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="change_requests")
    field = models.CharField(_("field"), max_length=32)
    old_value = models.CharField(_("old value"), max_length=200, blank=True)
    new_value = models.CharField(_("new value"), max_length=200)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    mode = models.CharField(_("kind"), max_length=16, default="approval")  # approval | route
    steps = models.JSONField(default=list)
    step_index = models.PositiveSmallIntegerField(default=0)
    current_role = models.CharField(_("waiting for"), max_length=20, blank=True, db_index=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    requested_by = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="requests_made")
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("change request")
        verbose_name_plural = _("change requests")
        ordering = ["-requested_at", "-id"]

    def __str__(self) -> str:
        return f"{self.customer_id}.{self.field}: {self.old_value} → {self.new_value}"


class Decision(models.Model):
    request = models.ForeignKey(ChangeRequest, on_delete=models.CASCADE, related_name="decisions")
    step = models.PositiveSmallIntegerField()
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    staff = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="+")
    approved = models.BooleanField()
    comment = models.CharField(_("comment"), max_length=300, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["request", "step"]

    def __str__(self) -> str:
        return f"{self.request_id}#{self.step} {self.role} {'✔' if self.approved else '✘'}"
