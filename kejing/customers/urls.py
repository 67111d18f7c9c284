from django.urls import path

from . import views

urlpatterns = [
    path("", views.customer_list, name="customer_list"),
    path("export/", views.customer_export, name="customer_export"),
    path("new/", views.customer_new, name="customer_new"),
    path("import/", views.customer_import, name="customer_import"),
    path("review/", views.type_review, name="type_review"),
    path("approvals/", views.approvals, name="approvals"),
    path("approvals/<int:pk>/decide/", views.decide, name="decide"),
    path("requests/<int:pk>/withdraw/", views.withdraw, name="withdraw"),
    path("<int:pk>/", views.customer_detail, name="customer_detail"),
    path("<int:pk>/edit/", views.customer_edit, name="customer_edit"),
    path("<int:pk>/contacts/add/", views.contact_add, name="contact_add"),
    path("<int:pk>/compliance/add/", views.compliance_add, name="compliance_add"),
]
