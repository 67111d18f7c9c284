"""Org units and staff.

The tree uses a materialised path (``/T/T-D01/T-D01-M1/``) so "everything under this unit" is one indexed
``startswith`` filter on any database; unit codes are therefore fixed once created.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _


class Industry(models.TextChoices):
    TOBACCO = "tobacco", _("Tobacco retail")
    TELECOM = "telecom", _("Telecom enterprise")
    BANK = "bank", _("Corporate bank")


class OrgUnit(models.Model):
    class Kind(models.TextChoices):
        COMPANY = "company", _("Company")
        DEPARTMENT = "department", _("Department")
        MARKET = "market", _("Market area")
        UNIT = "unit", _("Region unit")

    class Area(models.TextChoices):
        URBAN = "urban", _("Urban")
        RURAL = "rural", _("Rural")

    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    industry = models.CharField(_("industry"), max_length=16, choices=Industry.choices)
    area = models.CharField(_("area type"), max_length=8, choices=Area.choices, default=Area.URBAN)
    path = models.CharField(max_length=400, db_index=True, editable=False)
    depth = models.PositiveSmallIntegerField(default=0, editable=False)

    class Meta:
        verbose_name = _("org unit")
        verbose_name_plural = _("org units")
        ordering = ["path"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        if self.parent_id:
            parent = self.parent
            self.path = f"{parent.path}{self.code}/"
            self.depth = parent.depth + 1
            self.industry = parent.industry
        else:
            self.path = f"/{self.code}/"
            self.depth = 0
        super().save(*args, **kwargs)

    def clean(self) -> None:
        if self.parent_id is None and self.kind != self.Kind.COMPANY:
            raise ValidationError({"parent": _("Only a company may stand at the top of the tree.")})
        if self.parent_id and self.parent.industry != self.industry:
            raise ValidationError({"industry": _("A unit belongs to the industry of its parent.")})
        if self.pk:
            old = OrgUnit.objects.filter(pk=self.pk).values_list("code", flat=True).first()
            if old and old != self.code:
                raise ValidationError({"code": _("A unit code cannot change once created.")})

    def company(self) -> OrgUnit:
        code = self.path.strip("/").split("/")[0]
        return self if self.code == code else OrgUnit.objects.get(code=code)

    def subtree(self) -> models.QuerySet[OrgUnit]:
        return OrgUnit.objects.filter(path__startswith=self.path)


class Role(models.TextChoices):
    CM = "cm", _("Customer manager")
    MARKET_MANAGER = "market_manager", _("Market manager")
    DEPT_HEAD = "dept_head", _("Department head")
    CENTER = "center", _("Marketing center")
    COMMITTEE = "committee", _("Evaluation committee")
    TRAINER = "trainer", _("Trainer")
    MONOPOLY = "monopoly", _("Monopoly-affairs officer")
    ADMIN = "admin", _("Administrator")


MANAGER_ROLES = {Role.MARKET_MANAGER, Role.DEPT_HEAD, Role.CENTER, Role.ADMIN}


class Staff(models.Model):
    """A person of the company, linked to a login. Carries what grading and pay will need later."""

    class Employment(models.TextChoices):
        FORMAL = "formal", _("Formal staff")
        CONTRACT = "contract", _("Contract staff")

    class Education(models.TextChoices):
        HIGH_SCHOOL = "high_school", _("High school")
        VOCATIONAL = "vocational", _("Vocational (secondary)")
        COLLEGE = "college", _("College")
        BACHELOR = "bachelor", _("Bachelor")
        MASTER = "master", _("Master or above")

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff")
    employee_no = models.CharField(_("employee no."), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=50)
    unit = models.ForeignKey(OrgUnit, verbose_name=_("org unit"), on_delete=models.PROTECT, related_name="staff")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    employment_type = models.CharField(
        _("employment type"), max_length=10, choices=Employment.choices, default=Employment.FORMAL
    )
    hire_date = models.DateField(_("hire date"), null=True, blank=True)
    cm_start_date = models.DateField(_("CM since"), null=True, blank=True)
    education = models.CharField(_("education"), max_length=16, choices=Education.choices, blank=True)
    major = models.CharField(_("major"), max_length=60, blank=True)
    major_is_economics = models.BooleanField(_("major matches (economics)"), default=False)
    # [{"kind": "economics"|"marketer", "level": "junior"|"intermediate"|"senior", "obtained": "2024-05-01"}]
    certificates = models.JSONField(_("certificates"), default=list, blank=True)
    must_change_password = models.BooleanField(
        _("must change password"),
        default=True,
        help_text=_("Set for accounts created with a default password: the first login goes to the password form."),
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("staff member")
        verbose_name_plural = _("staff")
        ordering = ["unit__path", "employee_no"]

    def __str__(self) -> str:
        return f"{self.name} ({self.employee_no})"

    @property
    def industry(self) -> str:
        return self.unit.industry

    @property
    def is_cm(self) -> bool:
        return self.role == Role.CM

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN or self.user.is_superuser
