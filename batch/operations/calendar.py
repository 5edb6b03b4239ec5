"""The chunk's calendar: who and what is booked when, conflict detection and the conflict strategies.

A `Calendar` is built once per chunk (per type group) from three queries — facilities, the workouts
booked over the days the chunk touches (plus a look-ahead for FIND_ALTERNATIVE), and their
assignments — and every item booked in `check` is added to it, so later items of the same chunk see
earlier ones. Nothing here queries after `Calendar.load`.

Conflict kinds
    FACILITY_DOUBLE_BOOKED  the facility holds another workout (any team) that overlaps;
    OUTSIDE_FACILITY_HOURS  the slot starts before opening, ends after closing or spans midnight;
    PLAYER_DOUBLE_BOOKED    a player is assigned to another overlapping workout;
    DAILY_LOAD_LIMIT        the player's load % that local day would exceed `Player.daily_load_limit`.

Strategies (`conflictResolution`, per operation or per batch)
    SKIP              the item ends SKIPPED, code CONFLICT, the conflicts in `details.conflicts`;
    FAIL              the item fails, code CONFLICT;
    OVERRIDE          a player's conflicting assignment is removed (logged UNASSIGNED with its full row),
                      a same-team workout holding the facility loses the facility (logged UPDATED; the
                      row is locked at apply and must still be at the version the calendar read, else
                      the item fails with CONFLICT); a load-limit excess is accepted with a warning.
                      Facility hours, other teams' bookings and workouts this chunk itself moves or
                      changes cannot be overridden: those fail with CONFLICT;
    ADJUST_TIME       the next free slot the same local day within facility hours (later first, then
                      earlier), else CONFLICT. A load-limit excess cannot be fixed the same day;
    FIND_ALTERNATIVE  another facility free at the same time, else the first free day (same time, any
                      facility) within `LOOKAHEAD_DAYS`, else CONFLICT.
    ADJUST_TIME and FIND_ALTERNATIVE move a workout, so they apply only to operations that place one
    (CREATE, SCHEDULE, DUPLICATE, UPDATE of time or facility); for ASSIGN they end like FAIL, saying why.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from django.db import DatabaseError
from django.db.models import Q
from django.utils import timezone

from batch.errors import ErrorCode, ItemError
from batch.models import BatchChange, BatchItem
from batch.operations.base import Context, snapshot
from batch.sql import values_update_versions
from workouts.models import Assignment, Facility, Player, Workout
from workouts.rules import within_opening_hours

LOOKAHEAD_DAYS = 14
SLOT_STEP = dt.timedelta(minutes=15)
DEFAULT_DURATION = dt.timedelta(hours=1)
ASSIGNMENT_IMAGE = (
    "workout",
    "player",
    "role",
    "load_percent",
    "status",
    "medical_verdict",
    "modifications",
    "version",
)
FACILITY = "FACILITY_DOUBLE_BOOKED"
HOURS = "OUTSIDE_FACILITY_HOURS"
PLAYER = "PLAYER_DOUBLE_BOOKED"
LOAD = "DAILY_LOAD_LIMIT"
MOVING_STRATEGIES = ("ADJUST_TIME", "FIND_ALTERNATIVE")


def local_day(value: dt.datetime) -> dt.date:
    return timezone.localtime(value).date()


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
        if self.booking is not None:
            out["workoutId"] = self.booking.workout_id
        if self.player_id is not None:
            out["playerId"] = self.player_id
        return out


@dataclass
class Overrides:
    """What OVERRIDE takes away from others, written by `apply_overrides` in the item's apply."""

    unassign: list[tuple[BatchItem, Assignment]] = field(default_factory=list)
    clear_facility: list[tuple[BatchItem, Booking, int]] = field(default_factory=list)


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
        cls, ctx: Context, *, days: Iterable[dt.date], players: dict[int, Player] | None = None
    ) -> Calendar:
        """Build the calendar for these local days (plus look-ahead): three queries, two if no days."""
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
                .filter(Q(team=ctx.team) | Q(facility__isnull=False))
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
            own = [pk for pk, b in by_id.items() if b.team_id == ctx.team.pk]
            if own:
                for assignment in Assignment.objects.filter(workout_id__in=own):
                    booking = by_id[assignment.workout_id]
                    booking.loads[assignment.player_id] = assignment.load_percent
                    booking.assignments[assignment.player_id] = assignment
            bookings = list(by_id.values())
        calendar = cls(team_id=ctx.team.pk, facilities=facilities, bookings=bookings)
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


# --- the strategies ------------------------------------------------------------------------------------


def conflict_error(
    item: BatchItem, ctx: Context, conflicts: Sequence[Conflict], *, reason: str = ""
) -> ItemError:
    strategy = ctx.strategy_for(item)
    first = conflicts[0]
    message = "; ".join(c.message for c in conflicts)
    if reason:
        message = f"{message} ({reason})"
    return ItemError(
        code=ErrorCode.CONFLICT,
        message=message,
        details={
            "conflict": first.kind,
            "conflicts": [c.as_dict() for c in conflicts],
            "strategy": strategy,
        },
        recoverable=True,
        suggested_action=(
            "Pick another time or facility, or run with conflictResolution ADJUST_TIME, "
            "FIND_ALTERNATIVE or OVERRIDE."
        ),
        status="SKIPPED" if strategy == "SKIP" else "FAILED",
    )


def resolve(item: BatchItem, ctx: Context, calendar: Calendar, slot: Slot, *, movable: bool) -> Slot:
    """Apply the item's conflict strategy to the slot; book and return where it ends up.

    Raises ItemError (CONFLICT; SKIPPED under SKIP) when the strategy cannot place it. Resolved
    conflicts are noted for the dry run and kept as item warnings when the batch runs.
    """
    conflicts = calendar.conflicts(slot)
    if not conflicts:
        return _book(calendar, slot)
    strategy = ctx.strategy_for(item)
    if strategy in ("SKIP", "FAIL"):
        raise conflict_error(item, ctx, conflicts)
    if strategy in MOVING_STRATEGIES and not movable:
        raise conflict_error(
            item, ctx, conflicts, reason=f"{strategy} cannot move a workout for an assignment"
        )
    if strategy == "OVERRIDE":
        stuck = [c for c in conflicts if not _overridable(calendar, c, ctx)]
        if stuck:
            raise conflict_error(item, ctx, stuck, reason="OVERRIDE cannot lift this")
        overrides: Overrides = ctx.cache.setdefault("overrides", Overrides())
        for conflict in conflicts:
            booking = conflict.booking
            if conflict.kind == PLAYER and booking is not None:
                overrides.unassign.append((item, booking.assignments.pop(conflict.player_id)))
                booking.loads.pop(conflict.player_id, None)
                outcome = f"the player is taken off workout {booking.workout_id}"
            elif conflict.kind == FACILITY and booking is not None:
                overrides.clear_facility.append((item, booking, booking.facility_id))
                booking.facility_id = None
                outcome = f"workout {booking.workout_id} gives up the facility"
            else:
                outcome = "accepted above the daily load limit"
            _record(item, ctx, conflict, strategy, outcome)
        return _book(calendar, slot)
    moved = (
        calendar.next_free_same_day(slot)
        if strategy == "ADJUST_TIME" and not any(c.kind == LOAD for c in conflicts)
        else calendar.alternative(slot)
        if strategy == "FIND_ALTERNATIVE"
        else None
    )
    if moved is None:
        reason = (
            "no free slot the same day within the facility's hours"
            if strategy == "ADJUST_TIME"
            else f"no free facility or day within {LOOKAHEAD_DAYS} days"
        )
        raise conflict_error(item, ctx, conflicts, reason=reason)
    outcome = f"moved to {moved.describe(calendar.facilities)}"
    for conflict in conflicts:
        _record(item, ctx, conflict, strategy, outcome)
    return _book(calendar, moved)


def _overridable(calendar: Calendar, conflict: Conflict, ctx: Context) -> bool:
    booking = conflict.booking
    if conflict.kind == LOAD:
        return True
    if booking is None or booking.workout_id is None or booking.team_id != calendar.team_id:
        return False  # facility hours, a workout planned in this batch, or another team's booking
    if conflict.kind == PLAYER:
        return conflict.player_id in booking.assignments
    # The chunk writes its own workouts' rows from memory after the overrides, which would put the
    # facility straight back: a workout this chunk places or changes keeps its facility.
    return (
        conflict.kind == FACILITY
        and not booking.planned
        and booking.workout_id not in ctx.cache.get("workouts", {})
    )


def _record(item: BatchItem, ctx: Context, conflict: Conflict, strategy: str, outcome: str) -> None:
    ctx.note(item, "conflicts", {**conflict.as_dict(), "resolution": strategy, "outcome": outcome})
    if not ctx.dry_run:
        ctx.warn(item, f"{conflict.message} — {strategy}: {outcome}", code=f"CONFLICT_{conflict.kind}")


def _book(calendar: Calendar, slot: Slot) -> Slot:
    if slot.check_facility:
        calendar.book_slot(slot)
    return slot


class StaleOverride(DatabaseError):
    """A workout OVERRIDE would take a facility from changed after the calendar read it.

    A DatabaseError so the runner's bulk apply falls back to one savepoint per item; the items
    concerned are marked and then fail alone with CONFLICT (see `apply_overrides`).
    """


STALE_MARK = "_stale_override"


def stale_override_error(item: BatchItem, ctx: Context, details: dict[str, Any]) -> ItemError:
    return ItemError(
        code=ErrorCode.CONFLICT,
        message=(
            f"workout {details['workoutId']} changed while this batch ran (version "
            f"{details['expectedVersion']} → {details['currentVersion']}); OVERRIDE does not take its "
            "facility over a change it has not seen"
        ),
        details={"conflict": "VERSION", "strategy": ctx.strategy_for(item), **details},
        recoverable=True,
        suggested_action="Retry the failed items to decide again on the workout's current state.",
        status="FAILED",
    )


def lock_overridden(clear: list[tuple[BatchItem, Booking, int]]) -> dict[int, tuple[int, int | None]]:
    """Lock the workouts OVERRIDE takes a facility from; return their version and facility. One query."""
    ids = {booking.workout_id for _, booking, _ in clear}
    rows = (
        Workout.objects.filter(pk__in=ids)
        .select_for_update(of=("self",))
        .order_by("pk")
        .values_list("pk", "version", "facility_id")
    )
    return {pk: (version, facility_id) for pk, version, facility_id in rows}


def remove_assignments(ctx: Context, removals: list[tuple[Any, Assignment]]) -> None:
    """Delete (item, assignment) pairs in one statement, logging each as UNASSIGNED with its full row."""
    for item, assignment in removals:
        ctx.log_change(
            item,
            obj=assignment,
            action=BatchChange.Action.UNASSIGNED,
            before=snapshot(assignment, ASSIGNMENT_IMAGE),
        )
    Assignment.objects.filter(pk__in=[a.pk for _, a in removals]).delete()


def apply_overrides(items: Sequence[BatchItem], ctx: Context) -> None:
    """Write what OVERRIDE took from other workouts for these items: at most three statements.

    Call first in `apply`. A workout losing its facility lies outside the chunk's locked set: it is
    locked here and must still be at the version (and facility) the calendar read; if not, the
    bulk apply is abandoned (StaleOverride) and, item by item, the items concerned fail with CONFLICT.
    """
    for item in items:
        details = getattr(item, STALE_MARK, None)
        if details is not None:  # only in the runner's one-item fallback, after a StaleOverride
            raise stale_override_error(item, ctx, details)
    overrides: Overrides | None = ctx.cache.get("overrides")
    if overrides is None:
        return
    wanted = {item.op_id for item in items}
    unassign = [(i, a) for i, a in overrides.unassign if i.op_id in wanted]
    clear = [(i, b, f) for i, b, f in overrides.clear_facility if i.op_id in wanted]
    if clear:
        current = lock_overridden(clear)
        stale = False
        for item, booking, facility_id in clear:
            now = current.get(booking.workout_id)
            if now != (booking.version, facility_id):
                stale = True
                setattr(
                    item,
                    STALE_MARK,
                    {
                        "workoutId": booking.workout_id,
                        "expectedVersion": booking.version,
                        "currentVersion": now[0] if now else None,
                    },
                )
        if stale:
            raise StaleOverride("a workout losing its facility changed since the calendar read it")
    if unassign:
        remove_assignments(ctx, unassign)
    if clear:
        rows = {}
        for item, booking, facility_id in clear:
            workout = Workout(pk=booking.workout_id, facility_id=None, version=booking.version + 1)
            booking.version += 1
            ctx.log_change(
                item,
                obj=workout,
                action=BatchChange.Action.UPDATED,
                before={"facility_id": facility_id},
                after={"facility_id": None},
            )
            rows[workout.pk] = {
                "pk": workout.pk,
                "facility": None,
                "version": workout.version,
                "updated_at": ctx.now,
            }
        versions = values_update_versions(Workout, list(rows.values()), ["facility", "version", "updated_at"])
        ctx.settle_versions(Workout, versions)
