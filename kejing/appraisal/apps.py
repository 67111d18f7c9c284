from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AppraisalConfig(AppConfig):
    name = "kejing.appraisal"
    label = "appraisal"
    verbose_name = _("Appraisal")
    # Menu entries for the header: (url name, label, who sees it: "all" | "cm" | "manager" | "admin" | a role).
    # Leadership (the marketing center) reaches the rounds it approves from the KPI page.
    nav_items: list[tuple[str, str, str]] = [
        ("appraisal_me", _("My scores and pay"), "cm"),
        ("appraisal_rounds", _("Grading"), "committee"),
        ("appraisal_pay", _("Pay"), "committee"),
        ("appraisal_postings", _("Recruitment"), "committee"),
        ("appraisal_kpi", _("KPIs"), "manager"),
    ]
