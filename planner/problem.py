"""The planning problem as the trainer sends it (JSON, camelCase), and its plain-words errors.

A problem names a team, a range of club days (at most four weeks) and the sessions to place; each
session says how long, how hard, who, where it may go and, optionally, on which days and between which
club times. `rules` tightens the club's rules for this plan. Nothing here reads the database: ids are
checked against the team in `planner.context`.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from batch.exchange.fields import CAMEL_KEYS
from workouts.models import Workout
from workouts.rules import DATE_MAX, DATE_MIN

MAX_DAYS = 28
MAX_SESSIONS = 100
MAX_PLAYERS = 200
STEP_MINUTES = 15
WEEKDAY_NAMES = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
HIGH_INTENSITY = 80
DEFAULT_TIME_LIMIT = 10.0
CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class PlannerProblemError(Exception):
    """The problem cannot be planned as sent; `messages` say why, one line each (a 400 answer)."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__("; ".join(messages))
        self.messages = messages


class _Model(BaseModel):
    model_config = CAMEL_KEYS


def _clock(value: Any) -> dt.time:
    if isinstance(value, str) and CLOCK.match(value):
        hours, minutes = value.split(":")
        return dt.time(int(hours), int(minutes))
    raise ValueError("must be a club time HH:MM, e.g. 07:30")


Clock = Annotated[str, Field(pattern=CLOCK.pattern, examples=["07:30"], description="Club time, HH:MM")]
Weekday = Literal["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"]
PositiveId = Annotated[int, Field(ge=1, le=2**63 - 1)]


class SessionIn(_Model):
    """One session to place."""

    name: str = Field(min_length=1, max_length=200)
    duration_minutes: int = Field(ge=STEP_MINUTES, le=12 * 60, description="Rounded up to 15 minutes.")
    intensity: int = Field(ge=0, le=100, description=f"{HIGH_INTENSITY} or more is a hard session.")
    player_ids: list[PositiveId] | Literal["squad"] = Field(
        default_factory=list,
        description='The players, or "squad" for the whole roster. A session of an existing workout '
        "defaults to the workout's players.",
    )
    facility_ids: list[PositiveId] = Field(default_factory=list, max_length=20)
    days: list[Weekday] | None = Field(default=None, description='Allowed days, e.g. ["MON", "TUE"].')
    earliest: Clock | None = Field(default=None, description="Earliest start, club time.")
    latest: Clock | None = Field(default=None, description="Latest end, club time.")
    preferred_start: Clock | None = Field(default=None, description="Soft: start as close to this as can be.")
    load_percent: int = Field(default=100, ge=0, le=150, description="Each player's load in this session.")
    type: Literal[tuple(Workout.Type.values)] | None = None  # type: ignore[valid-type]
    template_id: PositiveId | None = None
    workout_id: PositiveId | None = Field(
        default=None,
        description="An existing workout of the team to place (moved only if needed: a SCHEDULE).",
    )

    @field_validator("player_ids")
    @classmethod
    def _bounded(cls, value: Any) -> Any:
        if isinstance(value, list) and len(value) > MAX_PLAYERS:
            raise ValueError(f"at most {MAX_PLAYERS} players")
        return value

    @model_validator(mode="after")
    def _window(self) -> SessionIn:
        if self.earliest and self.latest and _clock(self.latest) <= _clock(self.earliest):
            raise ValueError("latest must be after earliest")
        if not self.facility_ids:
            raise ValueError("facilityIds must name at least one facility")
        return self

    @property
    def steps(self) -> int:
        return -(-self.duration_minutes // STEP_MINUTES)

    @property
    def is_hard(self) -> bool:
        return self.intensity >= HIGH_INTENSITY

    def clock(self, field: str) -> dt.time | None:
        value = getattr(self, field)
        return _clock(value) if value else None


class RulesIn(_Model):
    """Rules the trainer tightens for this plan (the club's own rules always apply)."""

    rest_hours_after_high_intensity: int = Field(
        default=0,
        ge=0,
        le=72,
        description=f"Hours from the end of a session of intensity {HIGH_INTENSITY}+ to the start of the "
        "next such session for the same player.",
    )
    no_hard_day_before_game: bool = Field(
        default=True, description=f"No session of intensity {HIGH_INTENSITY}+ the day before a game."
    )


class ProblemIn(_Model):
    """The week to plan."""

    team: str = Field(min_length=1, max_length=60)
    from_: dt.date = Field(alias="from")
    to: dt.date
    sessions: list[SessionIn] = Field(min_length=1, max_length=MAX_SESSIONS)
    rules: RulesIn = Field(default_factory=RulesIn)
    time_limit_seconds: float = Field(default=DEFAULT_TIME_LIMIT, gt=0, le=60)

    @model_validator(mode="after")
    def _range(self) -> ProblemIn:
        if not (DATE_MIN <= self.from_ <= DATE_MAX and DATE_MIN <= self.to <= DATE_MAX):
            raise ValueError(f"from and to must lie between {DATE_MIN} and {DATE_MAX}")
        if self.to < self.from_:
            raise ValueError("to must be on or after from")
        if (self.to - self.from_).days + 1 > MAX_DAYS:
            raise ValueError(f"a plan covers at most {MAX_DAYS} days")
        return self

    @property
    def days(self) -> list[dt.date]:
        return [self.from_ + dt.timedelta(days=n) for n in range((self.to - self.from_).days + 1)]


def _path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part not in ("function-after", "list[int]", "literal['squad']") and not str(part).startswith(
            ("function-", "list[", "literal[")
        ):
            out += f".{part}" if out else str(part)
    return out


def parse_problem(raw: Any) -> ProblemIn:
    """Return the validated problem, or raise PlannerProblemError naming every field that is wrong."""
    if not isinstance(raw, dict):
        raise PlannerProblemError(["the problem must be a JSON object with team, from, to and sessions"])
    try:
        return ProblemIn.model_validate(raw)
    except ValidationError as exc:
        messages = []
        for error in exc.errors(include_url=False):
            where = _path(tuple(error["loc"]))
            text = error["msg"].removeprefix("Value error, ")
            messages.append(f"{where}: {text}" if where else text)
        raise PlannerProblemError(list(dict.fromkeys(messages))) from None
