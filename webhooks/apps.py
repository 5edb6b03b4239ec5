from __future__ import annotations

from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Webhooks"

    def ready(self) -> None:
        from hockeyhub.reconcile import RECONCILE_HOOKS
        from webhooks.services import webhook_deliveries_recover

        # The worker pool's reconciler also queues due deliveries found in the delivery log.
        if webhook_deliveries_recover not in RECONCILE_HOOKS:
            RECONCILE_HOOKS.append(webhook_deliveries_recover)
