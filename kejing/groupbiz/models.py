"""The group-customer (EC) account model of the BOSS (manual L1285-L1320, DOMAIN.md §5).

EC (a telecom ``customers.Customer``) → group users (one per product ordered) → VSUB (a product bundle: its
group users share one account) → total accounts and sub-accounts → members. A phone number is a customer-level
member of at most one EC (a unique column, so the database enforces it) and may join several group users of its
EC (user-level membership); in a V-net it holds a short number and may be in one V-net only (a conditional unique
constraint). Products and packages are referenced by their catalog codes, not by foreign keys, so that this app
and the catalog evolve separately.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kejing.customers.models import Customer

ITEM_CHOICES = [(c, c) for c in "ABCDEFGHIJ"]


class GroupAccount(models.Model):
    """A group account (集团账户). A total account may pay for every product; a sub-account belongs to one total
    account and pays only for the products listed in ``product_codes``."""

    class Kind(models.TextChoices):
        TOTAL = "total", _("Total account")
        SUB = "sub", _("Sub-account")

    ec = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="group_accounts", verbose_name=_("EC"))
    number = models.CharField(_("account number"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices, default=Kind.TOTAL)
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="sub_accounts",
        verbose_name=_("total account"),
    )
    pays_all = models.BooleanField(_("pays for every product"), default=True)
    product_codes = models.JSONField(_("products paid"), default=list, blank=True)
    invoice_type = models.CharField(_("invoice type"), max_length=16, blank=True)
    late_fee = models.BooleanField(_("charge late fees"), default=True)
    payment_type = models.CharField(_("payment type"), max_length=16, default="cash")
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("group account")
        verbose_name_plural = _("group accounts")
        ordering = ["number"]

    def __str__(self) -> str:
        return f"{self.name} ({self.number})"

    def pays_for(self, product_code: str) -> bool:
        return (self.kind == self.Kind.TOTAL and self.pays_all) or product_code in (self.product_codes or [])


class Vsub(models.Model):
    """A product bundle ordered by an EC (VSUB); the group users in it share its account."""

    ec = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="vsubs", verbose_name=_("EC"))
    code = models.CharField(_("code"), max_length=40, unique=True)
    bundle_code = models.CharField(_("bundle"), max_length=40)
    account = models.ForeignKey(GroupAccount, on_delete=models.PROTECT, related_name="vsubs", verbose_name=_("account"))
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("VSUB")
        verbose_name_plural = _("VSUBs")
        ordering = ["code"]
        constraints = [models.UniqueConstraint(fields=["ec", "bundle_code"], name="groupbiz_vsub_one_per_bundle")]

    def __str__(self) -> str:
        return self.code


class GroupUser(models.Model):
    """One product ordered by an EC (集团用户)."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        CLOSED = "closed", _("Closed")

    ec = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="group_users", verbose_name=_("EC"))
    code = models.CharField(_("group user code"), max_length=40, unique=True)
    product_code = models.CharField(_("product"), max_length=40, db_index=True)
    package_code = models.CharField(_("package"), max_length=40)
    is_vnet = models.BooleanField(_("V-net"), default=False)
    vsub = models.ForeignKey(
        Vsub, null=True, blank=True, on_delete=models.PROTECT, related_name="group_users", verbose_name=_("VSUB")
    )
    account = models.ForeignKey(
        GroupAccount, on_delete=models.PROTECT, related_name="group_users", verbose_name=_("account")
    )
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.ACTIVE)
    opened_at = models.DateTimeField(_("opened at"), default=timezone.now)

    class Meta:
        verbose_name = _("group user")
        verbose_name_plural = _("group users")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.product_code}/{self.package_code}"


class Member(models.Model):
    """Customer-level member: a phone number belongs to at most one EC (``msisdn`` is unique)."""

    ec = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="group_members", verbose_name=_("EC"))
    msisdn = models.CharField(_("phone number"), max_length=11, unique=True)
    name = models.CharField(_("name"), max_length=60, blank=True)
    added_at = models.DateTimeField(_("added at"), default=timezone.now)

    class Meta:
        verbose_name = _("member")
        verbose_name_plural = _("members")
        ordering = ["msisdn"]
        indexes = [models.Index(fields=["ec", "msisdn"])]

    def __str__(self) -> str:
        return self.msisdn


class UserMember(models.Model):
    """User-level member: a member in one group user (with its V-net short number when the product is a V-net).
    ``vnet_msisdn`` repeats the number only for V-net memberships so that a unique index keeps a phone in one
    V-net at a time."""

    group_user = models.ForeignKey(GroupUser, on_delete=models.CASCADE, related_name="memberships")
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="memberships")
    short_number = models.CharField(_("short number"), max_length=8, blank=True)
    vnet_msisdn = models.CharField(max_length=11, null=True, blank=True, editable=False)
    joined_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("group-user member")
        verbose_name_plural = _("group-user members")
        constraints = [
            models.UniqueConstraint(fields=["group_user", "member"], name="groupbiz_member_once_per_user"),
            models.UniqueConstraint(
                fields=["group_user", "short_number"], condition=~Q(short_number=""), name="groupbiz_short_unique"
            ),
            models.UniqueConstraint(fields=["vnet_msisdn"], name="groupbiz_one_vnet_per_phone"),
        ]

    def __str__(self) -> str:
        return f"{self.member_id}@{self.group_user_id}"


class OutsideNumber(models.Model):
    """The outside-number group of a V-net: partners' numbers that get the V-net's rates (FAQ L2467-L2469)."""

    group_user = models.ForeignKey(GroupUser, on_delete=models.CASCADE, related_name="outside_numbers")
    number = models.CharField(_("number"), max_length=20)
    note = models.CharField(_("note"), max_length=60, blank=True)

    class Meta:
        verbose_name = _("outside number")
        verbose_name_plural = _("outside numbers")
        constraints = [models.UniqueConstraint(fields=["group_user", "number"], name="groupbiz_outside_unique")]

    def __str__(self) -> str:
        return self.number


class PaymentPlan(models.Model):
    """Unified payment (集团统付): which group account pays a member's fees of one bill item, optionally only of
    one product and up to a monthly cap per member. ``member`` empty = every member of the EC."""

    ec = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="payment_plans", verbose_name=_("EC"))
    member = models.ForeignKey(
        Member, null=True, blank=True, on_delete=models.CASCADE, related_name="payment_plans", verbose_name=_("member")
    )
    product_code = models.CharField(_("product"), max_length=40, blank=True)
    item = models.CharField(_("bill item"), max_length=1, choices=ITEM_CHOICES)
    account = models.ForeignKey(
        GroupAccount, on_delete=models.PROTECT, related_name="payment_plans", verbose_name=_("paying account")
    )
    cap = models.DecimalField(_("monthly cap per member"), max_digits=12, decimal_places=2, null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("payment plan")
        verbose_name_plural = _("payment plans")
        ordering = ["ec", "item", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["ec", "member", "product_code", "item"], name="groupbiz_plan_unique_member"
            ),
            models.UniqueConstraint(
                fields=["ec", "product_code", "item"], condition=Q(member__isnull=True), name="groupbiz_plan_unique_ec"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ec_id} {self.item} → {self.account_id}"


class UsageRecord(models.Model):
    """Usage of one month summarised per member (or per group user when ``member`` is empty) and kind."""

    ec = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    group_user = models.ForeignKey(GroupUser, on_delete=models.CASCADE, related_name="usage")
    member = models.ForeignKey(Member, null=True, blank=True, on_delete=models.CASCADE, related_name="usage")
    month = models.CharField(_("month"), max_length=7)
    kind = models.CharField(_("kind"), max_length=20)
    quantity = models.PositiveIntegerField(_("quantity"))

    class Meta:
        verbose_name = _("usage record")
        verbose_name_plural = _("usage records")
        indexes = [models.Index(fields=["month", "ec"])]

    def __str__(self) -> str:
        return f"{self.month} {self.kind} {self.quantity}"


class OtherCharge(models.Model):
    """A one-time charge (item I) or another fee (e.g. J) for a month, for a group user or a member."""

    ec = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    group_user = models.ForeignKey(GroupUser, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    member = models.ForeignKey(Member, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    month = models.CharField(_("month"), max_length=7)
    item = models.CharField(_("bill item"), max_length=1, choices=ITEM_CHOICES, default="I")
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    note = models.CharField(_("note"), max_length=120, blank=True)

    class Meta:
        verbose_name = _("other charge")
        verbose_name_plural = _("other charges")
        indexes = [models.Index(fields=["month", "ec"])]

    def __str__(self) -> str:
        return f"{self.month} {self.item} {self.amount}"


class BillRun(models.Model):
    """The bill of one EC for one month. One row per (EC, month): running the month again replaces its lines in
    one transaction, so a month is never charged twice; ``run_key`` is the digest of the engine's inputs."""

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    ec = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="bill_runs", verbose_name=_("EC"))
    month = models.CharField(_("month"), max_length=7)
    run_key = models.CharField(_("run key"), max_length=40, blank=True)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.RUNNING)
    totals = models.JSONField(default=dict, blank=True)
    computed_at = models.DateTimeField(_("computed at"), default=timezone.now)
    job = models.ForeignKey("core.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("bill run")
        verbose_name_plural = _("bill runs")
        ordering = ["-month", "ec"]
        constraints = [models.UniqueConstraint(fields=["ec", "month"], name="groupbiz_one_bill_per_month")]

    def __str__(self) -> str:
        return f"{self.ec_id} {self.month}"


class BillLine(models.Model):
    """One line of a bill: on a group account (``account`` set) or on a member's own bill (``msisdn`` set).
    ``source`` says where the amount comes from (fixed fee, usage, other charge, moved from members, member)."""

    run = models.ForeignKey(BillRun, on_delete=models.CASCADE, related_name="lines")
    account = models.ForeignKey(GroupAccount, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    msisdn = models.CharField(max_length=11, blank=True, db_index=True)
    group_user = models.ForeignKey(GroupUser, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    item = models.CharField(_("bill item"), max_length=1, choices=ITEM_CHOICES)
    source = models.CharField(_("source"), max_length=8)
    quantity = models.BigIntegerField(default=0)
    members = models.PositiveIntegerField(default=0)
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    moved = models.DecimalField(_("paid by group"), max_digits=14, decimal_places=2, default=0)
    note = models.CharField(_("why"), max_length=300, blank=True)

    class Meta:
        ordering = ["item", "id"]
        indexes = [models.Index(fields=["run", "account"])]

    def __str__(self) -> str:
        return f"{self.run_id} {self.item} {self.amount}"
