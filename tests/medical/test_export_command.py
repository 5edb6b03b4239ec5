from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from hockeyhub.models import AuditEvent
from tests.factories import PlayerFactory, RestrictionFactory

pytestmark = pytest.mark.django_db


def test_medic_export_with_notes_audits_every_read(medic, team, capsys):
    RestrictionFactory(player=PlayerFactory(team=team), clinical_notes="MRI shows grade II sprain")
    call_command("medical_export", user=medic.username, notes=True, purpose="weekly review")
    out = capsys.readouterr().out
    assert "MRI shows grade II sprain" in out
    event = AuditEvent.objects.get(action=AuditEvent.Action.CLINICAL_NOTES_READ)
    assert (event.channel, event.purpose, event.actor) == ("export", "weekly review", medic)


def test_trainer_export_has_summaries_but_never_notes(trainer, team, capsys):
    RestrictionFactory(player=PlayerFactory(team=team), title="Left knee", clinical_notes="secret")
    call_command("medical_export", user=trainer.username)
    out = capsys.readouterr().out
    assert "Left knee" in out and "secret" not in out
    with pytest.raises(CommandError, match="medical staff"):
        call_command("medical_export", user=trainer.username, notes=True, purpose="curious")
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.CLINICAL_NOTES_READ).exists()


class BrokenPipe(io.StringIO):
    """An output that closes after the first line, like `| head -1`."""

    def write(self, text: str) -> int:
        if self.getvalue():
            raise BrokenPipeError(32, "Broken pipe")
        return super().write(text)


def test_notes_are_audited_before_they_leave_even_when_the_output_breaks(medic, team):
    for n in range(3):
        RestrictionFactory(player=PlayerFactory(team=team), clinical_notes=f"note {n}")
    out = BrokenPipe()
    with pytest.raises(CommandError, match="output broke"):
        call_command("medical_export", user=medic.username, notes=True, purpose="review", stdout=out)
    assert AuditEvent.objects.filter(action=AuditEvent.Action.CLINICAL_NOTES_READ).count() == 3
