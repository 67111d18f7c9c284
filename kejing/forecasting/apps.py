from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ForecastingConfig(AppConfig):
    name = "kejing.forecasting"
    label = "forecasting"
    verbose_name = _("Forecasting")
    # Menu entries for the header: (url name, label, who sees it: "all" | "cm" | "manager" | "admin" | a role).
    # Only staff of these industries see the module's menu entries.
    industries = ("tobacco",)
    # Checks of a policy document of these names before it is saved or loaded (kejing.core.policies.problems).
    policy_checks = {
        "forecasting": "kejing.forecasting.services.check_policy",
        "cigarettes": "kejing.forecasting.spec_catalogue.check_policy",
    }
    nav_items: list[tuple[str, str, str]] = [
        ("forecasting:home", _("Monthly cycle"), "cm"),
        ("forecasting:home", _("Forecasts"), "manager"),
        ("forecasting:reports", _("Accuracy"), "manager"),
    ]
