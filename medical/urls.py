from __future__ import annotations

from django.urls import path

from medical import views

app_name = "medical"
urlpatterns = [
    path("", views.restriction_list, name="index"),
    path("restrictions/<int:pk>/", views.restriction_detail, name="detail"),
]
