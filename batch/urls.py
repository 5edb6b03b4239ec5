from __future__ import annotations

from django.urls import path

from batch import transfer_views, views

app_name = "batch"
urlpatterns = [
    path("", views.batch_list, name="list"),
    path("notifications/", views.batch_notifications, name="notifications"),
    path("new/<slug:op>/", views.operation, name="operation"),
    path("<int:batch_id>/", views.batch_detail, name="detail"),
    path("<int:batch_id>/progress/", views.batch_progress_view, name="progress"),
    path("<int:batch_id>/cancel/", views.batch_cancel_view, name="cancel"),
    path("<int:batch_id>/undo/", views.batch_undo_view, name="undo"),
    path("<int:batch_id>/retry/", views.batch_retry_view, name="retry"),
    path("<int:batch_id>/force-undo/", views.batch_force_undo, name="force_undo"),
    path("<int:batch_id>/resume/", views.batch_resume_view, name="resume"),
    path("<int:batch_id>/results.csv", views.batch_export, name="export"),
    path("<int:batch_id>/results.json", transfer_views.batch_results_json, name="export_json"),
    path("<int:batch_id>/definition.json", transfer_views.batch_definition, name="definition"),
    path("import/", transfer_views.batch_import, name="import"),
]
