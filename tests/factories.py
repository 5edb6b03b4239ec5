"""factory-boy factories for every model the tests touch."""

from __future__ import annotations

import datetime as dt

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from medical.models import MedicalRestriction
from workouts.models import (
    Assignment,
    Exercise,
    Facility,
    Membership,
    Player,
    Team,
    TemplateExercise,
    Workout,
    WorkoutExercise,
    WorkoutTemplate,
)

PASSWORD = "hockeyhub"


def club_time(days: int = 1, hour: int = 10, minute: int = 0) -> dt.datetime:
    """An aware instant `days` club days from today at hour:minute club time: a slot built this way
    never crosses closing time, midnight or a DST change, whatever the hour the test runs."""
    day = timezone.localdate() + dt.timedelta(days=days)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):  # noqa: N805
        if create:
            obj.save()


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Team {n}")
    slug = factory.Sequence(lambda n: f"team-{n}")
    season = "2026-27"


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    team = factory.SubFactory(TeamFactory)
    role = Membership.Role.TRAINER


class PlayerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Player

    team = factory.SubFactory(TeamFactory)
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    jersey_number = factory.Sequence(lambda n: n % 99 + 1)
    position = Player.Position.FORWARD


class ExerciseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Exercise

    name = factory.Sequence(lambda n: f"Exercise {n}")
    category = Exercise.Category.STRENGTH
    movement_patterns = factory.LazyFunction(lambda: [Exercise.Pattern.SQUAT])
    body_parts = factory.LazyFunction(lambda: [Exercise.BodyPart.QUADRICEPS, Exercise.BodyPart.KNEE])
    intensity = 60
    contact = False


class FacilityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Facility
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Gym {n}")
    opens_at = dt.time(6, 0)
    closes_at = dt.time(22, 0)


class WorkoutFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Workout

    team = factory.SubFactory(TeamFactory)
    name = factory.Sequence(lambda n: f"Workout {n}")
    type = Workout.Type.STRENGTH
    status = Workout.Status.SCHEDULED
    scheduled_start = factory.LazyFunction(
        lambda: (timezone.now() + dt.timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)
    )
    scheduled_end = factory.LazyAttribute(
        lambda o: o.scheduled_start + dt.timedelta(hours=1) if o.scheduled_start else None
    )
    intensity = 60


class WorkoutExerciseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WorkoutExercise

    workout = factory.SubFactory(WorkoutFactory)
    exercise = factory.SubFactory(ExerciseFactory)
    order = factory.Sequence(lambda n: n)
    sets = 3
    reps = 8


class AssignmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Assignment

    workout = factory.SubFactory(WorkoutFactory)
    player = factory.SubFactory(PlayerFactory, team=factory.SelfAttribute("..workout.team"))
    load_percent = 100


class WorkoutTemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WorkoutTemplate

    team = factory.SubFactory(TeamFactory)
    name = factory.Sequence(lambda n: f"Template {n}")
    category = Workout.Type.STRENGTH


class TemplateExerciseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TemplateExercise

    template = factory.SubFactory(WorkoutTemplateFactory)
    exercise = factory.SubFactory(ExerciseFactory)
    order = factory.Sequence(lambda n: n)


class RestrictionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MedicalRestriction

    player = factory.SubFactory(PlayerFactory)
    title = "Knee sprain"
    severity = MedicalRestriction.Severity.MODERATE
    status = MedicalRestriction.Status.ACTIVE
    body_parts = factory.LazyFunction(lambda: [Exercise.BodyPart.KNEE])
    effective_date = factory.LazyFunction(lambda: timezone.localdate() - dt.timedelta(days=3))
    expiry_date = factory.LazyFunction(lambda: timezone.localdate() + dt.timedelta(days=30))
    clinical_notes = "Grade II MCL sprain; MRI 2026-11-20."
