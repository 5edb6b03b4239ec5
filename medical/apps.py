from __future__ import annotations

from django.apps import AppConfig


class MedicalConfig(AppConfig):
    name = "medical"
