"""The tobacco monthly cycle: cigarette specs, the sales ledger, forecast rounds and their lines, supply,
feedback, weekly reports and the shops' API keys.

Quantities are whole cartons (条). A *round* is identified by its **target month** (the month being forecast);
the work on it happens in the month before (days 1-6 forecast, submit by the 8th, balance 17-20, feedback 21-25).
One ``ForecastLine`` per round x customer x spec holds the three sources side by side (model, shop, CM), the
merged figure and the balanced (supply-constrained) quantity, so consolidation is one ``GROUP BY``.
"""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kejing.customers.models import Customer
from kejing.org.models import OrgUnit, Staff


class PriceClass(models.TextChoices):
    HIGH = "high", _("High price")
    MID = "mid", _("Mid price")
    LOW = "low", _("Low price")


class Spec(models.Model):
    """A cigarette specification (卷烟规格), loaded from ``policies/tobacco/cigarettes.toml``."""

    code = models.CharField(_("spec code"), max_length=20, unique=True)
    brand = models.CharField(_("brand"), max_length=40)
    name = models.CharField(_("specification"), max_length=80)
    price_class = models.CharField(_("price class"), max_length=8, choices=PriceClass.choices)
    unit = models.CharField(_("unit"), max_length=16, default="carton")
    packs_per_unit = models.PositiveSmallIntegerField(_("packs per unit"), default=10)
    price = models.DecimalField(_("wholesale price per unit"), max_digits=10, decimal_places=2)
    launched = models.DateField(_("launched"), null=True, blank=True)
    discontinued = models.DateField(_("discontinued"), null=True, blank=True)

    class Meta:
        verbose_name = _("cigarette spec")
        verbose_name_plural = _("cigarette specs")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    def on_sale(self, month) -> bool:
        """Whether the spec is sold in the month starting on ``month``."""
        if self.launched and self.launched > month:
            return False
        return not (self.discontinued and self.discontinued < month)


class LedgerEntry(models.Model):
    """One line of the sales ledger (动销台帐): a shop's month for one spec.

    ``demand`` is what the shop ordered, ``supplied`` what it received; ``sold`` and ``stock`` come from the
    shop's own book. ``allocated`` is the balanced quantity pushed down to the shop for that month and
    ``recorded_forecast`` what the shop wrote in its ledger after the CM told it (L2805-L2807).
    """

    # no index of its own: the unique (customer, spec, month) index serves lookups by customer
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="ledger_entries", db_index=False)
    spec = models.ForeignKey(Spec, on_delete=models.PROTECT, related_name="+")
    month = models.DateField(_("month"))
    demand = models.PositiveIntegerField(_("demand (ordered)"), null=True, blank=True)
    supplied = models.PositiveIntegerField(_("supplied"), null=True, blank=True)
    sold = models.PositiveIntegerField(_("sold"), null=True, blank=True)
    stock = models.PositiveIntegerField(_("in stock"), null=True, blank=True)
    allocated = models.PositiveIntegerField(_("balanced quantity"), null=True, blank=True)
    recorded_forecast = models.PositiveIntegerField(_("forecast recorded by the customer"), null=True, blank=True)
    guidance = models.CharField(_("CM's guidance"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("sales ledger")
        ordering = ["-month", "customer_id", "spec_id"]
        constraints = [models.UniqueConstraint(fields=["customer", "spec", "month"], name="ledger_unique")]
        indexes = [models.Index(fields=["month", "customer"])]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.spec_id} {self.month:%Y-%m}"


class UnitHistory(models.Model):
    """Monthly totals per region unit and spec: the long history the model learns from.

    Kept beside the ledger so that three years of history need 65 units x 40 specs x 36 months rows rather
    than one row per shop; importing ledger months refreshes the totals of those months.
    """

    unit = models.ForeignKey(OrgUnit, on_delete=models.CASCADE, related_name="+")
    spec = models.ForeignKey(Spec, on_delete=models.PROTECT, related_name="+")
    month = models.DateField(_("month"))
    demand = models.PositiveIntegerField(_("demand (ordered)"), default=0)
    supplied = models.PositiveIntegerField(_("supplied"), default=0)

    class Meta:
        verbose_name = _("unit history")
        verbose_name_plural = _("unit history")
        constraints = [models.UniqueConstraint(fields=["unit", "spec", "month"], name="unit_history_unique")]

    def __str__(self) -> str:
        return f"{self.unit_id} {self.spec_id} {self.month:%Y-%m}"


class Round(models.Model):
    """The forecast of one target month, worked on during the month before it."""

    target = models.DateField(_("target month"), unique=True)
    opened_at = models.DateTimeField(default=timezone.now)
    model_job = models.ForeignKey("core.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    model_ran_at = models.DateTimeField(_("model run at"), null=True, blank=True)
    model_name = models.CharField(_("model"), max_length=40, blank=True)
    balanced_at = models.DateTimeField(_("balanced at"), null=True, blank=True)
    balance_mode = models.CharField(_("balancing mode"), max_length=12, blank=True, default="")

    class Meta:
        verbose_name = _("forecast round")
        verbose_name_plural = _("forecast rounds")
        ordering = ["-target"]

    def __str__(self) -> str:
        return f"{self.target:%Y-%m}"


class Source(models.TextChoices):
    CM = "cm", _("CM interactive forecast")
    SELF = "self", _("Customer self-report")
    MODEL = "model", _("Model forecast")
    NONE = "", _("No figure")


class ForecastLine(models.Model):
    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="lines")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="forecast_lines")
    spec = models.ForeignKey(Spec, on_delete=models.PROTECT, related_name="+")
    # snapshots taken when the round opened, so a later reassignment does not move a submitted forecast
    cm = models.ForeignKey(Staff, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    model_qty = models.PositiveIntegerField(_("model forecast"), null=True, blank=True)
    model_lo = models.PositiveIntegerField(null=True, blank=True)
    model_hi = models.PositiveIntegerField(null=True, blank=True)
    self_qty = models.PositiveIntegerField(_("self-report"), null=True, blank=True)
    cm_qty = models.PositiveIntegerField(_("CM forecast"), null=True, blank=True)
    merged_qty = models.PositiveIntegerField(_("merged forecast"), default=0)
    source = models.CharField(_("source"), max_length=8, choices=Source.choices, blank=True, default="")
    balanced_qty = models.PositiveIntegerField(_("balanced quantity"), null=True, blank=True)

    class Meta:
        verbose_name = _("forecast line")
        verbose_name_plural = _("forecast lines")
        constraints = [models.UniqueConstraint(fields=["round", "customer", "spec"], name="forecast_line_unique")]
        indexes = [models.Index(fields=["round", "cm"]), models.Index(fields=["round", "unit"])]

    def __str__(self) -> str:
        return f"{self.round} {self.customer_id} {self.spec_id}"

    def merge(self, order: list[str]) -> None:
        """Apply the merge rule: the first source in ``order`` that has a figure wins."""
        self.merged_qty, self.source = merge_values(order, self.cm_qty, self.self_qty, self.model_qty)


def merge_values(order: list[str], cm: int | None, self_report: int | None, model: int | None) -> tuple[int, str]:
    """The merge rule on plain values (used for bulk work without building model instances)."""
    values = {"cm": cm, "self": self_report, "model": model}
    for src in order:
        if values.get(src) is not None:
            return values[src], src
    return 0, ""


def merge_sql(order: list[str]) -> tuple[str, str]:
    """SQL expressions for the merged figure and its source under ``order`` (for one-statement re-merges)."""
    column = {"cm": "cm_qty", "self": "self_qty", "model": "model_qty"}
    cols = [column[s] for s in order if s in column]
    merged = f"COALESCE({', '.join(cols)}, 0)"
    source = (
        "CASE " + " ".join(f"WHEN {column[s]} IS NOT NULL THEN '{s}'" for s in order if s in column) + " ELSE '' END"
    )
    return merged, source


class Submission(models.Model):
    """A CM handed in his unit's forecast; from then on his figures are locked."""

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="submissions")
    cm = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="+")
    submitted_at = models.DateTimeField(default=timezone.now)
    total = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("submission")
        verbose_name_plural = _("submissions")
        constraints = [models.UniqueConstraint(fields=["round", "cm"], name="submission_unique")]

    def __str__(self) -> str:
        return f"{self.round} {self.cm_id}"


class KeyCustomer(models.Model):
    """A customer the CM forecasts interactively (the key half of his portfolio, L2781)."""

    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, related_name="key_mark")
    suggested = models.BooleanField(_("suggested by value"), default=True)
    chosen_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("key customer")
        verbose_name_plural = _("key customers")

    def __str__(self) -> str:
        return str(self.customer_id)


class Comment(models.Model):
    """A supervisor's remark on a CM's forecast: managers watch and comment, they do not change figures."""

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="comments")
    cm = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="+")
    author = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="+")
    text = models.CharField(_("comment"), max_length=500)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("forecast comment")
        verbose_name_plural = _("forecast comments")
        ordering = ["-at"]

    def __str__(self) -> str:
        return self.text[:40]


class Supply(models.Model):
    """The quantity of one spec the company can supply to one area (a unit of the org tree) in a round."""

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="supplies")
    spec = models.ForeignKey(Spec, on_delete=models.PROTECT, related_name="+")
    area = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField(_("supply"))
    placed = models.PositiveIntegerField(_("placed"), default=0)
    unplaced = models.PositiveIntegerField(_("not placed"), default=0)
    note = models.CharField(_("note"), max_length=300, blank=True)
    decided_by = models.ForeignKey(Staff, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("supply")
        verbose_name_plural = _("supplies")
        constraints = [models.UniqueConstraint(fields=["round", "spec", "area"], name="supply_unique")]

    def __str__(self) -> str:
        return f"{self.round} {self.spec_id}@{self.area_id}: {self.quantity}"


class ShopLimit(models.Model):
    """A per-shop cap and/or minimum on one spec for a round's balancing, set by the marketing center.

    ``cap``: the shop gets at most this many cartons; ``minimum``: at least this many, as far as its merged forecast
    and the supply allow (what is not met is shown with the balance result). Either may be empty.
    """

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="limits")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    spec = models.ForeignKey(Spec, on_delete=models.PROTECT, related_name="+")
    cap = models.PositiveIntegerField(_("cap"), null=True, blank=True)
    minimum = models.PositiveIntegerField(_("minimum"), null=True, blank=True)
    set_by = models.ForeignKey(Staff, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("shop cap and minimum")
        verbose_name_plural = _("shop caps and minimums")
        constraints = [models.UniqueConstraint(fields=["round", "customer", "spec"], name="shop_limit_unique")]

    def __str__(self) -> str:
        return f"{self.round} {self.customer_id}/{self.spec_id}: {self.minimum}-{self.cap}"


class Feedback(models.Model):
    """The CM told the shop its balanced quantities (days 21-25) and left guidance."""

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="feedback")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    cm = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="+")
    informed_on = models.DateField(_("informed on"))
    guidance = models.CharField(_("guidance"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("forecast feedback")
        verbose_name_plural = _("forecast feedback")
        constraints = [models.UniqueConstraint(fields=["round", "customer"], name="feedback_unique")]

    def __str__(self) -> str:
        return f"{self.round} {self.customer_id}"


class PhaseTask(models.Model):
    """Links a phase of a round (or a weekly duty) to the ``service.Task`` on the CM's list, so that doing
    the work (submitting, informing the shops, writing the weekly summary) closes the task."""

    round = models.ForeignKey(Round, null=True, blank=True, on_delete=models.CASCADE, related_name="phase_tasks")
    week = models.DateField(null=True, blank=True)
    phase = models.CharField(max_length=20)
    task = models.OneToOneField("service.Task", on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name = _("phase task")
        verbose_name_plural = _("phase tasks")

    def __str__(self) -> str:
        return f"{self.round or self.week} {self.phase}"


class WeeklyReport(models.Model):
    """The CM's Friday summary of the week and plan for the next (L2827)."""

    cm = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="+")
    week = models.DateField(_("week (Monday)"))
    summary = models.TextField(_("summary of the week"))
    plan = models.TextField(_("plan for next week"))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("weekly report")
        verbose_name_plural = _("weekly reports")
        ordering = ["-week"]
        constraints = [models.UniqueConstraint(fields=["cm", "week"], name="weekly_unique")]

    def __str__(self) -> str:
        return f"{self.cm_id} {self.week}"


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ShopKeyManager(models.Manager):
    def issue(self, customer: Customer, name: str = "pos") -> tuple[ShopKey, str]:
        """A new key for a shop's POS; only the hash is stored, the raw key is shown once."""
        raw = "shop_" + secrets.token_urlsafe(24)
        return self.create(customer=customer, name=name, key_hash=_hash(raw)), raw

    def for_raw(self, raw: str) -> ShopKey | None:
        return self.select_related("customer").filter(key_hash=_hash(raw), revoked=False).first()


class ShopKey(models.Model):
    """An API key that authenticates *as a customer* (its POS), for the self-reported forecast."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="shop_keys")
    name = models.CharField(_("name"), max_length=40, default="pos")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked = models.BooleanField(_("revoked"), default=False)

    objects = ShopKeyManager()

    class Meta:
        verbose_name = _("shop API key")
        verbose_name_plural = _("shop API keys")

    def __str__(self) -> str:
        return f"{self.customer_id}/{self.name}"


class SpecialOrder(models.Model):
    """An order a CM raises for a shop outside the monthly forecast (source L2799).

    Emergency orders (the shop ran out) and special orders (a group purchase, a wedding, a funeral). Within the
    limits granted to CMs (``[special_orders]`` of the forecasting policy) it is approved at once; above them
    it waits for a manager of the shop's unit. An approved order is added to the shop's ledger for its month
    (ordered and supplied).
    """

    class Kind(models.TextChoices):
        EMERGENCY = "emergency", _("emergency order")
        GROUP = "group", _("group purchase")
        WEDDING = "wedding", _("wedding")
        FUNERAL = "funeral", _("funeral")

    class State(models.TextChoices):
        PENDING = "pending", _("waiting for approval")
        APPROVED = "approved", _("approved")
        REJECTED = "rejected", _("rejected")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="special_orders")
    spec = models.ForeignKey(Spec, on_delete=models.PROTECT, related_name="+")
    month = models.DateField(_("month"))
    quantity = models.PositiveIntegerField(_("quantity (cartons)"))
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    reason = models.CharField(_("reason"), max_length=300)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.PENDING)
    within_limit = models.BooleanField(_("within the CM's limit"), default=False)
    raised_by = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="+")
    raised_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(Staff, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(_("decision note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("special order")
        verbose_name_plural = _("special orders")
        ordering = ["-raised_at", "-id"]
        indexes = [models.Index(fields=["state", "month"])]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.spec_id} {self.quantity} {self.kind}"


class ShopSurvey(models.Model):
    """The month-end profit survey of one shop (source L2813-L2821: social inventory and retailers' profit).

    The stock per spec (the social inventory) goes into the shop's ledger (``LedgerEntry.stock``); this row keeps
    the money side: the shop's cigarette sales and purchases of the month, from which its gross profit follows.
    """

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="surveys")
    month = models.DateField(_("month"))
    sales_amount = models.DecimalField(_("cigarette sales (yuan)"), max_digits=12, decimal_places=2)
    purchase_amount = models.DecimalField(_("cigarette purchases (yuan)"), max_digits=12, decimal_places=2)
    note = models.CharField(_("note"), max_length=300, blank=True)
    recorded_by = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("shop survey")
        verbose_name_plural = _("shop surveys")
        ordering = ["-month", "customer_id"]
        constraints = [models.UniqueConstraint(fields=["customer", "month"], name="survey_unique")]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.month:%Y-%m}"

    @property
    def gross_profit(self):
        return self.sales_amount - self.purchase_amount
