"""The club's domain: teams and who works in them, the roster, the exercise library and workouts."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from hockeyhub.fields import team_link, user_link
from hockeyhub.models import Timestamped
from workouts.limits import MAX_LOAD_PERCENT


class Team(models.Model):
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=60, unique=True)
    season = models.CharField(max_length=20, help_text="e.g. 2026-27")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    class Role(models.TextChoices):
        TRAINER = "trainer", "Physical trainer"
        MEDIC = "medic", "Medical staff"
        STAFF = "staff", "Club staff"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    team = team_link("memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.TRAINER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "team"], name="membership_user_team_unique")]

    def __str__(self) -> str:
        return f"{self.user} — {self.team} ({self.role})"


class Player(models.Model):
    class Position(models.TextChoices):
        FORWARD = "F"
        DEFENCE = "D"
        GOALIE = "G"

    class Availability(models.TextChoices):
        AVAILABLE = "available"
        INJURED = "injured"
        ILLNESS = "illness"
        LOAD_MANAGEMENT = "load_management", "Load management"
        SUSPENDED = "suspended"
        PERSONAL = "personal", "Personal leave"

    team = team_link("players")
    first_name = models.CharField(max_length=60)
    last_name = models.CharField(max_length=60)
    jersey_number = models.PositiveSmallIntegerField(validators=[MaxValueValidator(99)])
    position = models.CharField(max_length=1, choices=Position.choices)
    availability = models.CharField(
        max_length=20, choices=Availability.choices, default=Availability.AVAILABLE
    )
    daily_load_limit = models.PositiveSmallIntegerField(
        default=200, help_text="Sum of assignment load % one player may carry in one day."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["last_name", "first_name"]
        constraints = [
            models.UniqueConstraint(fields=["team", "jersey_number"], name="player_team_jersey_unique"),
        ]

    def __str__(self) -> str:
        return f"#{self.jersey_number} {self.first_name} {self.last_name}"

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"


class Exercise(models.Model):
    """An entry in the club-wide exercise library."""

    class Category(models.TextChoices):
        STRENGTH = "strength"
        CONDITIONING = "conditioning"
        AGILITY = "agility"
        FLEXIBILITY = "flexibility"
        PLYOMETRICS = "plyometrics"
        CORE = "core"
        ON_ICE = "on_ice", "On-ice skill"
        RECOVERY = "recovery"
        MOBILITY = "mobility"
        POWER = "power"

    class Pattern(models.TextChoices):
        SQUAT = "squat"
        HINGE = "hinge"
        LUNGE = "lunge"
        PUSH = "push", "Horizontal push"
        PULL = "pull"
        OVERHEAD_PRESS = "overhead_press", "Overhead press"
        JUMP = "jump", "Jump / landing"
        SPRINT = "sprint"
        TWIST = "twist", "Rotation / twist"
        CARRY = "carry"
        CONTACT = "contact"
        SKATE = "skate", "Skating stride"
        STATIC = "static", "Static hold"

    class BodyPart(models.TextChoices):
        NECK = "neck"
        SHOULDER = "shoulder"
        ELBOW = "elbow"
        WRIST = "wrist", "Wrist / hand"
        CHEST = "chest"
        UPPER_BACK = "upper_back", "Upper back"
        LOWER_BACK = "lower_back", "Lower back"
        CORE = "core", "Core / abdomen"
        HIP = "hip"
        GROIN = "groin"
        HAMSTRING = "hamstring"
        QUADRICEPS = "quadriceps"
        KNEE = "knee"
        CALF = "calf"
        ANKLE = "ankle", "Ankle / foot"
        HEAD = "head"

    name = models.CharField(max_length=120, unique=True)
    category = models.CharField(max_length=20, choices=Category.choices, db_index=True)
    movement_patterns = ArrayField(
        models.CharField(max_length=20, choices=Pattern.choices), default=list, blank=True
    )
    body_parts = ArrayField(
        models.CharField(max_length=20, choices=BodyPart.choices), default=list, blank=True
    )
    intensity = models.PositiveSmallIntegerField(validators=[MinValueValidator(0), MaxValueValidator(100)])
    contact = models.BooleanField(default=False)
    equipment = ArrayField(models.CharField(max_length=40), default=list, blank=True)
    unilateral = models.BooleanField(default=False)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["category", "name"]

    def __str__(self) -> str:
        return self.name


class Facility(models.Model):
    """A bookable place (gym, rink, field) with opening hours."""

    name = models.CharField(max_length=80, unique=True)
    opens_at = models.TimeField()
    closes_at = models.TimeField()
    capacity = models.PositiveSmallIntegerField(default=30)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "facilities"

    def __str__(self) -> str:
        return self.name


class Workout(Timestamped):
    class Type(models.TextChoices):
        STRENGTH = "STRENGTH"
        CONDITIONING = "CONDITIONING"
        HYBRID = "HYBRID"
        AGILITY = "AGILITY"
        FLEXIBILITY = "FLEXIBILITY"
        RECOVERY = "RECOVERY"
        REHABILITATION = "REHABILITATION"
        POWER = "POWER"
        ON_ICE = "ON_ICE", "On-ice"

    class Status(models.TextChoices):
        DRAFT = "draft"
        SCHEDULED = "scheduled"
        COMPLETED = "completed"
        CANCELLED = "cancelled"
        ARCHIVED = "archived"

    team = team_link("workouts")
    name = models.CharField(max_length=200)
    type = models.CharField(max_length=20, choices=Type.choices, db_index=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DRAFT, db_index=True)
    scheduled_start = models.DateTimeField(null=True, blank=True, db_index=True)
    scheduled_end = models.DateTimeField(null=True, blank=True)
    facility = models.ForeignKey(
        Facility, null=True, blank=True, on_delete=models.SET_NULL, related_name="workouts"
    )
    notes = models.TextField(blank=True)
    intensity = models.PositiveSmallIntegerField(
        default=60, validators=[MinValueValidator(0), MaxValueValidator(100)], help_text="Planned exertion %"
    )
    created_by = user_link()
    template = models.ForeignKey(
        "WorkoutTemplate", null=True, blank=True, on_delete=models.SET_NULL, related_name="workouts"
    )
    source_workout = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="copies"
    )
    status_before_archive = models.CharField(max_length=12, choices=Status.choices, blank=True)
    archived_at = models.DateTimeField(null=True, blank=True)
    # Every change increments version; undo and conflict detection compare it.
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["scheduled_start", "id"]
        indexes = [
            models.Index(fields=["team", "scheduled_start"], name="workout_team_start_idx"),
            models.Index(fields=["team", "status"], name="workout_team_status_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(scheduled_end__isnull=True)
                | Q(scheduled_start__isnull=False, scheduled_end__gt=models.F("scheduled_start")),
                name="workout_end_after_start",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ExerciseLine(models.Model):
    """One exercise as a session prescribes it: a workout's, or a template's that workouts copy."""

    exercise = models.ForeignKey(Exercise, on_delete=models.PROTECT, related_name="+")
    order = models.PositiveSmallIntegerField(default=0)
    sets = models.PositiveSmallIntegerField(default=3)
    reps = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_seconds = models.PositiveIntegerField(null=True, blank=True)
    rest_seconds = models.PositiveIntegerField(default=60)

    class Meta:
        abstract = True


class WorkoutExercise(ExerciseLine):
    workout = models.ForeignKey(Workout, on_delete=models.CASCADE, related_name="workout_exercises")
    load_percent = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MaxValueValidator(MAX_LOAD_PERCENT)],
        help_text="% of 1RM or of max effort",
    )

    class Meta:
        ordering = ["workout", "order", "id"]

    def __str__(self) -> str:
        return f"{self.workout_id}: {self.exercise_id} #{self.order}"


class Assignment(Timestamped):
    class Role(models.TextChoices):
        PARTICIPANT = "participant"
        OBSERVER = "observer"
        ASSISTANT = "assistant"

    class Status(models.TextChoices):
        ASSIGNED = "assigned"
        COMPLETED = "completed"
        MISSED = "missed"
        EXCUSED = "excused"

    class Verdict(models.TextChoices):
        UNCHECKED = "unchecked", "Not checked"
        COMPLIANT = "compliant"
        MODIFIED = "modified"
        BLOCKED = "blocked", "Blocked (overridden)"

    workout = models.ForeignKey(Workout, on_delete=models.CASCADE, related_name="assignments")
    player = models.ForeignKey(Player, on_delete=models.CASCADE, related_name="assignments")
    role = models.CharField(max_length=12, choices=Role.choices, default=Role.PARTICIPANT)
    load_percent = models.PositiveSmallIntegerField(
        default=100, validators=[MaxValueValidator(MAX_LOAD_PERCENT)]
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ASSIGNED)
    medical_verdict = models.CharField(max_length=10, choices=Verdict.choices, default=Verdict.UNCHECKED)
    # Substitutions and adjustments the compliance engine required: [{exercise, replacement, reason}].
    modifications = models.JSONField(default=list, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["workout", "player"]
        constraints = [
            models.UniqueConstraint(fields=["workout", "player"], name="assignment_workout_player_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.player_id} → {self.workout_id}"


class WorkoutTemplate(models.Model):
    class Visibility(models.TextChoices):
        PRIVATE = "private", "Only me"
        TEAM = "team", "My team"
        CLUB = "club", "Whole club"

    team = team_link("templates")
    name = models.CharField(max_length=200)
    category = models.CharField(max_length=20, choices=Workout.Type.choices)
    description = models.TextField(blank=True)
    tags = ArrayField(models.CharField(max_length=40), default=list, blank=True)
    visibility = models.CharField(max_length=10, choices=Visibility.choices, default=Visibility.TEAM)
    intensity = models.PositiveSmallIntegerField(default=60, validators=[MaxValueValidator(100)])
    duration_minutes = models.PositiveSmallIntegerField(default=60)
    source_workout = models.ForeignKey(
        Workout, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source_workout_ids = ArrayField(models.BigIntegerField(), default=list, blank=True)
    usage_count = models.PositiveIntegerField(default=0)
    created_by = user_link()
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TemplateExercise(ExerciseLine):
    template = models.ForeignKey(WorkoutTemplate, on_delete=models.CASCADE, related_name="template_exercises")
    load_percent = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(MAX_LOAD_PERCENT)]
    )

    class Meta:
        ordering = ["template", "order", "id"]

    def __str__(self) -> str:
        return f"{self.template_id}: {self.exercise_id} #{self.order}"
