"""Roll-ups of finished batches: one compact row per batch, per batch and type, per batch/type/error code.

Written only by analytics.services (at batch finish, and by `analytics_rebuild`); read only through
analytics.selectors. Team, user, local day and ISO week are copied onto every row so that a dashboard
query filters and groups one table on its own index, never a join to items. A club's million items
are some tens of thousands of these rows; percentiles come from the per-batch rows with
percentile_cont. Roll-ups keep the batch's id, not a foreign key: they outlive `batch_purge`, which
deletes finished batches after BATCH_RESULT_RETENTION_DAYS, so a season stays on the dashboard.
"""

from __future__ import annotations

from django.db import models

from batch.models import ItemOutcomeCounts
from hockeyhub.fields import team_link, user_link

# The item outcomes a roll-up counts, each a column of BatchRollup and BatchTypeRollup.
ITEM_FIELDS = ItemOutcomeCounts.OUTCOMES


def day_indexes(prefix: str) -> list[models.Index]:
    """The indexes a dashboard query reads a roll-up by: one team's days, and every team's."""
    return [
        models.Index(fields=["team", "day"], name=f"{prefix}_team_day_idx"),
        models.Index(fields=["day"], name=f"{prefix}_day_idx"),
    ]


class BatchRollup(ItemOutcomeCounts):
    """One finished batch: outcome, counts, wall time, estimate, and whether retry/undo followed."""

    # Not a foreign key: roll-ups outlive the batch rows, which `batch_purge` deletes after retention.
    batch_id = models.BigIntegerField(primary_key=True)
    team = team_link()
    user = user_link()
    kind = models.CharField(max_length=10)
    source = models.CharField(max_length=40, blank=True)
    automated = models.BooleanField(default=False)
    status = models.CharField(max_length=24, help_text="The batch's state when last rolled up")
    day = models.DateField(help_text="The club's local day the batch was submitted")
    week = models.DateField(help_text="Monday of `day`'s ISO week")
    created_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    total_items = models.PositiveIntegerField(default=0)
    duration_ms = models.FloatField(null=True, blank=True, help_text="started_at → finished_at")
    queue_ms = models.FloatField(null=True, blank=True, help_text="created_at → started_at")
    estimate_ms = models.FloatField(null=True, blank=True, help_text="The dry run's estimate.seconds")
    retried = models.BooleanField(default=False, help_text="A retry-failed batch of it exists")
    undone = models.BooleanField(default=False, help_text="An undo (or rollback) batch of it exists")
    resumed = models.BooleanField(default=False, help_text="A resume batch of it exists")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = day_indexes("rollup")

    def __str__(self) -> str:
        return f"Roll-up of batch {self.batch_id}"


class BatchTypeRollup(ItemOutcomeCounts):
    """One operation type within one finished batch: item outcomes, measured work time, the estimate."""

    batch_id = models.BigIntegerField()
    team = team_link()
    user = user_link()
    automated = models.BooleanField(default=False)
    status = models.CharField(max_length=24, help_text="The batch's state")
    day = models.DateField()
    week = models.DateField()
    type = models.CharField(max_length=10)
    items = models.PositiveIntegerField(default=0)
    timed_items = models.PositiveIntegerField(default=0, help_text="Items with a measured duration")
    work_ms = models.FloatField(default=0, help_text="Sum of the items' shares of their chunks' time")
    estimate_ms_per_item = models.FloatField(null=True, blank=True, help_text="estimate.perTypeMs")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["batch_id", "type"], name="type_rollup_batch_type_unique")
        ]
        indexes = day_indexes("type_rollup")

    def __str__(self) -> str:
        return f"{self.type} in batch {self.batch_id}"


class BatchErrorRollup(models.Model):
    """How many items of one type in one batch ended with one error code and suggested action.

    A batch keeps its few most frequent actions per code; the rest count under an empty action.
    """

    batch_id = models.BigIntegerField()
    team = team_link()
    user = user_link()
    day = models.DateField()
    week = models.DateField()
    type = models.CharField(max_length=10)
    code = models.CharField(max_length=40)
    suggested_action = models.CharField(max_length=300, blank=True)
    count = models.PositiveIntegerField(default=0)
    # The batch's follow-ups, copied so "how often retry or undo followed" is one grouped query.
    retried = models.BooleanField(default=False)
    undone = models.BooleanField(default=False)
    # True on one row per (batch, code): "batches with this code" is a SUM, not a COUNT(DISTINCT).
    first_of_code = models.BooleanField(default=False)

    class Meta:
        indexes = [
            models.Index(fields=["batch_id"], name="error_rollup_batch_idx"),
            *day_indexes("error_rollup"),
        ]

    def __str__(self) -> str:
        return f"{self.code} ×{self.count} in batch {self.batch_id}"
