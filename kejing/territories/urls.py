from django.urls import path

from . import views

urlpatterns = [
    path("", views.index, name="territory_index"),
    path("rebalance/<int:pk>/", views.rebalance_detail, name="territory_rebalance"),
    path("rebalance/<int:pk>/decide/", views.rebalance_decide, name="territory_decide"),
    path("rebalance/<int:pk>/export/", views.rebalance_export, name="territory_export"),
    path("plan/", views.plan_mine, name="territory_plan_mine"),
    path("plan/<int:staff_id>/", views.plan, name="territory_plan"),
    path("route/", views.route_mine, name="territory_route_mine"),
    path("route/<int:staff_id>/", views.route, name="territory_route"),
]
