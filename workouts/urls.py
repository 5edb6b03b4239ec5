from __future__ import annotations

from django.urls import path

from workouts import views

app_name = "workouts"
urlpatterns = [
    path("", views.workout_list, name="list"),
    path("selection/", views.workout_select, name="select"),
    path("calendar/", views.workout_calendar, name="calendar"),
    path("<int:workout_id>/", views.workout_detail, name="detail"),
]
