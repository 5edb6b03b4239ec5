"""Medical restrictions on players. Clinical notes are sensitive: medics and staff only."""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q

from hockeyhub.fields import user_link
from hockeyhub.models import Timestamped
from workouts.models import Exercise, Player

# What a restriction restricts: the fields the compliance rules judge by. Reads for the rules, the
# summary trainers see and the automations' "did it change" fingerprint all start from this list.
RULE_FIELDS = (
    "severity",
    "body_parts",
    "movement_patterns",
    "exercise_categories",
    "max_exertion",
    "no_contact",
    "requires_supervision",
    "effective_date",
    "expiry_date",
)


class MedicalRestriction(Timestamped):
    class Severity(models.TextChoices):
        MILD = "mild"
        MODERATE = "moderate"
        SEVERE = "severe"
        COMPLETE = "complete", "Complete (no training)"

    class Status(models.TextChoices):
        ACTIVE = "active"
        PENDING = "pending", "Pending review"
        EXPIRED = "expired"
        CLEARED = "cleared"

    player = models.ForeignKey(Player, on_delete=models.CASCADE, related_name="restrictions")
    title = models.CharField(
        max_length=120, help_text="Short summary trainers may see, e.g. 'Left knee sprain'"
    )
    severity = models.CharField(max_length=10, choices=Severity.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE, db_index=True)
    body_parts = ArrayField(
        models.CharField(max_length=20, choices=Exercise.BodyPart.choices), default=list, blank=True
    )
    movement_patterns = ArrayField(
        models.CharField(max_length=20, choices=Exercise.Pattern.choices), default=list, blank=True
    )
    exercise_categories = ArrayField(
        models.CharField(max_length=20, choices=Exercise.Category.choices), default=list, blank=True
    )
    max_exertion = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(100)], help_text="Highest allowed intensity %"
    )
    requires_supervision = models.BooleanField(default=False)
    no_contact = models.BooleanField(default=False)
    effective_date = models.DateField()
    expiry_date = models.DateField(null=True, blank=True)
    clinical_notes = models.TextField(blank=True)
    prescribed_by = user_link()

    class Meta:
        ordering = ["player", "-effective_date"]
        indexes = [models.Index(fields=["player", "status"], name="restriction_player_status_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(expiry_date__isnull=True) | Q(expiry_date__gte=models.F("effective_date")),
                name="restriction_expiry_after_effective",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.player}: {self.title} ({self.severity})"
