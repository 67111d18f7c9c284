"""Admin views of the appraisal records: read mostly; rounds and pay are changed through the pages (audited)."""

from django.contrib import admin

from .models import CorpsProfile, GradeHistory, GradingRound, Objection, PayRun, Posting, RoundEntry


@admin.register(GradingRound)
class GradingRoundAdmin(admin.ModelAdmin):
    list_display = ("name", "company", "held_on", "status", "policy", "effective_month")
    list_filter = ("status",)


@admin.register(RoundEntry)
class RoundEntryAdmin(admin.ModelAdmin):
    list_display = ("round", "staff", "status", "total", "level", "tier")
    list_select_related = ("round", "staff")
    readonly_fields = ("result",)


@admin.register(Objection)
class ObjectionAdmin(admin.ModelAdmin):
    list_display = ("entry", "filed_on", "outcome", "total_before", "total_after")


@admin.register(GradeHistory)
class GradeHistoryAdmin(admin.ModelAdmin):
    list_display = ("staff", "level", "tier", "effective", "round")
    list_select_related = ("staff", "round")


@admin.register(PayRun)
class PayRunAdmin(admin.ModelAdmin):
    list_display = ("company", "month", "total", "seniority_reading", "created_at")


@admin.register(Posting)
class PostingAdmin(admin.ModelAdmin):
    list_display = ("title", "company", "opened_on", "status")


@admin.register(CorpsProfile)
class CorpsProfileAdmin(admin.ModelAdmin):
    list_display = ("staff", "prior_cm_years")
