from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from kejing.api import api

urlpatterns = [
    # browsers ask for /favicon.ico on pages that name no icon (admin, API docs); answer with the app's icon
    path("favicon.ico", RedirectView.as_view(url=static("kejing/icon.svg"), permanent=True)),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("kejing.core.urls")),
    path("", include("kejing.service.urls")),
    path("customers/", include("kejing.customers.urls")),
    path("team/", include("kejing.org.urls")),
    path("appraisal/", include("kejing.appraisal.urls")),
    path("catalog/", include("kejing.catalog.urls")),
    path("groups/", include("kejing.groupbiz.urls")),
    path("forecasting/", include("kejing.forecasting.urls")),
    path("territories/", include("kejing.territories.urls")),
]

# The site's own error pages (Chinese first, with the header and a way back) instead of Django's developer text.
handler403 = "kejing.core.errors.permission_denied"
handler404 = "kejing.core.errors.page_not_found"
handler500 = "kejing.core.errors.server_error"
