from __future__ import annotations

from django.apps import AppConfig


class WorkoutsConfig(AppConfig):
    name = "workouts"
