from __future__ import annotations

from django.urls import path

from batch.views import controls, detail, history, modal, transfer

app_name = "batch"
urlpatterns = [
    path("", history.batch_list, name="list"),
    path("notifications/", history.batch_notifications, name="notifications"),
    path("new/<slug:op>/", modal.operation, name="operation"),
    path("<int:batch_id>/", detail.batch_detail, name="detail"),
    path("<int:batch_id>/progress/", detail.batch_progress_view, name="progress"),
    path("<int:batch_id>/cancel/", controls.batch_action, {"action": "cancel"}, name="cancel"),
    path("<int:batch_id>/undo/", controls.batch_action, {"action": "undo"}, name="undo"),
    path("<int:batch_id>/retry/", controls.batch_action, {"action": "retry"}, name="retry"),
    path(
        "<int:batch_id>/retry-skipped/",
        controls.batch_action,
        {"action": "retry_skipped"},
        name="retry_skipped",
    ),
    path("<int:batch_id>/force-undo/", controls.batch_force_undo, name="force_undo"),
    path("<int:batch_id>/resume/", controls.batch_action, {"action": "resume"}, name="resume"),
    path("<int:batch_id>/results.csv", transfer.batch_export, name="export"),
    path("<int:batch_id>/results.json", transfer.batch_results_json, name="export_json"),
    path("<int:batch_id>/definition.json", transfer.batch_definition, name="definition"),
    path("import/", transfer.batch_import, name="import"),
]
