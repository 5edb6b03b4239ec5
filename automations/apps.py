from __future__ import annotations

from django.apps import AppConfig


class AutomationsConfig(AppConfig):
    name = "automations"
    verbose_name = "Automations"

    def ready(self) -> None:
        # medical must not import automations: the reaction to a restriction is connected from here.
        from django.db.models.signals import post_save

        from automations.triggers import player_saved, restriction_saved
        from medical.models import MedicalRestriction
        from workouts.models import Player

        post_save.connect(
            restriction_saved, sender=MedicalRestriction, dispatch_uid="automations.restriction_saved"
        )
        post_save.connect(player_saved, sender=Player, dispatch_uid="automations.player_saved")
