from __future__ import annotations

from django.apps import AppConfig


class HockeyhubConfig(AppConfig):
    name = "hockeyhub"
    verbose_name = "HockeyHub (audit trail)"
