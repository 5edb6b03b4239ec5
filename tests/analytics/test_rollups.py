"""Every batch figure the dashboard and API show equals the same figure computed from the rows.

Batches are written at instants around both DST changes and a year end, for two teams; the roll-ups are
rebuilt from the rows and read through the selectors, for one team (a trainer's view) and for the whole
club (staff), over ranges that start or end on those edges.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict

import pytest
from django.core.management import call_command

from analytics.models import BatchErrorRollup, BatchRollup, BatchTypeRollup
from analytics.selectors import batch_errors, batch_series, batch_summary, batch_types
from analytics.services import rollups_rebuild
from batch.models import Batch, BatchItem
from tests.analytics.conftest import batches_in, local_day, percentile

RANGES = [
    (dt.date(2026, 3, 1), dt.date(2027, 1, 31)),  # everything
    (dt.date(2026, 3, 29), dt.date(2026, 3, 29)),  # the 23-hour day
    (dt.date(2026, 3, 28), dt.date(2026, 3, 30)),  # across spring-forward into the next ISO week
    (dt.date(2026, 10, 25), dt.date(2026, 10, 25)),  # the 25-hour day
    (dt.date(2026, 12, 31), dt.date(2026, 12, 31)),  # New Year's Eve only
    (dt.date(2026, 12, 30), dt.date(2027, 1, 4)),  # across the year end and ISO week 53 -> 1
]
CASES = [(scope, first, last) for scope in ("team", "staff") for first, last in RANGES]
ITEM_STATUSES = {
    "succeeded": BatchItem.Status.SUCCEEDED,
    "failed": BatchItem.Status.FAILED,
    "skipped": BatchItem.Status.SKIPPED,
    "cancelled": BatchItem.Status.CANCELLED,
    "conflicted": BatchItem.Status.CONFLICT,
}
OUTCOMES = {
    "completed": {Batch.Status.COMPLETED},
    "with_errors": {Batch.Status.COMPLETED_WITH_ERRORS},
    "failed_batches": {Batch.Status.FAILED},
    "cancelled_batches": {Batch.Status.CANCELLED},
    "undone_batches": {Batch.Status.UNDONE, Batch.Status.ROLLED_BACK},
}


def scopes(club):
    return {"team": [club.hawks.pk], "staff": [club.hawks.pk, club.lynx.pk]}


def items_of(batches):
    return list(BatchItem.objects.filter(batch__in=batches).order_by("pk"))


def followed(batch, field):
    return Batch.objects.filter(**{field: batch}).exists()


def approx(value, expected):
    if expected is None:
        return value is None
    return value == pytest.approx(expected, rel=1e-9, abs=1e-9)


@pytest.fixture
def rebuilt(club):
    rollups_rebuild()
    return club


def test_rebuild_writes_one_roll_up_per_finished_batch_and_type(rebuilt):
    batches = list(Batch.objects.all())
    assert BatchRollup.objects.count() == len(batches)
    pairs = set(BatchItem.objects.values_list("batch_id", "type").distinct())
    assert set(BatchTypeRollup.objects.values_list("batch_id", "type")) == pairs
    assert (
        sum(BatchErrorRollup.objects.values_list("count", flat=True))
        == BatchItem.objects.filter(error__isnull=False).count()
    )


def test_summary_matches_the_rows(rebuilt):
    for scope, first, last in CASES:
        check_summary(rebuilt, scope, first, last)


def check_summary(rebuilt, scope, first, last):
    team_ids = scopes(rebuilt)[scope]
    batches = batches_in(team_ids, first, last)
    items = items_of(batches)
    got = batch_summary(team_ids=team_ids, first=first, last=last)
    assert got.batches == len(batches)
    assert got.items == len(items) == sum(b.total_items for b in batches)
    for name, status in ITEM_STATUSES.items():
        assert getattr(got, name) == sum(1 for i in items if i.status == status), name
    auto = [b for b in batches if b.source == "automation"]
    assert got.automated_batches == len(auto)
    assert got.automated_items == sum(b.total_items for b in auto)
    assert got.manual_batches == len(batches) - len(auto)
    assert got.retried_batches == sum(followed(b, "retry_of") for b in batches)
    assert got.undone_batches == sum(followed(b, "undo_of") for b in batches)
    durations = [(b.finished_at - b.started_at).total_seconds() * 1000 for b in batches]
    assert approx(got.duration_p50_ms, percentile(durations, 0.5))
    assert approx(got.duration_p95_ms, percentile(durations, 0.95))
    ratios = [(b.finished_at - b.started_at).total_seconds() / b.estimate["seconds"] for b in batches]
    assert approx(got.estimate_ratio_p50, percentile(ratios, 0.5))
    assert approx(got.estimate_ratio_p95, percentile(ratios, 0.95))
    ok = sum(1 for i in items if i.status == BatchItem.Status.SUCCEEDED)
    assert got.success_rate == (round(ok / len(items), 4) if items else None)
    for name, statuses in OUTCOMES.items():
        key = {"failed_batches": "failed", "cancelled_batches": "cancelled", "undone_batches": "undone"}.get(
            name, name
        )
        assert got.outcomes[key] == sum(1 for b in batches if b.status in statuses), name


def expected_series(batches, group):
    rows: dict[str, dict] = defaultdict(Counter)
    for b in batches:
        day = local_day(b.created_at)
        items = list(b.items.all())
        if group == "type":
            keys = {i.type for i in items}
        elif group == "day":
            keys = {day.isoformat()}
        elif group == "week":
            keys = {(day - dt.timedelta(days=day.weekday())).isoformat()}
        else:
            keys = {str(b.created_by_id)}
        for key in keys:
            mine = [i for i in items if group != "type" or i.type == key]
            row = rows[key]
            row["batches"] += 1
            row["items"] += len(mine)
            for name, status in ITEM_STATUSES.items():
                row[name] += sum(1 for i in mine if i.status == status)
            for name, statuses in OUTCOMES.items():
                row[name] += b.status in statuses
    return rows


@pytest.mark.parametrize("group", ["day", "week", "type", "user"])
def test_series_match_the_rows(rebuilt, group):
    for scope, first, last in CASES:
        check_series(rebuilt, scope, first, last, group)


def check_series(rebuilt, scope, first, last, group):
    team_ids = scopes(rebuilt)[scope]
    expected = expected_series(batches_in(team_ids, first, last), group)
    got = {r.key: r for r in batch_series(team_ids=team_ids, first=first, last=last, group=group)}
    nonzero = {k: r for k, r in got.items() if r.batches}
    assert set(nonzero) == set(expected)
    for key, row in expected.items():
        for name, value in row.items():
            assert getattr(got[key], name) == value, (key, name)
    if group == "day":  # every day of the range is there, empty ones as zeros
        assert list(got) == [
            (first + dt.timedelta(days=n)).isoformat() for n in range((last - first).days + 1)
        ]


def test_per_type_durations_throughput_and_estimates_match_the_rows(rebuilt):
    for scope, first, last in CASES:
        check_types(rebuilt, scope, first, last)


def check_types(rebuilt, scope, first, last):
    team_ids = scopes(rebuilt)[scope]
    batches = batches_in(team_ids, first, last)
    per_type: dict[str, list] = defaultdict(list)  # type -> [(batch, its items of the type)]
    for b in batches:
        by_type = defaultdict(list)
        for i in b.items.all():
            by_type[i.type].append(i)
        for t, items in by_type.items():
            per_type[t].append((b, items))
    got = {r.type: r for r in batch_types(team_ids=team_ids, first=first, last=last)}
    assert set(got) == set(per_type)
    for t, pairs in per_type.items():
        row = got[t]
        items = [i for _, its in pairs for i in its]
        timed = [i for i in items if i.duration_ms is not None]
        assert row.batches == len(pairs)
        assert row.items == len(items)
        assert row.succeeded == sum(1 for i in items if i.status == BatchItem.Status.SUCCEEDED)
        assert row.timed_items == len(timed)
        work = [sum(i.duration_ms for i in its if i.duration_ms is not None) for _, its in pairs]
        counted = [
            (w, sum(1 for i in its if i.duration_ms is not None))
            for w, (_, its) in zip(work, pairs, strict=True)
        ]
        counted = [(w, n) for w, n in counted if w > 0 and n > 0]
        assert approx(row.duration_p50_ms, percentile([w for w, _ in counted], 0.5))
        assert approx(row.duration_p95_ms, percentile([w for w, _ in counted], 0.95))
        assert approx(row.throughput_p50, percentile([n * 1000 / w for w, n in counted], 0.5))
        assert approx(row.throughput_p95, percentile([n * 1000 / w for w, n in counted], 0.95))
        actual = sum(i.duration_ms for i in timed) / len(timed) if timed else None
        assert approx(row.actual_ms_per_item, actual)
        weights = [
            (b.estimate["perTypeMs"][t], sum(1 for i in its if i.duration_ms is not None)) for b, its in pairs
        ]
        total = sum(n for _, n in weights)
        assert approx(row.estimate_ms_per_item, sum(e * n for e, n in weights) / total if total else None)


def test_errors_by_code_with_actions_and_follow_ups_match_the_rows(rebuilt):
    for scope, first, last in CASES:
        check_errors(rebuilt, scope, first, last)


def check_errors(rebuilt, scope, first, last):
    team_ids = scopes(rebuilt)[scope]
    batches = batches_in(team_ids, first, last)
    failing = [i for i in items_of(batches) if i.error]
    got = {r.code: r for r in batch_errors(team_ids=team_ids, first=first, last=last)}
    codes = Counter(i.error["code"] for i in failing)
    assert {c: r.items for c, r in got.items()} == dict(codes)
    for code, row in got.items():
        with_code = {i.batch_id for i in failing if i.error["code"] == code}
        assert row.batches == len(with_code)
        assert (
            row.retried_batches
            == Batch.objects.filter(retry_of__in=with_code).values("retry_of").distinct().count()
        )
        assert (
            row.undone_batches
            == Batch.objects.filter(undo_of__in=with_code).values("undo_of").distinct().count()
        )
        # The most given action is named first, with its exact count (few distinct actions per batch).
        actions = Counter(i.error["suggestedAction"] for i in failing if i.error["code"] == code)
        top, top_n = row.actions[0]
        if top:
            assert actions[top] == top_n == max(actions.values())


def test_rebuild_of_a_range_leaves_other_days_and_purged_batches_alone(rebuilt):
    before = BatchRollup.objects.count()
    gone = Batch.objects.filter(created_at__lt=dt.datetime(2026, 4, 1, tzinfo=dt.UTC)).first()
    gone_id = gone.pk
    BatchItem.objects.filter(batch=gone).delete()
    Batch.objects.filter(pk=gone_id).delete()  # as batch_purge does after retention
    call_command("analytics_rebuild", "--from", "2026-03-01", "--to", "2026-03-31", verbosity=0)
    assert BatchRollup.objects.count() == before
    assert BatchRollup.objects.filter(batch_id=gone_id).exists()


def test_rebuild_command_refuses_a_bad_range(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="after"):
        call_command("analytics_rebuild", "--from", "2026-03-02", "--to", "2026-03-01")
    with pytest.raises(CommandError, match="not a date"):
        call_command("analytics_rebuild", "--from", "yesterday")


def test_roll_ups_outlive_the_purge_of_old_batches(rebuilt):
    from batch.purge import batch_purge

    first, last = RANGES[0]
    team_ids = [rebuilt.hawks.pk, rebuilt.lynx.pk]
    before = batch_summary(team_ids=team_ids, first=first, last=last)
    report = batch_purge(now=dt.datetime(2030, 1, 1, tzinfo=dt.UTC))  # past every retention window
    assert report.batches and not Batch.objects.exists()
    after = batch_summary(team_ids=team_ids, first=first, last=last)
    assert after == before and after.batches == len(rebuilt.batches)
    rollups_rebuild()  # nothing left to re-derive: the season stays
    assert batch_summary(team_ids=team_ids, first=first, last=last) == before
