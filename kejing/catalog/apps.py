from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CatalogConfig(AppConfig):
    name = "kejing.catalog"
    label = "catalog"
    verbose_name = _("Product catalog and quotes")
    # Menu entries for the header: (url name, label, who sees it: "all" | "cm" | "manager" | "admin" | a role).
    # Only staff of these industries see the module's menu entries.
    industries = ("telecom",)
    nav_items: list[tuple[str, str, str]] = [
        ("catalog_products", _("Products"), "all"),
        ("catalog_quotes", _("Quotes"), "all"),
    ]
