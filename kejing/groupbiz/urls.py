from django.urls import path

from . import views

urlpatterns = [
    path("", views.ecs, name="groupbiz_ecs"),
    path("numbering/", views.numbering_page, name="groupbiz_numbering"),
    path("ec/<int:pk>/", views.ec_detail, name="groupbiz_ec"),
    path("ec/<int:pk>/open/", views.open_product, name="groupbiz_open"),
    path("ec/<int:pk>/accounts/new/", views.account_new, name="groupbiz_account_new"),
    path("ec/<int:pk>/plans/", views.plan_add, name="groupbiz_plan_add"),
    path("ec/<int:pk>/members/", views.members, name="groupbiz_members"),
    path("ec/<int:pk>/members/import/", views.members_import, name="groupbiz_import"),
    path("ec/<int:pk>/bills/", views.bills, name="groupbiz_bills"),
    path("accounts/<int:pk>/", views.account_edit, name="groupbiz_account_edit"),
    path("plans/<int:pk>/remove/", views.plan_remove, name="groupbiz_plan_remove"),
    path("members/<int:pk>/remove/", views.member_remove, name="groupbiz_member_remove"),
    path("memberships/<int:pk>/remove/", views.membership_remove, name="groupbiz_membership_remove"),
    path("bills/<int:pk>/", views.bill, name="groupbiz_bill"),
    path("bills/<int:pk>/accounts/<int:account>/", views.account_bill, name="groupbiz_account_bill"),
]
