from django.contrib import admin

from .models import FAQ, CatalogLoad, Package, Product, Quote, QuoteLine


class PackageInline(admin.StackedInline):
    model = Package
    extra = 0
    fields = (
        ("code", "name", "group", "position", "active"),
        "fees",
        "allowances",
        "rates",
        "rate_units",
        "meter_caps",
        "cap",
        "limits",
        "features",
        "zone",
        "note",
    )


class FAQInline(admin.TabularInline):
    model = FAQ
    extra = 0


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    """Rows come from the catalog policy files (``kejing catalog load``); an edit here lasts until a new file
    version is loaded. For a lasting tariff change, amend the policy document and reload."""

    list_display = ("code", "name", "category", "status", "sla_standard", "active", "policy_version")
    list_filter = ("category", "status", "active")
    search_fields = ("code", "name", "name_en", "name_initials")
    readonly_fields = ("name_initials", "name_pinyin", "policy_name", "policy_version")
    inlines = [PackageInline, FAQInline]


@admin.register(Package)
class PackageAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "product", "group", "active")
    list_filter = ("product__category", "active")
    search_fields = ("code", "name", "product__name")


@admin.register(CatalogLoad)
class CatalogLoadAdmin(admin.ModelAdmin):
    list_display = ("at", "versions", "counts")
    readonly_fields = ("at", "signature", "versions", "counts")


class QuoteLineInline(admin.TabularInline):
    model = QuoteLine
    extra = 0
    readonly_fields = ("product", "package_names", "monthly", "one_time", "opening_date")
    fields = readonly_fields
    can_delete = False


@admin.register(Quote)
class QuoteAdmin(admin.ModelAdmin):
    """Quotes are written through the pages (audited); the admin site only reads them."""

    list_display = ("id", "customer", "title", "monthly_total", "created_by", "created_at")
    search_fields = ("customer__name", "title")
    raw_id_fields = ("customer",)
    readonly_fields = ("customer", "created_by", "created_at", "monthly_total", "one_time_total")
    inlines = [QuoteLineInline]

    def has_add_permission(self, request) -> bool:
        return False
