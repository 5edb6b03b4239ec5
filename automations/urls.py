from __future__ import annotations

from django.urls import include, path

from automations import views

# One recipe's page, its run button and its schedules, under its id (like one batch's routes).
one_recipe = [
    path("", views.recipe_detail, name="recipe"),
    path("run/", views.recipe_run, name="recipe_run"),
    path("schedules/", views.schedule_new, name="schedule_new"),
]

app_name = "automations"
urlpatterns = [
    path("", views.automation_index, name="index"),
    path("recipes/new/", views.recipe_new, name="recipe_new"),
    path("recipes/<int:pk>/", include(one_recipe)),
    path("schedules/preview/", views.schedule_preview, name="schedule_preview"),
    path("schedules/<int:pk>/toggle/", views.schedule_toggle, name="schedule_toggle"),
    path("notices/", views.notice_list, name="notices"),
    path("notices/<int:pk>/seen/", views.notice_seen, name="notice_seen"),
    path("copy/", views.copy_range, name="copy"),
]
