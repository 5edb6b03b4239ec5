from __future__ import annotations

from django.urls import include, path

from batch.views import controls, detail, history, modal, transfer

# One batch's page, progress, buttons and downloads, under its id. A button's route is its entry in
# `controls.ACTIONS`, named by the action and spelt with dashes in the path (retry_skipped: retry-skipped/).
one_batch = [
    path("", detail.batch_detail, name="detail"),
    path("progress/", detail.batch_progress_view, name="progress"),
    *[
        path(f"{action.replace('_', '-')}/", controls.batch_action, {"action": action}, name=action)
        for action in controls.ACTIONS
    ],
    path("force-undo/", controls.batch_force_undo, name="force_undo"),
    path("results.csv", transfer.batch_export, name="export"),
    path("results.json", transfer.batch_results_json, name="export_json"),
    path("definition.json", transfer.batch_definition, name="definition"),
]

app_name = "batch"
urlpatterns = [
    path("", history.batch_list, name="list"),
    path("notifications/", history.batch_notifications, name="notifications"),
    path("new/<slug:op>/", modal.operation, name="operation"),
    path("<int:batch_id>/", include(one_batch)),
    path("import/", transfer.batch_import, name="import"),
]
