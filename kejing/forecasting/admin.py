from django.contrib import admin

from kejing.core import audit

from .models import (
    Comment,
    Feedback,
    ForecastLine,
    KeyCustomer,
    LedgerEntry,
    Round,
    ShopKey,
    Spec,
    Submission,
    Supply,
    WeeklyReport,
)


@admin.register(Spec)
class SpecAdmin(admin.ModelAdmin):
    """The catalogue as an administrator sees it; a change here is audited like one on the catalogue page."""

    list_display = ("code", "brand", "name", "price_class", "price", "launched", "discontinued")
    list_filter = ("price_class", "brand")
    search_fields = ("code", "name", "brand")

    def save_model(self, request, obj, form, change):
        fields = form.changed_data
        before = {f: form.initial.get(f) for f in fields} if change else {}
        super().save_model(request, obj, form, change)
        changes = {f: [before.get(f), getattr(obj, f)] for f in fields}
        if changes:
            audit.record(
                actor=request.user,
                action="spec_update" if change else "spec_create",
                obj=obj,
                changes=changes,
                note="admin",
            )


@admin.register(LedgerEntry)
class LedgerAdmin(admin.ModelAdmin):
    list_display = ("customer", "spec", "month", "demand", "supplied", "sold", "stock", "allocated")
    list_filter = ("month",)
    raw_id_fields = ("customer",)
    search_fields = ("customer__code", "customer__name")


@admin.register(Round)
class RoundAdmin(admin.ModelAdmin):
    list_display = ("target", "model_ran_at", "model_name", "balanced_at")


@admin.register(ForecastLine)
class LineAdmin(admin.ModelAdmin):
    list_display = (
        "round",
        "customer",
        "spec",
        "model_qty",
        "self_qty",
        "cm_qty",
        "merged_qty",
        "source",
        "balanced_qty",
    )
    list_filter = ("round", "source")
    raw_id_fields = ("customer", "cm", "unit")
    # figures are written through the services (locks, audit); the admin only reads them
    readonly_fields = ("model_qty", "self_qty", "cm_qty", "merged_qty", "source", "balanced_qty")


@admin.register(ShopKey)
class ShopKeyAdmin(admin.ModelAdmin):
    list_display = ("customer", "name", "created_at", "last_used_at", "revoked")
    raw_id_fields = ("customer",)
    readonly_fields = ("key_hash",)


for model in (Submission, KeyCustomer, Comment, Supply, WeeklyReport, Feedback):
    admin.site.register(model)
