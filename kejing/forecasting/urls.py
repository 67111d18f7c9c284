from django.urls import path

from . import views

app_name = "forecasting"

urlpatterns = [
    path("", views.home, name="home"),
    path("open/", views.open_current, name="open"),
    path("entry/", views.entry, name="entry"),
    path("entry/<int:customer_id>/", views.entry_customer, name="entry_customer"),
    path("key/", views.key_customers, name="key"),
    path("submit/", views.submit, name="submit"),
    path("consolidation/", views.consolidation, name="consolidation"),
    path("comment/", views.comment, name="comment"),
    path("model/", views.model_run, name="model_run"),
    path("model/check/", views.model_check, name="model_check"),
    path("model/check/<int:job_id>/export/", views.model_check_export, name="model_check_export"),
    path("model/file/", views.forecast_file, name="forecast_file"),
    path("model/file/<int:job_id>/download/", views.forecast_file_download, name="forecast_file_download"),
    path("supply/", views.supply, name="supply"),
    path("balance/", views.balance, name="balance"),
    path("supply/limits/", views.limits, name="limits"),
    path("feedback/", views.feedback, name="feedback"),
    path("feedback/<int:customer_id>/", views.feedback_customer, name="feedback_customer"),
    path("ledger/", views.ledger, name="ledger"),
    path("ledger/import/", views.ledger_import, name="ledger_import"),
    path("shops/<int:customer_id>/keys/", views.shop_keys, name="shop_keys"),
    path("reports/", views.reports, name="reports"),
    path("meeting/", views.meeting, name="meeting"),
    path("weekly/", views.weekly, name="weekly"),
    path("special/", views.special_orders, name="special"),
    path("specs/", views.specs, name="specs"),
    path("specs/new/", views.spec_detail, name="spec_new"),
    path("specs/<int:spec_id>/", views.spec_detail, name="spec_detail"),
    path("survey/", views.survey, name="survey"),
    path("survey/<int:customer_id>/", views.survey_customer, name="survey_customer"),
]
