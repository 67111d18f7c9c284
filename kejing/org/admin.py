from django import forms
from django.contrib import admin
from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.utils.translation import gettext_lazy as _

from kejing.core import audit

from .models import OrgUnit, Staff


class StaffCreationForm(forms.ModelForm):
    """Create the login together with the staff record; the initial password must be changed at first login."""

    username = forms.CharField(label=_("Username"), max_length=150)
    initial_password = forms.CharField(
        label=_("Initial password"),
        widget=forms.PasswordInput,
        help_text=_("The person must change it at first login."),
    )

    class Meta:
        model = Staff
        fields = (
            "employee_no",
            "name",
            "unit",
            "role",
            "phone",
            "employment_type",
            "hire_date",
            "cm_start_date",
            "education",
            "major",
            "major_is_economics",
            "certificates",
            "active",
        )

    def clean_username(self) -> str:
        name = self.cleaned_data["username"].strip()
        if User.objects.filter(username=name).exists():
            raise forms.ValidationError(_("This username is taken."))
        return name

    def clean_initial_password(self) -> str:
        pw = self.cleaned_data["initial_password"]
        validate_password(pw)
        return pw


@admin.register(OrgUnit)
class OrgUnitAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "industry", "area", "parent")
    list_filter = ("industry", "kind", "area")
    search_fields = ("code", "name")


@admin.register(Staff)
class StaffAdmin(admin.ModelAdmin):
    """New accounts keep ``must_change_password`` set, so a default password is changed at first login."""

    list_display = ("employee_no", "name", "role", "unit", "employment_type", "active", "must_change_password")
    list_filter = ("role", "employment_type", "unit__industry", "active")
    search_fields = ("employee_no", "name", "user__username")
    autocomplete_fields = ("unit",)
    raw_id_fields = ("user",)

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = StaffCreationForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return [
                "username",
                "initial_password",
                *[
                    f
                    for f in super().get_fields(request, obj)
                    if f not in ("user", "must_change_password", "username", "initial_password")
                ],
            ]
        return super().get_fields(request, obj)

    def save_model(self, request, obj, form, change):
        if not change:
            user = User.objects.create_user(
                username=form.cleaned_data["username"],
                password=form.cleaned_data["initial_password"],
                first_name=obj.name,
            )
            obj.user = user
            obj.must_change_password = True
        fields = [f for f in form.changed_data if f not in ("username", "initial_password")]
        before = audit.snapshot(Staff.objects.get(pk=obj.pk), fields) if change else {}
        super().save_model(request, obj, form, change)
        after = audit.snapshot(obj, fields)
        audit.record(
            actor=request.user,
            action="update" if change else "create",
            obj=obj,
            changes=audit.diff(before, after),
            note="admin",
        )
