from __future__ import annotations

from django.apps import AppConfig


class BatchConfig(AppConfig):
    name = "batch"

    def ready(self) -> None:
        from batch import metrics
        from hockeyhub.metrics import register_source

        register_source("database", metrics.from_database)
        register_source("rq", metrics.from_rq)
