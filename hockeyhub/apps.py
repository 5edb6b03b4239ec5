from __future__ import annotations

from django.apps import AppConfig


class HockeyhubConfig(AppConfig):
    name = "hockeyhub"
    verbose_name = "HockeyHub (audit trail)"

    def ready(self) -> None:
        from hockeyhub import checks, signals  # noqa: F401 - registers the checks, connects the receivers
