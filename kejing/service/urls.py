from django.urls import path

from . import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("visits/", views.visit_list, name="visit_list"),
    path("visits/plan/<int:customer_id>/", views.visit_plan, name="visit_plan"),
    path("visits/log/<int:customer_id>/", views.visit_log, name="visit_log"),
    path("visits/<int:pk>/record/", views.visit_record, name="visit_record"),
    path("visits/<int:pk>/cancel/", views.visit_cancel, name="visit_cancel"),
    path("tasks/<int:pk>/done/", views.task_done, name="task_done"),
]
