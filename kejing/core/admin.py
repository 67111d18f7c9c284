from django import forms
from django.contrib import admin

from .models import ApiToken, AuditLog, Job, PolicyDocument
from .policies import problems


class PolicyDocumentForm(forms.ModelForm):
    """The admin's form: a document whose words the module reading it does not know is refused on save, with
    what is wrong, instead of failing later on every page that reads it."""

    class Meta:
        model = PolicyDocument
        fields = ("industry", "name", "version", "effective_from", "title", "data", "source_file", "loaded_at")

    def clean(self):
        data = super().clean()
        if isinstance(data.get("data"), dict):
            found = problems(data.get("name", ""), data["data"])
            if found:
                self.add_error("data", "; ".join(found))
        return data


@admin.register(PolicyDocument)
class PolicyDocumentAdmin(admin.ModelAdmin):
    form = PolicyDocumentForm
    list_display = ("industry", "name", "version", "effective_from", "title", "loaded_at")
    list_filter = ("industry", "name")


@admin.register(AuditLog)
class AuditLogAdmin(admin.ModelAdmin):
    """Read-only: the trail is written by the services, never edited by hand."""

    list_display = ("at", "actor", "action", "model", "object_pk", "approved_by", "note")
    list_filter = ("action", "model")
    search_fields = ("object_pk", "note")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("user", "name", "created_at", "last_used_at", "revoked")
    readonly_fields = ("key_hash",)


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ("kind", "status", "created_by", "created_at", "done", "total")
