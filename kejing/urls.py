from django.contrib import admin
from django.urls import include, path

from kejing.api import api

urlpatterns = [
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
