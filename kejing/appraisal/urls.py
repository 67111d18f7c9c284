from django.urls import path

from . import views

urlpatterns = [
    path("", views.me, name="appraisal_me"),
    path("rounds/", views.round_list, name="appraisal_rounds"),
    path("rounds/<int:pk>/", views.round_detail, name="appraisal_round"),
    path("rounds/<int:pk>/public/", views.round_public, name="appraisal_round_public"),
    path("entries/<int:pk>/", views.entry_detail, name="appraisal_entry"),
    path("entries/<int:pk>/review/", views.review_new, name="appraisal_review_new"),
    path("pay/", views.pay_sheet, name="appraisal_pay"),
    path("payslips/<int:pk>/", views.payslip_detail, name="appraisal_payslip"),
    path("kpi/", views.kpi_index, name="appraisal_kpi"),
    path("kpi/<int:staff_id>/", views.kpi_card, name="appraisal_kpi_card"),
    path("recruitment/", views.posting_list, name="appraisal_postings"),
    path("recruitment/<int:pk>/", views.posting_detail, name="appraisal_posting"),
]
