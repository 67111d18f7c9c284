"""Catalog rows (products, packages, FAQ) synced from the telecom policy files, and customers' saved quotes.

The policy files are the source of truth for tariffs (versioned, with an effective date); the rows are their
working copy, searchable and editable in the admin site. A saved quote keeps a snapshot of every figure it showed,
so a later tariff change never alters a quote already given to a customer.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Product(models.Model):
    """One group product (集团产品) with its selling information, SLA and notes."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    name_initials = models.CharField(max_length=100, blank=True, db_index=True)
    name_pinyin = models.CharField(max_length=300, blank=True)
    category = models.CharField(_("category"), max_length=32, db_index=True)
    status = models.CharField(_("status"), max_length=32, default="commercial")
    position = models.PositiveIntegerField(_("position"), default=0)
    active = models.BooleanField(_("active"), default=True)
    description = models.TextField(_("description"), blank=True)
    selling_tip = models.TextField(_("selling tip"), blank=True)
    targets = models.JSONField(_("target customers"), default=list, blank=True)
    customer_provides = models.JSONField(_("the customer provides"), default=list, blank=True)
    tariff_note = models.TextField(_("tariff note"), blank=True)
    sla_standard = models.PositiveSmallIntegerField(_("standard opening (working days)"), null=True, blank=True)
    sla_urgent = models.PositiveSmallIntegerField(_("urgent opening (working days)"), null=True, blank=True)
    sla_extra_urgent = models.PositiveSmallIntegerField(_("extra-urgent opening (working days)"), null=True, blank=True)
    sla_note = models.CharField(_("opening note"), max_length=300, blank=True)
    project_days = models.JSONField(_("project lead time"), default=dict, blank=True)
    one_time_fees = models.JSONField(_("one-time fees"), default=list, blank=True)
    notes = models.JSONField(_("notes"), default=list, blank=True)
    groups = models.JSONField(_("package groups"), default=list, blank=True)
    components = models.JSONField(_("component products"), default=list, blank=True)
    price_table = models.CharField(_("price table"), max_length=64, blank=True)
    required_inputs = models.JSONField(_("required inputs"), default=list, blank=True)
    source = models.CharField(_("source lines"), max_length=200, blank=True)
    faq_source = models.CharField(_("FAQ source lines"), max_length=200, blank=True)
    policy_name = models.CharField(_("policy file"), max_length=64, blank=True)
    policy_version = models.CharField(_("policy version"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["position", "code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def sla(self) -> dict[str, int]:
        out = {"standard": self.sla_standard, "urgent": self.sla_urgent, "extra_urgent": self.sla_extra_urgent}
        return {k: v for k, v in out.items() if v is not None}


class Package(models.Model):
    """One package (套餐) of a product: fees with their basis, quotas, overage prices, caps and limits.

    The tariff fields keep the policy file's structure (JSON) so that the quote engine reads a row exactly as it
    reads the file; the admin form shows them as JSON.
    """

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="packages", verbose_name=_("product"))
    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    group = models.CharField(_("group"), max_length=32, default="main")
    position = models.PositiveIntegerField(_("position"), default=0)
    active = models.BooleanField(_("active"), default=True)
    fees = models.JSONField(_("fees"), default=list, blank=True)
    allowances = models.JSONField(_("included quotas"), default=list, blank=True)
    rates = models.JSONField(_("overage prices"), default=dict, blank=True)
    rate_units = models.JSONField(_("price units"), default=dict, blank=True)
    meter_caps = models.JSONField(_("usage caps"), default=dict, blank=True)
    cap = models.JSONField(_("monthly cap"), default=dict, blank=True)
    limits = models.JSONField(_("limits"), default=dict, blank=True)
    features = models.JSONField(_("features"), default=list, blank=True)
    zone = models.CharField(_("zone"), max_length=32, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("package")
        verbose_name_plural = _("packages")
        ordering = ["product", "position"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def as_policy(self) -> dict:
        """The package in the policy file's shape, for the quote engine."""
        out = {
            "code": self.code,
            "name": self.name,
            "group": self.group,
            "fees": self.fees,
            "allowances": self.allowances,
            "rates": self.rates,
            "rate_units": self.rate_units,
            "meter_caps": self.meter_caps,
            "limits": self.limits,
            "features": self.features,
            "zone": self.zone,
            "note": self.note,
        }
        if self.cap:
            out["cap"] = self.cap
        return out


class FAQ(models.Model):
    """A question customers ask about a product, with the answer a CM can give."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="faqs", verbose_name=_("product"))
    position = models.PositiveIntegerField(_("position"), default=0)
    question = models.CharField(_("question"), max_length=300)
    answer = models.TextField(_("answer"))
    source = models.CharField(_("source lines"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("FAQ entry")
        verbose_name_plural = _("FAQ entries")
        ordering = ["product", "position"]

    def __str__(self) -> str:
        return self.question


class CatalogLoad(models.Model):
    """One sync of the policy documents into the rows; its signature makes a repeated load a no-op."""

    at = models.DateTimeField(_("at"), default=timezone.now)
    signature = models.CharField(max_length=64)
    versions = models.JSONField(default=dict)
    counts = models.JSONField(default=dict)

    class Meta:
        verbose_name = _("catalog load")
        verbose_name_plural = _("catalog loads")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.versions}"


class Quote(models.Model):
    """A priced offer of one or more products to one customer, as it was shown (figures are snapshots)."""

    class Level(models.TextChoices):
        STANDARD = "standard", _("Standard")
        URGENT = "urgent", _("Urgent")
        EXTRA_URGENT = "extra_urgent", _("Extra urgent")

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="quotes", verbose_name=_("customer")
    )
    title = models.CharField(_("title"), max_length=200, blank=True)
    level = models.CharField(_("opening level"), max_length=16, choices=Level.choices, default=Level.STANDARD)
    start_date = models.DateField(_("order date"), default=timezone.localdate)
    note = models.TextField(_("note"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("created by")
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    monthly_total = models.DecimalField(_("monthly total"), max_digits=14, decimal_places=2, default=Decimal("0"))
    one_time_total = models.DecimalField(_("one-time total"), max_digits=14, decimal_places=2, default=Decimal("0"))

    class Meta:
        verbose_name = _("quote")
        verbose_name_plural = _("quotes")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.customer} — {self.title or self.pk}"


class QuoteLine(models.Model):
    """One product with the chosen package, its usage and the priced explanation."""

    quote = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="lines", verbose_name=_("quote"))
    position = models.PositiveIntegerField(default=0)
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+", verbose_name=_("product"))
    product_name = models.CharField(_("product"), max_length=100)
    package_codes = models.JSONField(_("packages"), default=list)
    package_names = models.CharField(_("package"), max_length=300)
    usage = models.JSONField(_("usage"), default=dict, blank=True)
    monthly = models.DecimalField(_("monthly"), max_digits=14, decimal_places=2)
    one_time = models.DecimalField(_("one-time"), max_digits=14, decimal_places=2, default=Decimal("0"))
    explanation = models.JSONField(_("explanation"), default=list, blank=True)
    sla_days = models.PositiveSmallIntegerField(_("opening days"), null=True, blank=True)
    opening_date = models.DateField(_("opening date"), null=True, blank=True)
    opening_note = models.CharField(_("opening note"), max_length=300, blank=True)
    # the opening date ran into a year whose holiday schedule was not installed (kejing.core.workdays)
    opening_estimated = models.BooleanField(_("opening date estimated"), default=False)

    class Meta:
        verbose_name = _("quote line")
        verbose_name_plural = _("quote lines")
        ordering = ["quote", "position", "id"]

    def __str__(self) -> str:
        return f"{self.product_name} {self.package_names}"
