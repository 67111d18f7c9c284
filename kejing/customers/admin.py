from django.contrib import admin

from kejing.core import audit

from .models import ChangeRequest, ComplianceRecord, Contact, Customer, Decision


class ContactInline(admin.TabularInline):
    model = Contact
    extra = 0


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    """Administrators may correct any field; each save is audited like a change made in the workbench."""

    list_display = ("code", "name", "industry", "unit", "cm", "status", "value_tier", "tier")
    list_filter = ("industry", "status", "value_tier")
    search_fields = ("code", "name", "name_initials", "licence_no", "ec_code", "credit_code", "phone")
    raw_id_fields = ("unit", "cm")
    inlines = [ContactInline]

    def save_model(self, request, obj, form, change):
        fields = [f for f in form.changed_data if f in {f.name for f in Customer._meta.fields}]
        before = audit.snapshot(Customer.objects.get(pk=obj.pk), fields) if change else {}
        super().save_model(request, obj, form, change)
        audit.record(
            actor=request.user,
            action="update" if change else "create",
            obj=obj,
            customer=obj,
            changes=audit.diff(before, audit.snapshot(obj, fields)),
            note="admin",
        )


class DecisionInline(admin.TabularInline):
    model = Decision
    extra = 0
    readonly_fields = ("step", "role", "staff", "approved", "comment", "at")


@admin.register(ChangeRequest)
class ChangeRequestAdmin(admin.ModelAdmin):
    list_display = ("customer", "field", "old_value", "new_value", "status", "current_role", "requested_at")
    list_filter = ("status", "field", "current_role")
    raw_id_fields = ("customer", "requested_by")
    inlines = [DecisionInline]


@admin.register(ComplianceRecord)
class ComplianceRecordAdmin(admin.ModelAdmin):
    list_display = ("customer", "date", "kind", "recorded_by")
    raw_id_fields = ("customer", "recorded_by")
