from django.urls import path

from . import views

urlpatterns = [
    path("", views.team, name="team"),
    path("reassign/", views.reassign, name="reassign"),
]
