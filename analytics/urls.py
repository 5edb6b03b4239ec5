from __future__ import annotations

from django.urls import path

from analytics import views

app_name = "analytics"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("<slug:table>.csv", views.export_csv, name="export"),
]
