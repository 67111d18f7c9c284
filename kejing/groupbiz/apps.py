from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GroupbizConfig(AppConfig):
    name = "kejing.groupbiz"
    label = "groupbiz"
    verbose_name = _("Group customers")
    # Menu entries for the header: (url name, label, who sees it: "all" | "cm" | "manager" | "admin" | a role).
    # Only staff of these industries see the module's menu entries.
    industries = ("telecom",)
    nav_items: list[tuple[str, str, str]] = [("groupbiz_ecs", _("Group customers"), "all")]
