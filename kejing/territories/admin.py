from django.contrib import admin

from .models import CmBase, MonthPlan, Move, Rebalance


@admin.register(CmBase)
class CmBaseAdmin(admin.ModelAdmin):
    list_display = ("staff", "latitude", "longitude", "label")
    search_fields = ("staff__name", "staff__employee_no")
    raw_id_fields = ("staff",)


@admin.register(Rebalance)
class RebalanceAdmin(admin.ModelAdmin):
    list_display = ("unit", "created_at", "status", "policy_version", "move_penalty_km")
    list_filter = ("status",)
    exclude = ("snapshot",)
    raw_id_fields = ("unit", "job", "created_by")


@admin.register(Move)
class MoveAdmin(admin.ModelAdmin):
    list_display = ("rebalance", "customer", "from_cm", "to_cm", "km_before", "km_after", "status")
    list_filter = ("status",)
    raw_id_fields = ("rebalance", "customer", "from_cm", "to_cm", "decided_by")


@admin.register(MonthPlan)
class MonthPlanAdmin(admin.ModelAdmin):
    list_display = ("cm", "month", "visits", "created_at")
    raw_id_fields = ("cm", "created_by")
