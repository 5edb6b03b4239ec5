from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo club behind `manage.py seed_demo` (may import every app; nothing imports it)."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "demo"
