from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AppraisalConfig(AppConfig):
    name = "kejing.appraisal"
    label = "appraisal"
    verbose_name = _("Appraisal")
    # Menu entries for the header: (url name, label, who sees it: "all" | "cm" | "manager" | "admin" | a role).
    nav_items: list[tuple[str, str, str]] = []
