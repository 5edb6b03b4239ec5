from __future__ import annotations

from django.apps import AppConfig


class CalendarsConfig(AppConfig):
    name = "calendars"
    verbose_name = "Calendars"

    def ready(self) -> None:
        # The calendar rules (workouts/calendar.py) learn busy time through their provider registry.
        from calendars.selectors import busy_provider
        from workouts.calendar import register_busy_provider

        register_busy_provider(busy_provider)
