"""The workout domain's limits and defaults, declared once.

The models' validators, the rulebook (`workouts.rules`), the calendar, the batch executors and the
exchange models (`batch.exchange.data`) import them; nothing else spells these numbers.
"""

from __future__ import annotations

import datetime as dt

# A player's load on a workout or an exercise, in % (of 1RM or of max effort).
MAX_LOAD_PERCENT = 150
DEFAULT_LOAD_PERCENT = 100
# A workout with a start and no end (or a template without a duration) lasts this long.
DEFAULT_DURATION = dt.timedelta(hours=1)
DEFAULT_DURATION_MINUTES = 60
DEFAULT_INTENSITY = 60
# An exercise's prescription when a request leaves it out.
DEFAULT_SETS = 3
DEFAULT_REST_SECONDS = 60
# What UPDATE may change (model field names; the exchange format's camelCase names map onto them), and
# which of those move the workout (they go through the calendar and the move rule).
UPDATABLE_FIELDS = (
    "name",
    "type",
    "status",
    "scheduled_start",
    "scheduled_end",
    "facility",
    "notes",
    "intensity",
)
MOVE_FIELDS = ("scheduled_start", "scheduled_end", "facility")
