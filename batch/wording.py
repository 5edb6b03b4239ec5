"""Plain words for people: a batch's outcome, its counts, and each item's problem and next step.

The engine reports codes, ids and option names (for the exchange format and logs); the screens, the
CSV and the notices say the same things with workout names and the labels the screens use. One set of
counts is used everywhere: succeeded, failed, conflicts, skipped, cancelled.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from batch.models import Batch, BatchItem

# The conflict strategies (batch.exchange.CONFLICT_STRATEGIES) in the words of the modal's "If it clashes
# with another booking" choice (OptionsForm), the dry run and the engine's messages.
STRATEGY_LABELS = {
    "SKIP": "Skip it",
    "OVERRIDE": "Take over the other booking",
    "ADJUST_TIME": "Move to the next free time",
    "FIND_ALTERNATIVE": "Find another facility or day",
    "FAIL": "Count it as failed",
}

ITEM_STATUS_LABELS = {
    BatchItem.Status.SUCCEEDED: "Done",
    BatchItem.Status.FAILED: "Failed",
    BatchItem.Status.CONFLICT: "Edited since",
    BatchItem.Status.SKIPPED: "Skipped",
    BatchItem.Status.CANCELLED: "Not run (cancelled)",
    BatchItem.Status.PENDING: "Waiting",
    BatchItem.Status.RUNNING: "Running",
}

# What went wrong, in a few words, by error code (and conflict kind where it matters).
HEADLINES = {
    "VALIDATION_ERROR": "Not possible",
    "NOT_FOUND": "No longer exists",
    "PERMISSION_DENIED": "Not allowed",
    "CONFLICT": "Clashes with another booking",
    "BUSY_TIME": "Clashes with a game or booking",
    "VERSION_CONFLICT": "Edited by someone else since",
    "MEDICAL_RESTRICTION": "Medical restriction",
    "DEPENDENCY_FAILED": "Not run: an earlier step failed",
    "STOPPED_ON_ERROR": "Not run: the batch stopped at the first error",
    "CANCELLED": "Not run: the batch was cancelled",
    "TRANSIENT_ERROR": "The database stayed busy",
    "INTERNAL_ERROR": "Unexpected error",
    "NOT_UNDOABLE": "Cannot be undone",
}
CONFLICT_HEADLINES = {
    "VERSION": "Edited by someone else since",
    "DELETED": "Deleted since",
    "EXISTS": "Assigned again since",
    "IN_USE": "In use since",
}


def headline(error: dict[str, Any] | None) -> str:
    if not error:
        return ""
    kind = (error.get("details") or {}).get("conflict")
    if error.get("code") == "CONFLICT" and kind in CONFLICT_HEADLINES:
        return CONFLICT_HEADLINES[kind]
    return HEADLINES.get(error.get("code", ""), "Problem")


# Engineering phrases in engine messages, and what people call them.
_REWRITES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\s*\(version \d+\s*(?:→|->)\s*\d+\)"), ""),
    (re.compile(r"\s*\(version \d+, expected \d+\)"), ""),
    (re.compile(r"is at version \d+, the update expected \d+"), "was edited after you selected it"),
    (re.compile(r"changed since version \d+"), "was edited since you selected it"),
    (re.compile(r"workouts\.workouttemplate \d+"), "the template"),
    (re.compile(r"workouts\.assignment \d+"), "the assignment"),
    (re.compile(r"workouts\.workout \d+"), "the workout"),
    # A booking is named already ("Busy (workout 57) ..."); its id adds nothing on screen.
    (re.compile(r" \(workout \d+\)"), ""),
    (re.compile(r"\(permanent: false\)"), "(without “Delete permanently”)"),
    (re.compile(r"\(ARCHIVE with restore: true\)"), "(Archive / restore → Restore from archive)"),
    (re.compile(r"Leave it out of workoutIds\."), "Leave it out of the selection."),
    (re.compile(r"dependency '([^']+)' ended (\w+)"), "a step it depends on did not succeed"),
    (re.compile(r"\b(stopOnError|rollbackOnError) is on"), "the batch stops at the first error"),
)
_STRATEGY_PHRASE = re.compile(r"conflictResolution ((?:[A-Z_]+(?:, | or )?)+)")
_WORKOUT_ID = re.compile(r"\bworkout (\d+)\b")
_PLAYER_ID = re.compile(r"\bplayer (\d+)\b")


def _strategies(match: re.Match[str]) -> str:
    names = re.findall(r"[A-Z_]+", match.group(1))
    labels = [f"“{STRATEGY_LABELS.get(n, n.lower())}”" for n in names]
    joined = labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " or " + labels[-1]
    return f"“If it clashes with another booking” set to {joined}"


def plain(text: str, *, workouts: dict[int, str] | None = None, players: dict[int, str] | None = None) -> str:
    """Return an engine message in plain words: names for ids, labels for option values."""
    if not text:
        return ""
    for pattern, replacement in _REWRITES:
        text = pattern.sub(replacement, text)
    text = _STRATEGY_PHRASE.sub(_strategies, text)
    if workouts:
        text = _WORKOUT_ID.sub(
            lambda m: f"“{workouts[int(m.group(1))]}”" if int(m.group(1)) in workouts else m.group(0), text
        )
    if players:
        text = _PLAYER_ID.sub(lambda m: players.get(int(m.group(1)), m.group(0)), text)
    text = _WORKOUT_ID.sub("the workout", text)
    text = _ISO_DAY.sub(_day, text)
    return text[:1].upper() + text[1:]


# The engine's messages name days as ISO dates (stable for API clients and logs); a page says "Mon 21
# Dec 2026", as the club reads a calendar.
_ISO_DAY = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")


def _day(match: re.Match[str]) -> str:
    try:
        day = dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return match.group(0)
    return human_day(day)


def human_day(day: dt.date) -> str:
    """A day as pages name it: "Mon 21 Dec 2026" (the force-undo preview and plain() share it)."""
    return f"{day:%a} {day.day} {day:%b} {day.year}"


def suggestion(error: dict[str, Any] | None, *, offers: set[str], **names: Any) -> str:
    """Return the next step for an item, naming only what the screen offers (see batch_offers).

    offers: "retry" (Retry failed), "force_undo" (Force undo with a preview), "undo", "resume".
    """
    if not error:
        return ""
    code = error.get("code", "")
    action = error.get("suggestedAction") or ""
    conflict = (error.get("details") or {}).get("conflict")
    if code == "CONFLICT" and conflict in ("VERSION", "EXISTS", "IN_USE") and "force" in action:
        if "force_undo" in offers:
            return "Review what “Force undo” would overwrite, then force it — or leave it as it is."
        return "Leave it as it is, or ask the batch’s owner to force the undo."
    if "etry the failed items" in action or code in (
        "TRANSIENT_ERROR",
        "DEPENDENCY_FAILED",
        "STOPPED_ON_ERROR",
    ):
        if "retry" in offers:
            return "Use “Retry failed” to run it again."
        if "resume" in offers:
            return "Use “Resume” to run what did not run."
        return ""
    if code == "CANCELLED":
        if "resume" in offers:
            return "Use “Resume” to run what did not run."
        if "retry" in offers:
            return "Use “Retry failed” to run it."
        return ""
    return plain(action, **names)


@dataclass(frozen=True)
class Outcome:
    """How a finished batch went, for the banner, the history and the notices."""

    label: str
    tone: str  # ok, warn, error, neutral
    sentence: str


def counts_sentence(batch: Batch) -> str:
    """'3 succeeded, 1 failed, 2 cancelled of 6' — zero counts other than succeeded left out."""
    parts = [f"{batch.succeeded} succeeded"]
    for n, word in (
        (batch.failed, "failed"),
        (batch.conflicted, "conflict" if batch.conflicted == 1 else "conflicts"),
        (batch.skipped, "skipped"),
        (batch.cancelled, "cancelled"),
    ):
        if n:
            parts.append(f"{n} {word}")
    sentence = ", ".join(parts) + f" of {batch.total_items}"
    if has_warnings(batch):
        sentence += f" ({batch.warned} with warnings)"
    return sentence


def has_warnings(batch: Batch) -> bool:
    """Whether items of the batch ended with a warning: players left out or taken off, occurrences or
    copies skipped, a clash handled. An undo's notes (forced, already gone) are its outcome, not news."""
    return bool(batch.warned) and batch.kind != Batch.Kind.UNDO


def batch_outcome(batch: Batch) -> Outcome:
    """Return the outcome of a batch in plain words; "Completed" only when every item succeeded without
    a warning. The one rule the banner, the history, the notices and the CSV ask."""
    sentence = counts_sentence(batch)
    if not batch.is_final:
        return Outcome(batch.get_status_display(), "neutral", sentence)
    problems = batch.failed + batch.conflicted
    status = batch.status
    if status == Batch.Status.UNDONE:
        return Outcome("Undone", "neutral", sentence)
    if status == Batch.Status.ROLLED_BACK:
        return Outcome("Rolled back after an error", "error", sentence)
    if status == Batch.Status.CANCELLED:
        label = "Cancelled" if batch.succeeded else "Cancelled — nothing changed"
        return Outcome(label, "warn", sentence)
    if batch.kind == Batch.Kind.UNDO:
        if problems:
            what = _problem_words(batch)
            label = f"Undo failed: {what}" if not batch.succeeded else f"Undo incomplete: {what}"
            return Outcome(label, "error", sentence)
        if batch.skipped:
            return Outcome("Undone, except what cannot be undone", "warn", sentence)
        return Outcome("Undo completed", "ok", sentence)
    if (batch.error or {}).get("undo"):
        # An undo ran and left some changes as they were (edited since): neither done nor undone.
        return Outcome("Partly undone", "warn", sentence)
    if batch.total_items and not batch.succeeded:
        return Outcome("Nothing changed", "error", sentence)
    if problems or batch.skipped:
        return Outcome("Completed with errors", "warn", sentence)
    if has_warnings(batch):
        # Partial by design (a player left out, a date skipped): done, but not what was asked for.
        return Outcome("Completed with warnings", "warn", sentence)
    return Outcome("Completed", "ok", sentence)


def _problem_words(batch: Batch) -> str:
    parts = []
    if batch.conflicted:
        parts.append(f"{batch.conflicted} conflict{'s' if batch.conflicted != 1 else ''}")
    if batch.failed:
        parts.append(f"{batch.failed} failed")
    return ", ".join(parts)


# What became of each part of a series or a set of copies, as the screens say it.
PART_OUTCOMES = {"moved": "Scheduled", "created": "Created", "skipped": "Skipped"}


def part_rows(parts: list[dict[str, Any]] | None, *, workouts: dict[int, str] | None = None) -> list[dict]:
    """Return each part (occurrence or copy) as its day, its outcome in a word and, if dropped, why.

    Only items with more than one part get rows: a single occurrence is the item itself.
    """
    if not parts or len(parts) < 2:
        return []
    rows = []
    for part in parts:
        try:
            day = dt.date.fromisoformat(str(part.get("date", "")))
        except ValueError:
            day = None
        outcome = str(part.get("outcome", ""))
        rows.append(
            {
                "day": day,
                "outcome": outcome,
                "label": PART_OUTCOMES.get(outcome, outcome.capitalize()),
                "reason": plain(part.get("reason", ""), workouts=workouts),
            }
        )
    return rows


# Item warnings by code: what a trainer should notice about an item that ran (or will run) in part.
WARNING_HEADLINES = {
    "PLAYERS_LEFT_OUT": "Players left out (medical restriction)",
    "PARTS_SKIPPED": "Some dates skipped",
    "MEDICAL_MODIFIED": "Modified for a medical restriction",
    "JUDGED_WHEN_RUN": "Checked when it runs",
    "CONFLICT_FACILITY": "Clash handled",
    "CONFLICT_PLAYER": "Clash handled",
    "CONFLICT_HOURS": "Clash handled",
    "CONFLICT_LOAD": "Clash handled",
    "CONFLICT_BUSY": "Clash handled",
}
# Operations that judge the players already on a workout: whom they leave out, they take off.
TAKES_OFF = {"UPDATE", "SCHEDULE"}
_LEFT_OUT_OF = re.compile(r"\b(will be )?left out( of)?\b")


def warning_kind(op_type: str, warning: dict[str, Any]) -> str:
    """The headline a warning is grouped under: "Players taken off (medical restriction)" for an edit
    or a move that takes blocked players off a workout they were on."""
    code = str(warning.get("code", ""))
    if code == "PLAYERS_LEFT_OUT" and op_type in TAKES_OFF:
        return "Players taken off (medical restriction)"
    if code.startswith("CONFLICT_"):
        return "Clash handled"
    return WARNING_HEADLINES.get(code, "Note")


def warning_text(op_type: str, warning: dict[str, Any], **names: Any) -> str:
    """A warning's message in plain words; an edit's left-out players are said to be taken off."""
    text = plain(str(warning.get("message", "")), **names)
    if warning.get("code") == "PLAYERS_LEFT_OUT" and op_type in TAKES_OFF:
        text = _LEFT_OUT_OF.sub(lambda m: "will be taken off" if m.group(1) else "taken off", text)
    return text


def item_problem(
    op_type: str, error: dict[str, Any] | None, warnings: list[dict[str, Any]] | None, **names: Any
) -> tuple[str, str]:
    """(problem, message) of an item for the CSV and the results: its error, else its warnings — a
    succeeded item with players left out or dates skipped has a problem to read too."""
    if error:
        return headline(error), plain(error.get("message", ""), **names)
    if not warnings:
        return "", ""
    kinds = list(dict.fromkeys(warning_kind(op_type, w) for w in warnings))
    return "; ".join(kinds), " ".join(warning_text(op_type, w, **names) for w in warnings)


def problem_kinds(counts: list[tuple[str, str, str, int]]) -> list[dict[str, Any]]:
    """What went wrong or only in part, by kind, most first: [{label, items, tone}] from
    batch.selectors.problem_counts. Failures and conflicts are red, skips and warnings amber."""
    kinds: dict[str, dict[str, Any]] = {}
    for status, op_type, code, n in counts:
        if status == BatchItem.Status.SUCCEEDED:
            label, tone = warning_kind(op_type, {"code": code}), "warn"
        else:
            label = headline({"code": code}) if code else ITEM_STATUS_LABELS.get(status, status)
            tone = {"FAILED": "error", "CONFLICT": "error", "CANCELLED": "neutral"}.get(status, "warn")
        kind = kinds.setdefault(label, {"label": label, "items": 0, "tone": tone})
        kind["items"] += n
        if tone == "error":
            kind["tone"] = "error"
    order = {"error": 0, "warn": 1, "neutral": 2}
    return sorted(kinds.values(), key=lambda k: (order[k["tone"]], -k["items"], k["label"]))
