"""The team calendar: who and what is booked when, and the conflicts a new or moved booking causes.

A `Calendar` is built once for many bookings from three queries — facilities, the workouts booked over
the days concerned (plus a look-ahead for finding room), and their assignments — and every booking
placed on it is added, so later ones see earlier ones. Nothing here queries after `Calendar.load`.
The batch executors put whole chunks through it; `batch/operations/calendar.py` applies a batch's
conflict strategy to what it finds.

Conflict kinds
    FACILITY_DOUBLE_BOOKED  the facility holds another workout (any team) that overlaps;
    OUTSIDE_FACILITY_HOURS  the slot starts before opening, ends after closing or spans midnight;
    PLAYER_DOUBLE_BOOKED    a player is assigned to another overlapping workout;
    DAILY_LOAD_LIMIT        the player's load % that local day would exceed `Player.daily_load_limit`;
    BUSY_TIME               busy time from outside (an imported game, an ice-time booking): a team's busy
                            period blocks every session of that team, a facility's blocks the facility.

Busy time comes from providers other apps register (`register_busy_provider`, filled by `calendars`
in its AppConfig.ready(); this module imports no app above it). `Calendar.load` asks them once and
puts each period on the calendar as a `Booking` with `busy=True` and no workout id. Nobody can
override busy time: a game does not move for a strength session.

Finding room: `next_free_same_day` (the first free slot later that day, then earlier, within the
facility's hours) and `alternative` (another free facility at the same time, else the first free day
within LOOKAHEAD_DAYS). `can_override` says which conflicts may be lifted by taking a player off the
other workout or the facility from it: never facility hours, another team's booking, or a workout
placed or changed by the same set of changes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from django.db.models import Q
from django.utils import timezone

from workouts.limits import DEFAULT_DURATION
from workouts.models import Assignment, Facility, Player, Team, Workout
from workouts.rules import Refusal, within_opening_hours

LOOKAHEAD_DAYS = 14
SLOT_STEP = dt.timedelta(minutes=15)
FACILITY = "FACILITY_DOUBLE_BOOKED"
HOURS = "OUTSIDE_FACILITY_HOURS"
PLAYER = "PLAYER_DOUBLE_BOOKED"
LOAD = "DAILY_LOAD_LIMIT"
BUSY = "BUSY_TIME"


@dataclass(frozen=True)
class BusyPeriod:
    """Time the club's other calendars hold: for a team (`team_id`) or a facility (`facility_id`)."""

    key: str
    title: str
    start: dt.datetime
    end: dt.datetime
    team_id: int | None = None
    facility_id: int | None = None
    source: str = ""  # the imported calendar's name


BusyProvider = Callable[[int | None, Collection[int] | None, dt.datetime, dt.datetime], Iterable[BusyPeriod]]
_busy_providers: list[BusyProvider] = []


def register_busy_provider(provider: BusyProvider) -> None:
    """Add a source of busy time: `provider(team_id, facility_ids, low, high)` returns the periods
    overlapping [low, high) held by that team or by those facilities (None: every facility)."""
    if provider not in _busy_providers:
        _busy_providers.append(provider)


def busy_periods(
    *, team_id: int | None, facility_ids: Collection[int] | None, low: dt.datetime, high: dt.datetime
) -> list[BusyPeriod]:
    """Return every registered provider's busy periods overlapping [low, high), by start."""
    found: list[BusyPeriod] = []
    for provider in _busy_providers:
        found.extend(provider(team_id, facility_ids, low, high))
    return sorted(found, key=lambda p: (p.start, p.key))


def local_day(value: dt.datetime) -> dt.date:
    """The club's day of a moment, in the club's zone (settings.TIME_ZONE; no request activates
    another). Not timezone.localtime(): its context-local zone lookup per call was a fifth of a 100k
    dry run."""
    return value.astimezone(timezone.get_default_timezone()).date()


def workout_day(start: dt.datetime | None, *, now: dt.datetime | None = None) -> dt.date:
    """The day of a workout, in the club's zone: its start's, or today's (`now`, default the clock's)
    while it has none. Every path that judges a workout on a day (ASSIGN, the medical gate, the
    admin, undo) asks here."""
    return local_day(start if start is not None else (now or timezone.now()))


def at(day: dt.date, time: dt.time) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, time))


@dataclass
class Booking:
    """One workout on the calendar; `workout_id` is None for one this chunk will create."""

    key: str
    workout_id: int | None
    team_id: int | None
    name: str
    start: dt.datetime
    end: dt.datetime
    facility_id: int | None
    version: int = 1
    loads: dict[int, int] = field(default_factory=dict)  # player id -> load %
    assignments: dict[int, Assignment] = field(default_factory=dict)  # existing rows, by player id
    planned: bool = False  # placed by an item of this chunk, not read from the database
    busy: bool = False  # busy time from an imported calendar (no workout; `name` is the event's title)
    source: str = ""  # for busy time: the calendar it came from

    @property
    def title(self) -> str:
        """What the booking is called: the workout's name, or the busy event's title."""
        return self.name

    def overlaps(self, start: dt.datetime, end: dt.datetime) -> bool:
        return self.start < end and start < self.end

    def days(self) -> list[dt.date]:
        first, last = local_day(self.start), local_day(self.end - dt.timedelta(microseconds=1))
        return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


@dataclass
class Slot:
    """Where and when an item wants to put a workout, and which players at which load."""

    start: dt.datetime
    end: dt.datetime
    facility_id: int | None
    loads: dict[int, int]
    key: str
    workout_id: int | None = None
    name: str = ""
    check_facility: bool = True

    def moved(self, start: dt.datetime, facility_id: int | None) -> Slot:
        return replace(self, start=start, end=start + (self.end - self.start), facility_id=facility_id)

    def describe(self, facilities: dict[int, Facility]) -> str:
        start, end = timezone.localtime(self.start), timezone.localtime(self.end)
        where = f" at {facilities[self.facility_id].name}" if self.facility_id in facilities else ""
        return f"{start:%Y-%m-%d %H:%M}–{end:%H:%M}{where}"


@dataclass
class Conflict:
    kind: str
    message: str
    booking: Booking | None = None
    player_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "message": self.message}
        if self.booking is not None and self.booking.busy:
            out["event"] = {
                "title": self.booking.name,
                "start": self.booking.start.isoformat(),
                "end": self.booking.end.isoformat(),
                "calendar": self.booking.source,
                "teamId": self.booking.team_id,
                "facilityId": self.booking.facility_id,
            }
        elif self.booking is not None:
            out["workoutId"] = self.booking.workout_id
        if self.player_id is not None:
            out["playerId"] = self.player_id
        return out


class Calendar:
    def __init__(self, *, team_id: int, facilities: dict[int, Facility], bookings: Iterable[Booking]) -> None:
        self.team_id = team_id
        self.facilities = facilities
        self.players: dict[int, Player] = {}
        self._by_day: dict[dt.date, list[Booking]] = {}
        self._by_workout: dict[int, Booking] = {}
        for booking in bookings:
            self.book(booking)

    # -- loading -----------------------------------------------------------------------------------

    @classmethod
    def load(
        cls, *, team: Team, days: Iterable[dt.date], players: dict[int, Player] | None = None
    ) -> Calendar:
        """Build the team's calendar for these local days (plus look-ahead): three queries and one per
        busy-time provider, two if no days.

        Other teams' workouts come in only for their facility (their players are not this team's).
        """
        days = sorted(set(days))
        facilities = {f.pk: f for f in Facility.objects.order_by("name")}
        bookings: list[Booking] = []
        if days:
            low = at(days[0], dt.time.min)
            high = at(days[-1] + dt.timedelta(days=LOOKAHEAD_DAYS + 1), dt.time.min)
            rows = (
                Workout.objects.filter(
                    scheduled_start__lt=high,
                    scheduled_start__gte=low - dt.timedelta(days=1),
                    archived_at__isnull=True,
                )
                .exclude(status__in=[Workout.Status.CANCELLED, Workout.Status.ARCHIVED])
                .filter(Q(team=team) | Q(facility__isnull=False))
                .values("pk", "team_id", "name", "scheduled_start", "scheduled_end", "facility_id", "version")
            )
            by_id: dict[int, Booking] = {}
            for row in rows:
                start = row["scheduled_start"]
                end = row["scheduled_end"] or start + DEFAULT_DURATION
                if end <= low:
                    continue
                by_id[row["pk"]] = Booking(
                    key=f"w:{row['pk']}",
                    workout_id=row["pk"],
                    team_id=row["team_id"],
                    name=row["name"],
                    start=start,
                    end=end,
                    facility_id=row["facility_id"],
                    version=row["version"],
                )
            own = [pk for pk, b in by_id.items() if b.team_id == team.pk]
            if own:
                for assignment in Assignment.objects.filter(workout_id__in=own):
                    booking = by_id[assignment.workout_id]
                    booking.loads[assignment.player_id] = assignment.load_percent
                    booking.assignments[assignment.player_id] = assignment
            bookings = list(by_id.values())
            for period in busy_periods(
                team_id=team.pk, facility_ids=list(facilities), low=low - dt.timedelta(days=1), high=high
            ):
                bookings.append(
                    Booking(
                        key=f"busy:{period.key}",
                        workout_id=None,
                        team_id=period.team_id,
                        name=period.title,
                        start=period.start,
                        end=period.end,
                        facility_id=period.facility_id,
                        busy=True,
                        source=period.source,
                    )
                )
        calendar = cls(team_id=team.pk, facilities=facilities, bookings=bookings)
        calendar.players.update(players or {})
        return calendar

    # -- bookkeeping -------------------------------------------------------------------------------

    def book(self, booking: Booking) -> Booking:
        for day in booking.days():
            self._by_day.setdefault(day, []).append(booking)
        if booking.workout_id is not None:
            self._by_workout[booking.workout_id] = booking
        return booking

    def book_slot(self, slot: Slot) -> Booking:
        """Put the slot on the calendar (replacing the workout's own booking, if it had one)."""
        if slot.workout_id is not None:
            self.unbook(slot.workout_id)
        return self.book(
            Booking(
                key=slot.key,
                workout_id=slot.workout_id,
                team_id=self.team_id,
                name=slot.name,
                start=slot.start,
                end=slot.end,
                facility_id=slot.facility_id,
                loads=dict(slot.loads),
                planned=True,
            )
        )

    def unbook(self, workout_id: int) -> Booking | None:
        booking = self._by_workout.pop(workout_id, None)
        if booking is not None:
            for day in booking.days():
                self._by_day[day].remove(booking)
        return booking

    def unbook_keys(self, keys: Iterable[str]) -> None:
        """Take back bookings an item made before it failed (scans the calendar; failures only)."""
        wanted = set(keys)
        if not wanted:
            return
        for day, bookings in self._by_day.items():
            self._by_day[day] = [b for b in bookings if b.key not in wanted]

    def booking_of(self, workout_id: int) -> Booking | None:
        return self._by_workout.get(workout_id)

    def on_day(self, day: dt.date) -> list[Booking]:
        return self._by_day.get(day, [])

    # -- conflicts ---------------------------------------------------------------------------------

    def conflicts(self, slot: Slot) -> list[Conflict]:
        """Return every conflict the slot would cause (no queries)."""
        found: list[Conflict] = []
        facility = self.facilities.get(slot.facility_id) if slot.facility_id else None
        if (
            slot.check_facility
            and facility is not None
            and not within_opening_hours(facility, slot.start, slot.end)
        ):
            found.append(
                Conflict(
                    HOURS,
                    f"{facility.name} is open {facility.opens_at:%H:%M}–{facility.closes_at:%H:%M}; "
                    f"{slot.describe(self.facilities)} is outside its hours",
                )
            )
        days = Booking("", None, None, "", slot.start, slot.end, None).days()
        seen: set[str] = set()
        for day in days:
            for booking in self.on_day(day):
                if booking.key in seen or booking.key == slot.key:
                    continue
                if slot.workout_id is not None and booking.workout_id == slot.workout_id:
                    continue
                seen.add(booking.key)
                if not booking.overlaps(slot.start, slot.end):
                    continue
                if booking.busy:
                    conflict = self._busy_conflict(slot, facility, booking)
                    if conflict is not None:
                        found.append(conflict)
                    continue
                if slot.check_facility and facility is not None and booking.facility_id == facility.pk:
                    found.append(
                        Conflict(
                            FACILITY,
                            f"{facility.name} is already booked by {self._label(booking)}",
                            booking=booking,
                        )
                    )
                for player_id in slot.loads:
                    if player_id in booking.loads:
                        found.append(
                            Conflict(
                                PLAYER,
                                f"{self._player(player_id)} is already booked on {self._label(booking)}",
                                booking=booking,
                                player_id=player_id,
                            )
                        )
        day = local_day(slot.start)
        for player_id, load in slot.loads.items():
            player = self.players.get(player_id)
            if player is None:
                continue
            carried = sum(
                b.loads.get(player_id, 0)
                for b in self.on_day(day)
                if b.key != slot.key and (slot.workout_id is None or b.workout_id != slot.workout_id)
            )
            if carried + load > player.daily_load_limit:
                found.append(
                    Conflict(
                        LOAD,
                        f"{player.name} would carry {carried + load}% on {day}, "
                        f"above the daily limit of {player.daily_load_limit}%",
                        player_id=player_id,
                    )
                )
        return found

    def _busy_conflict(self, slot: Slot, facility: Facility | None, booking: Booking) -> Conflict | None:
        """A team's busy period blocks any session of the team; a facility's, only a slot there."""
        when = self._when(booking)
        if (
            booking.team_id is not None
            and booking.team_id == self.team_id
            and (slot.check_facility or slot.loads)
        ):
            return Conflict(BUSY, f"the team is busy: {booking.name} {when}", booking=booking)
        if slot.check_facility and facility is not None and booking.facility_id == facility.pk:
            return Conflict(BUSY, f"{facility.name} is booked: {booking.name} {when}", booking=booking)
        return None

    def _when(self, booking: Booking) -> str:
        start, end = timezone.localtime(booking.start), timezone.localtime(booking.end)
        if start.time() == dt.time.min and end.time() == dt.time.min:
            last = end.date() - dt.timedelta(days=1)
            return (
                f"{start:%Y-%m-%d} (all day)" if last == start.date() else f"{start:%Y-%m-%d}–{last:%Y-%m-%d}"
            )
        if start.date() != end.date():
            return f"{start:%Y-%m-%d %H:%M}–{end:%Y-%m-%d %H:%M}"
        return f"{start:%Y-%m-%d %H:%M}–{end:%H:%M}"

    def _label(self, booking: Booking) -> str:
        start, end = timezone.localtime(booking.start), timezone.localtime(booking.end)
        name = booking.name if booking.team_id == self.team_id else "another team's workout"
        ident = f" (workout {booking.workout_id})" if booking.workout_id else " (planned in this batch)"
        return f"{name}{ident} {start:%Y-%m-%d %H:%M}–{end:%H:%M}"

    def _player(self, player_id: int) -> str:
        player = self.players.get(player_id)
        return player.name if player else f"player {player_id}"

    # -- finding room ------------------------------------------------------------------------------

    def _window(self, day: dt.date, facility_id: int | None) -> tuple[dt.datetime, dt.datetime]:
        facility = self.facilities.get(facility_id) if facility_id else None
        if facility is None:
            return at(day, dt.time.min), at(day + dt.timedelta(days=1), dt.time.min)
        return at(day, facility.opens_at), at(day, facility.closes_at)

    def next_free_same_day(self, slot: Slot) -> Slot | None:
        """Return the first conflict-free slot later that day (then earlier), within facility hours."""
        day = local_day(slot.start)
        opens, closes = self._window(day, slot.facility_id)
        duration = slot.end - slot.start
        candidates: set[dt.datetime] = set()
        moment = opens
        while moment + duration <= closes:
            candidates.add(moment)
            moment += SLOT_STEP
        candidates.update(b.end for b in self.on_day(day) if opens <= b.end and b.end + duration <= closes)
        candidates.discard(slot.start)
        later = sorted(c for c in candidates if c > slot.start)
        earlier = sorted((c for c in candidates if c < slot.start), reverse=True)
        for start in later + earlier:
            moved = slot.moved(start, slot.facility_id)
            if not self.conflicts(moved):
                return moved
        return None

    def alternative(self, slot: Slot) -> Slot | None:
        """Return the slot at another free facility, else on the first free day at the same time."""
        others = [pk for pk in self.facilities if pk != slot.facility_id]
        if slot.facility_id is not None:
            for facility_id in others:
                moved = slot.moved(slot.start, facility_id)
                if not self.conflicts(moved):
                    return moved
        for offset in range(1, LOOKAHEAD_DAYS + 1):
            day = local_day(slot.start) + dt.timedelta(days=offset)
            start = at(day, timezone.localtime(slot.start).time())
            for facility_id in [slot.facility_id, *others] if slot.facility_id is not None else [None]:
                moved = slot.moved(start, facility_id)
                if not self.conflicts(moved):
                    return moved
        return None

    def can_override(self, conflict: Conflict, *, changing: Collection[int] = ()) -> bool:
        """Return whether OVERRIDE may lift the conflict.

        A load-limit excess is accepted; a player is taken off this team's other workout; this team's
        workout gives up the facility — unless it is planned or changed by the same set of changes
        (`changing`: their rows are written afterwards and would put the facility straight back).
        Facility hours, other teams' bookings and busy time are never lifted.
        """
        booking = conflict.booking
        if conflict.kind == BUSY:
            return False  # a game or another system's booking never gives way
        if conflict.kind == LOAD:
            return True
        if booking is None or booking.workout_id is None or booking.team_id != self.team_id:
            return False
        if conflict.kind == PLAYER:
            return conflict.player_id in booking.assignments
        return conflict.kind == FACILITY and not booking.planned and booking.workout_id not in changing


def calendar_refusals(
    *,
    team: Team,
    workout_id: int | None,
    status: str | None,
    start: dt.datetime,
    end: dt.datetime | None,
    facility: Facility | None,
    name: str,
) -> list[Refusal]:
    """Return the calendar's conflicts for one workout (new, or saved with its players) at start–end,
    as refusals named by their conflict kind: a question asked one workout at a time (the admin's),
    in five queries. A cancelled or archived workout is off the calendar."""
    if status in (Workout.Status.CANCELLED, Workout.Status.ARCHIVED):
        return []
    loads: dict[int, int] = {}
    if workout_id is not None:
        loads = dict(
            Assignment.objects.filter(workout_id=workout_id).values_list("player_id", "load_percent")
        )
    players = Player.objects.in_bulk(list(loads)) if loads else {}
    calendar = Calendar.load(team=team, days=[local_day(start)], players=players)
    slot = Slot(
        start=start,
        end=end or start + DEFAULT_DURATION,
        facility_id=facility.pk if facility is not None else None,
        loads=loads,
        key=f"w:{workout_id}" if workout_id is not None else "new",
        workout_id=workout_id,
        name=name,
    )
    return [
        Refusal(c.message, "Pick another time or facility, or move the other workout first.", c.kind)
        for c in calendar.conflicts(slot)
    ]
