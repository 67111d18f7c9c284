from django.contrib import admin

from kejing.core import audit

from .models import OrgUnit, Staff


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

    def save_model(self, request, obj, form, change):
        before = audit.snapshot(Staff.objects.get(pk=obj.pk), form.changed_data) if change else {}
        super().save_model(request, obj, form, change)
        after = audit.snapshot(obj, form.changed_data)
        audit.record(
            actor=request.user,
            action="update" if change else "create",
            obj=obj,
            changes=audit.diff(before, after),
            note="admin",
        )
