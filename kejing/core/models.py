"""Shared records: loaded policy documents, the audit trail, API tokens and background jobs."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class PolicyDocument(models.Model):
    """One version of one policy file, as loaded into the database (editable by an administrator)."""

    industry = models.CharField(_("industry"), max_length=16)
    name = models.CharField(_("name"), max_length=64)
    version = models.CharField(_("version"), max_length=32)
    effective_from = models.DateField(_("effective from"))
    title = models.CharField(_("title"), max_length=200)
    data = models.JSONField(_("data"))
    source_file = models.CharField(_("source file"), max_length=300, blank=True)
    loaded_at = models.DateTimeField(_("loaded at"), default=timezone.now)

    class Meta:
        verbose_name = _("policy document")
        verbose_name_plural = _("policy documents")
        constraints = [models.UniqueConstraint(fields=["industry", "name", "version"], name="policy_unique_version")]
        ordering = ["industry", "name", "-effective_from", "-version"]

    def __str__(self) -> str:
        return f"{self.industry}/{self.name} {self.version}"


class AuditLog(models.Model):
    """Who changed what, when, from which value to which, and who approved it.

    One row per change of one object; ``changes`` maps field name to ``[before, after]``. ``customer`` is set
    whenever the change concerns a customer so that a customer's history is one indexed query.
    """

    at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    action = models.CharField(_("action"), max_length=32)
    model = models.CharField(_("model"), max_length=64)
    object_pk = models.CharField(_("object"), max_length=64)
    customer = models.ForeignKey(
        "customers.Customer",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="audit_entries",
        verbose_name=_("customer"),
    )
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("audit record")
        verbose_name_plural = _("audit records")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["model", "object_pk"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.model}#{self.object_pk}"


def _hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiTokenManager(models.Manager):
    def issue(self, user, name: str = "api") -> tuple[ApiToken, str]:
        """Create a token and return it with its raw value; only the hash is stored."""
        raw = secrets.token_urlsafe(32)
        return self.create(user=user, key_hash=_hash_token(raw), name=name), raw

    def for_raw(self, raw: str) -> ApiToken | None:
        return self.select_related("user").filter(key_hash=_hash_token(raw), revoked=False).first()


class ApiToken(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=64, default="api")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked = models.BooleanField(default=False)

    objects = ApiTokenManager()

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.user} / {self.name}"


class Job(models.Model):
    """A long-running piece of work (an import, later a forecast run) with visible progress."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    kind = models.CharField(_("kind"), max_length=32)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.QUEUED)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    message = models.CharField(max_length=300, blank=True)
    params = models.JSONField(default=dict, blank=True)
    result = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("job")
        verbose_name_plural = _("jobs")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.status})"

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return int(100 * self.done / self.total) if self.total else 0

    def progress(self, done: int, total: int | None = None, message: str = "") -> None:
        """Record progress; written with ``update`` so a long transaction elsewhere never holds it back."""
        self.done = done
        if total is not None:
            self.total = total
        if message:
            self.message = message
        Job.objects.filter(pk=self.pk).update(done=self.done, total=self.total, message=self.message)
