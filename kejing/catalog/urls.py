from django.urls import path

from . import views

urlpatterns = [
    path("", views.product_list, name="catalog_products"),
    path("products/<str:code>/", views.product_detail, name="catalog_product"),
    path("quotes/", views.quote_list, name="catalog_quotes"),
    path("quotes/export/", views.quote_export, name="catalog_quote_export"),
    path("quotes/new/", views.quote_new, name="catalog_quote_new"),
    path("quotes/<int:pk>/", views.quote_detail, name="catalog_quote"),
    path("quotes/<int:pk>/lines/", views.quote_add_line, name="catalog_quote_add_line"),
    path("quotes/<int:pk>/lines/<int:line_pk>/delete/", views.quote_remove_line, name="catalog_quote_remove_line"),
    path("quotes/<int:pk>/delete/", views.quote_delete, name="catalog_quote_delete"),
    path("quotes/<int:pk>/pdf/", views.quote_pdf, name="catalog_quote_pdf"),
    path("quotes/<int:pk>/xlsx/", views.quote_xlsx, name="catalog_quote_xlsx"),
]
