from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TerritoriesConfig(AppConfig):
    name = "kejing.territories"
    label = "territories"
    verbose_name = _("Territories and routes")
    # Menu entries for the header: (url name, label, who sees it: "all" | "cm" | "manager" | "admin" | a role).
    nav_items: list[tuple[str, str, str]] = [
        ("territory_index", _("Territories"), "manager"),
        ("territory_route_mine", _("My route"), "cm"),
    ]
