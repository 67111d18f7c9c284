from django.contrib import admin

from .models import Task, Visit


@admin.register(Visit)
class VisitAdmin(admin.ModelAdmin):
    list_display = ("customer", "cm", "planned_for", "status", "purpose", "visited_on")
    list_filter = ("status", "purpose")
    raw_id_fields = ("customer", "cm", "previous")


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = ("title", "staff", "kind", "due", "done_at")
    list_filter = ("kind",)
    raw_id_fields = ("staff", "customer")
