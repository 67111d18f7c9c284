"""Records of the CM corps: competitions, grading rounds with their review forms and objections, the grade history,
and stored monthly pay runs.

Why store computed results (a round entry's scores, every payslip line) rather than recompute on each page: a
published total or a paid amount must stay exactly what it was when it was published or paid, even if the policy
or a staff record changes later. Each round and pay run therefore keeps the policy document it used, and every
computed figure keeps its explanation (Chinese and English lines from the engine).
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kejing.core.models import PolicyDocument
from kejing.org.models import OrgUnit, Staff

MONEY = {"max_digits": 12, "decimal_places": 2}
SCORE = {"max_digits": 7, "decimal_places": 2}


# --------------------------------------------------------------------------------------------------------------
# Recruitment by competition (竞聘上岗)


class Posting(models.Model):
    """An open competition for CM posts in a company."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    company = models.ForeignKey(OrgUnit, verbose_name=_("company"), on_delete=models.PROTECT, related_name="+")
    title = models.CharField(_("title"), max_length=120)
    posts = models.PositiveSmallIntegerField(_("posts"), default=1)
    opened_on = models.DateField(_("opened on"), default=timezone.localdate)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.OPEN)
    policy = models.ForeignKey(PolicyDocument, verbose_name=_("policy"), on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(Staff, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("competition")
        verbose_name_plural = _("competitions")
        ordering = ["-opened_on", "-id"]

    def __str__(self) -> str:
        return self.title


class Applicant(models.Model):
    """A person competing in a posting, with the marks of the written test and of each panelist.

    ``written_marks`` is ``{category code: mark}``; ``panel_marks`` is ``{panelist: mark}``. The scores are what
    the engine computed from them, with its explanation in ``explain`` (``{"zh": {...}, "en": {...}}``).
    """

    class Status(models.TextChoices):
        APPLIED = "applied", _("Applied")
        REFUSED = "refused", _("Does not meet the conditions")
        SCORED = "scored", _("Scored")
        APPOINTED = "appointed", _("Appointed")

    posting = models.ForeignKey(Posting, on_delete=models.CASCADE, related_name="applicants")
    name = models.CharField(_("name"), max_length=50)
    birth_date = models.DateField(_("birth date"))
    education = models.CharField(_("education"), max_length=24)
    clean_record = models.BooleanField(_("clean disciplinary record"), default=True)
    prior_cm_years = models.DecimalField(_("earlier CM years"), max_digits=4, decimal_places=1, default=0)
    staff = models.ForeignKey(
        Staff, verbose_name=_("staff member"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.APPLIED)
    conditions_ok = models.BooleanField(_("meets the conditions"), default=False)
    written_marks = models.JSONField(default=dict, blank=True)
    panel_marks = models.JSONField(default=dict, blank=True)
    written = models.DecimalField(_("written points"), null=True, blank=True, **SCORE)
    interview = models.DecimalField(_("interview points"), null=True, blank=True, **SCORE)
    combined = models.DecimalField(_("combined score"), null=True, blank=True, **SCORE)
    rank = models.PositiveSmallIntegerField(_("rank"), null=True, blank=True)
    tied = models.BooleanField(default=False)
    explain = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("applicant")
        verbose_name_plural = _("applicants")
        ordering = ["posting", "rank", "id"]

    def __str__(self) -> str:
        return self.name


# --------------------------------------------------------------------------------------------------------------
# Grading rounds (三级九档)


class GradingRound(models.Model):
    """One grading round of a company, from opening to the grades taking effect."""

    class Status(models.TextChoices):
        OPEN = "open", _("Collecting scores")
        CLOSED = "closed", _("Scores closed")
        PUBLISHED = "published", _("Published for objections")
        APPROVED = "approved", _("Approved, in effect")

    company = models.ForeignKey(OrgUnit, verbose_name=_("company"), on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("name"), max_length=120)
    held_on = models.DateField(_("round date"))
    policy = models.ForeignKey(PolicyDocument, verbose_name=_("policy"), on_delete=models.PROTECT, related_name="+")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    published_on = models.DateField(_("published on"), null=True, blank=True)
    approved_on = models.DateField(_("approved on"), null=True, blank=True)
    approved_by = models.ForeignKey(Staff, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    effective_month = models.DateField(_("effective month"), null=True, blank=True)
    created_by = models.ForeignKey(Staff, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("grading round")
        verbose_name_plural = _("grading rounds")
        ordering = ["-held_on", "-id"]

    def __str__(self) -> str:
        return self.name


class RoundEntry(models.Model):
    """One CM in one round: his exam mark and, once computed, the engine's result (scores, proposal, lines)."""

    round = models.ForeignKey(GradingRound, on_delete=models.CASCADE, related_name="entries")
    staff = models.ForeignKey(Staff, verbose_name=_("customer manager"), on_delete=models.PROTECT, related_name="+")
    exam_mark = models.DecimalField(_("exam paper mark"), null=True, blank=True, **SCORE)
    status = models.CharField(_("status"), max_length=12, default="incomplete")
    eligible = models.BooleanField(default=True)
    basic = models.DecimalField(_("basic conditions"), null=True, blank=True, **SCORE)
    exam = models.DecimalField(_("exam"), null=True, blank=True, **SCORE)
    review = models.DecimalField(_("review"), null=True, blank=True, **SCORE)
    total = models.DecimalField(_("total"), null=True, blank=True, **SCORE)
    level = models.CharField(_("proposed level"), max_length=16, blank=True)
    tier = models.CharField(_("proposed tier"), max_length=4, blank=True)
    result = models.JSONField(default=dict, blank=True)  # {"zh": GradingResult.as_dict("zh"), "en": ...}

    class Meta:
        verbose_name = _("round entry")
        verbose_name_plural = _("round entries")
        ordering = ["round", "staff__employee_no"]
        constraints = [models.UniqueConstraint(fields=["round", "staff"], name="round_entry_unique")]

    def __str__(self) -> str:
        return f"{self.round_id}/{self.staff_id}"


class ReviewForm(models.Model):
    """One filled-in review form (评议表) for one CM by one reviewer of one of the four groups."""

    entry = models.ForeignKey(RoundEntry, on_delete=models.CASCADE, related_name="reviews")
    group = models.CharField(_("reviewer group"), max_length=16)
    reviewer = models.CharField(_("reviewer"), max_length=60, blank=True)
    items = models.JSONField(default=dict, blank=True)
    score = models.DecimalField(_("score"), **SCORE)
    entered_by = models.ForeignKey(Staff, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    entered_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("review form")
        verbose_name_plural = _("review forms")
        ordering = ["entry", "group", "id"]

    def __str__(self) -> str:
        return f"{self.entry_id} {self.group} {self.score}"


class Objection(models.Model):
    """An objection to a published total, and the committee's recheck with its recorded outcome."""

    class Outcome(models.TextChoices):
        PENDING = "pending", _("Waiting for recheck")
        UPHELD = "upheld", _("Upheld, score corrected")
        REJECTED = "rejected", _("Rejected, score stands")

    entry = models.ForeignKey(RoundEntry, on_delete=models.CASCADE, related_name="objections")
    filed_by = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="+")
    filed_on = models.DateField(_("filed on"))
    reason = models.CharField(_("reason"), max_length=500)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices, default=Outcome.PENDING)
    note = models.CharField(_("recheck note"), max_length=500, blank=True)
    total_before = models.DecimalField(null=True, blank=True, **SCORE)
    total_after = models.DecimalField(null=True, blank=True, **SCORE)
    decided_by = models.ForeignKey(Staff, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("objection")
        verbose_name_plural = _("objections")
        ordering = ["-filed_on", "-id"]

    def __str__(self) -> str:
        return f"{self.entry_id} {self.outcome}"


class GradeHistory(models.Model):
    """A grade a CM holds from ``effective`` (first day of a month) until a later row replaces it."""

    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="grade_history")
    level = models.CharField(_("level"), max_length=16)
    tier = models.CharField(_("tier"), max_length=4)
    effective = models.DateField(_("effective month"))
    round = models.ForeignKey(GradingRound, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    approved_by = models.ForeignKey(Staff, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("grade")
        verbose_name_plural = _("grade history")
        ordering = ["staff", "-effective", "-id"]

    def __str__(self) -> str:
        return f"{self.staff_id} {self.level}-{self.tier} {self.effective:%Y-%m}"


# --------------------------------------------------------------------------------------------------------------
# Pay


class PayRun(models.Model):
    """The computed pay of every CM of a company for one month; re-running the month replaces it (audited)."""

    company = models.ForeignKey(OrgUnit, verbose_name=_("company"), on_delete=models.PROTECT, related_name="+")
    month = models.DateField(_("month"))
    policy = models.ForeignKey(PolicyDocument, verbose_name=_("policy"), on_delete=models.PROTECT, related_name="+")
    seniority_reading = models.CharField(max_length=10)
    total = models.DecimalField(_("total"), **MONEY)
    created_by = models.ForeignKey(Staff, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("pay run")
        verbose_name_plural = _("pay runs")
        ordering = ["-month", "company"]
        constraints = [models.UniqueConstraint(fields=["company", "month"], name="pay_run_unique_month")]

    def __str__(self) -> str:
        return f"{self.company_id} {self.month:%Y-%m}"


class PaySlip(models.Model):
    run = models.ForeignKey(PayRun, on_delete=models.CASCADE, related_name="slips")
    staff = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="payslips")
    unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    staff_type = models.CharField(max_length=16)
    area = models.CharField(max_length=8)
    level = models.CharField(max_length=16)
    tier = models.CharField(max_length=4)
    paid_tier = models.CharField(max_length=4)
    grade_from = models.DateField(null=True, blank=True)
    paid = models.BooleanField(default=True)
    total = models.DecimalField(_("total"), **MONEY)
    notes = models.JSONField(default=dict, blank=True)  # {"zh": [...], "en": [...]}

    class Meta:
        verbose_name = _("payslip")
        verbose_name_plural = _("payslips")
        ordering = ["run", "staff__employee_no"]

    def __str__(self) -> str:
        return f"{self.run_id}/{self.staff_id} {self.total}"


class PayLine(models.Model):
    slip = models.ForeignKey(PaySlip, on_delete=models.CASCADE, related_name="lines")
    code = models.CharField(max_length=16)
    amount = models.DecimalField(**MONEY)
    explain = models.JSONField(default=dict, blank=True)  # {"zh": [...], "en": [...]}

    class Meta:
        ordering = ["slip", "id"]

    def __str__(self) -> str:
        return f"{self.code} {self.amount}"


class CorpsProfile(models.Model):
    """Facts about a CM that the staff record does not hold: CM work before this post (it counts for grading
    eligibility and year points). Written when a competition appoints someone; editable in the admin site."""

    staff = models.OneToOneField(Staff, on_delete=models.CASCADE, related_name="corps_profile")
    prior_cm_years = models.DecimalField(_("earlier CM years"), max_digits=4, decimal_places=1, default=0)

    class Meta:
        verbose_name = _("CM profile")
        verbose_name_plural = _("CM profiles")

    def __str__(self) -> str:
        return f"{self.staff_id}: {self.prior_cm_years}"
