"""Quotas on new batch work: enforced in the service layer, refused clearly, audited; undo is exempt."""

from __future__ import annotations

import datetime as dt
import json
import threading

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

import hockeyhub.settings as project_settings
from batch.models import Batch
from batch.quotas import Quota, QuotaExceeded
from batch.retry import batch_retry_failed
from batch.services import batch_submit
from batch.undo import batch_undo
from hockeyhub.models import AuditEvent
from tests.factories import MembershipFactory, TeamFactory, WorkoutFactory
from workouts.models import Membership


def create_ops(n: int, prefix: str = "c") -> list[dict]:
    return [
        {
            "id": f"{prefix}{i}",
            "type": "CREATE",
            "data": {"workout": {"name": f"Q {prefix}{i}", "type": "STRENGTH"}},
        }
        for i in range(n)
    ]


def raw(n: int = 1, prefix: str = "c", **metadata) -> dict:
    return {"operations": create_ops(n, prefix), "metadata": {"source": "test", **metadata}}


def refusals(**filters) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=AuditEvent.Action.BATCH_QUOTA_REFUSED, **filters))


def test_defaults_are_the_documented_ones():
    assert project_settings.BATCH_QUOTA_ACTIVE_PER_TEAM == 5
    assert project_settings.BATCH_QUOTA_ACTIVE_PER_USER == 3
    assert project_settings.BATCH_QUOTA_OPERATIONS_PER_TEAM_PER_DAY == 200_000
    assert project_settings.BATCH_QUOTA_SUBMISSIONS_PER_USER_PER_MINUTE == 10


@pytest.mark.django_db
class TestServiceLayer:
    def test_a_team_at_its_active_cap_is_refused_audited_and_nothing_is_written(
        self, settings, trainer, medic, team
    ):
        settings.BATCH_QUOTA_ACTIVE_PER_TEAM = 2
        batch_submit(user=trainer, team=team, raw=raw(prefix="a"))
        batch_submit(user=medic, team=team, raw=raw(prefix="b"))
        with pytest.raises(QuotaExceeded) as caught:
            batch_submit(user=trainer, team=team, raw=raw(prefix="c"), channel="web")
        exc = caught.value
        assert exc.quota == Quota.ACTIVE_PER_TEAM and exc.limit == 2 and exc.current == 2
        assert "Frölunda Hawks already has 2 batches queued or running" in exc.message
        assert 5 <= exc.retry_after <= 600
        assert Batch.objects.count() == 2
        (row,) = refusals()
        assert row.actor == trainer and row.team == team and row.channel == "web"
        assert row.purpose == Quota.ACTIVE_PER_TEAM
        assert row.details["retryAfter"] == exc.retry_after and row.details["code"] == "QUOTA_EXCEEDED"

    def test_a_finished_batch_frees_its_slot(self, settings, trainer, team):
        settings.BATCH_QUOTA_ACTIVE_PER_TEAM = 1
        first = batch_submit(user=trainer, team=team, raw=raw(prefix="a"))
        with pytest.raises(QuotaExceeded):
            batch_submit(user=trainer, team=team, raw=raw(prefix="b"))
        Batch.objects.filter(pk=first.pk).update(status=Batch.Status.COMPLETED_WITH_ERRORS)
        assert batch_submit(user=trainer, team=team, raw=raw(prefix="b")).pk != first.pk

    def test_the_user_cap_counts_all_of_the_users_teams(self, settings, trainer, team):
        settings.BATCH_QUOTA_ACTIVE_PER_USER = 2
        second_team = TeamFactory(name="Second", slug="second")
        MembershipFactory(user=trainer, team=second_team, role=Membership.Role.TRAINER)
        batch_submit(user=trainer, team=team, raw=raw(prefix="a"))
        batch_submit(user=trainer, team=second_team, raw=raw(prefix="b"))
        with pytest.raises(QuotaExceeded) as caught:
            batch_submit(user=trainer, team=second_team, raw=raw(prefix="c"))
        assert caught.value.quota == Quota.ACTIVE_PER_USER
        assert "You already have 2 batches queued or running" in caught.value.message

    def test_operations_per_day_count_since_local_midnight_and_reset_then(self, settings, trainer, team):
        settings.BATCH_QUOTA_OPERATIONS_PER_TEAM_PER_DAY = 5
        yesterday = batch_submit(user=trainer, team=team, raw=raw(4, prefix="y"))
        Batch.objects.filter(pk=yesterday.pk).update(
            created_at=timezone.localtime().replace(hour=0, minute=0) - dt.timedelta(minutes=1),
            status=Batch.Status.COMPLETED,
        )
        batch_submit(user=trainer, team=team, raw=raw(3, prefix="a"))
        with pytest.raises(QuotaExceeded) as caught:
            batch_submit(user=trainer, team=team, raw=raw(3, prefix="b"))
        exc = caught.value
        assert exc.quota == Quota.OPERATIONS_PER_TEAM_PER_DAY
        assert (exc.current, exc.requested, exc.limit) == (3, 3, 5)
        assert "has used 3 of its 5 operations for today; this batch has 3 and only 2 are left" in exc.message
        now = timezone.localtime()
        midnight = (now + dt.timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
        assert abs(exc.retry_after - (midnight - now).total_seconds()) < 3700  # a DST day is 1 h off
        assert batch_submit(user=trainer, team=team, raw=raw(2, prefix="b")).total_items == 2

    def test_submissions_per_minute_refuse_with_the_seconds_until_the_oldest_leaves(
        self, settings, trainer, team
    ):
        settings.BATCH_QUOTA_SUBMISSIONS_PER_USER_PER_MINUTE = 2
        first = batch_submit(user=trainer, team=team, raw=raw(prefix="a"))
        batch_submit(user=trainer, team=team, raw=raw(prefix="b"))
        Batch.objects.filter(pk=first.pk).update(created_at=timezone.now() - dt.timedelta(seconds=45))
        with pytest.raises(QuotaExceeded) as caught:
            batch_submit(user=trainer, team=team, raw=raw(prefix="c"))
        assert caught.value.quota == Quota.SUBMISSIONS_PER_USER_PER_MINUTE
        assert 14 <= caught.value.retry_after <= 16
        Batch.objects.filter(pk=first.pk).update(created_at=timezone.now() - dt.timedelta(seconds=61))
        batch_submit(user=trainer, team=team, raw=raw(prefix="c"))

    def test_a_repeated_request_id_returns_the_first_batch_even_at_the_cap(self, settings, trainer, team):
        settings.BATCH_QUOTA_ACTIVE_PER_TEAM = 1
        first = batch_submit(user=trainer, team=team, raw=raw(requestId="once"))
        assert batch_submit(user=trainer, team=team, raw=raw(requestId="once")) == first
        assert refusals() == []

    def test_an_invalid_request_over_quota_is_refused_by_the_quota_before_validation(
        self, settings, trainer, team
    ):
        settings.BATCH_QUOTA_SUBMISSIONS_PER_USER_PER_MINUTE = 1
        batch_submit(user=trainer, team=team, raw=raw())
        with pytest.raises(QuotaExceeded):
            batch_submit(user=trainer, team=team, raw={"operations": [{"id": "x", "type": "NOPE"}]})


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_submits_cannot_both_take_the_last_slot(settings, trainer, team):
    settings.BATCH_QUOTA_ACTIVE_PER_TEAM = 1
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def submit(prefix: str) -> None:
        barrier.wait()
        try:
            batch_submit(user=trainer, team=team, raw=raw(200, prefix=prefix))
            outcomes.append("ok")
        except QuotaExceeded:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=submit, args=(p,)) for p in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["ok", "refused"]
    assert Batch.objects.count() == 1 and len(refusals()) == 1


# Undo, rollback and retry -------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_undo_and_rollback_are_never_blocked_but_retry_is(settings, submit, run_worker, trainer, team):
    done = submit(create_ops(2, "u"))
    failing = submit(
        [{"id": "m", "type": "UPDATE", "data": {"workoutId": 99999, "updates": {"name": "x"}}}],
        validateBeforeExecute=False,
    )
    rolling = submit(
        [
            *create_ops(1, "r"),
            {"id": "bad", "type": "UPDATE", "data": {"workoutId": 99998, "updates": {"name": "y"}}},
        ],
        validateBeforeExecute=False,
        rollbackOnError=True,
        parallel=False,
    )
    # Every quota is now full: one active batch per team and user, one submission a minute.
    settings.BATCH_QUOTA_ACTIVE_PER_TEAM = 1
    settings.BATCH_QUOTA_ACTIVE_PER_USER = 1
    settings.BATCH_QUOTA_SUBMISSIONS_PER_USER_PER_MINUTE = 1
    settings.BATCH_QUOTA_OPERATIONS_PER_TEAM_PER_DAY = 1
    run_worker()  # the rollback ends the batch while the quotas are full (all or nothing: no undo batch)
    rolling.refresh_from_db()
    assert rolling.status == Batch.Status.ROLLED_BACK

    undo = batch_undo(batch_id=done.pk, user=trainer)
    assert undo.kind == Batch.Kind.UNDO  # the undo itself is queued and active: still no refusal
    with pytest.raises(QuotaExceeded):
        batch_retry_failed(batch_id=failing.pk, user=trainer)
    (row,) = refusals()
    assert row.details["kind"] == "retry" and row.actor == trainer
    run_worker()
    done.refresh_from_db()
    assert done.status == Batch.Status.UNDONE


# Pages and commands -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_page_shows_the_refusal_as_a_form_message(settings, trainer_client, trainer, team):
    settings.BATCH_QUOTA_ACTIVE_PER_TEAM = 1
    batch_submit(user=trainer, team=team, raw=raw())
    WorkoutFactory(team=team)
    trainer_client.post(reverse("workouts:select"), {"team": team.slug, "action": "all", "query": ""})
    response = trainer_client.post(
        reverse("batch:operation", args=["update"]),
        {
            "team": team.slug,
            "request_id": "page-1",
            "action": "run",
            "name": "Renamed",
            "opt-max_concurrency": 2,
            "opt-chunk_size": 10,
            "opt-retry_attempts": 1,
            "opt-medical_check": "on",
            "opt-conflict_resolution": "SKIP",
        },
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 422
    assert "already has 1 batches queued or running" in response.content.decode()
    assert Batch.objects.count() == 1
    (row,) = refusals()
    assert row.channel == "web"


@pytest.mark.django_db(transaction=True)
def test_batch_run_exits_4_with_the_reason(settings, tmp_path, trainer, team, capsys):
    settings.BATCH_QUOTA_OPERATIONS_PER_TEAM_PER_DAY = 2
    path = tmp_path / "request.json"
    path.write_text(json.dumps(raw(3)))
    with pytest.raises(SystemExit) as caught:
        call_command("batch_run", str(path), user=trainer.username)
    assert caught.value.code == 4
    err = capsys.readouterr().err
    assert "Refused by a quota (operations_per_team_per_day)" in err and "this batch has 3" in err
    with pytest.raises(SystemExit) as caught:
        call_command("batch_run", str(path), user=trainer.username, json=True)
    assert caught.value.code == 4
    refused = json.loads(capsys.readouterr().out)["refused"]
    assert refused["quota"] == "operations_per_team_per_day" and refused["retryAfter"] >= 1
    assert [r.channel for r in refusals()] == ["command", "command"]
    assert Batch.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_batch_retry_exits_4_with_the_reason(settings, submit, run_worker, trainer, team, capsys):
    failing = submit(
        [{"id": "m", "type": "UPDATE", "data": {"workoutId": 99999, "updates": {"name": "x"}}}],
        validateBeforeExecute=False,
    )
    run_worker()
    settings.BATCH_QUOTA_SUBMISSIONS_PER_USER_PER_MINUTE = 1
    with pytest.raises(SystemExit) as caught:
        call_command("batch_retry", str(failing.pk))
    assert caught.value.code == 4
    assert "Refused by a quota (submissions_per_user_per_minute)" in capsys.readouterr().err
    assert not Batch.objects.filter(retry_of=failing).exists()


@pytest.mark.django_db(transaction=True)
def test_a_refused_retry_on_the_page_says_why_and_starts_nothing(
    settings, client, submit, run_worker, trainer, team
):
    failing = submit(
        [{"id": "m", "type": "UPDATE", "data": {"workoutId": 99999, "updates": {"name": "x"}}}],
        validateBeforeExecute=False,
    )
    run_worker()
    settings.BATCH_QUOTA_SUBMISSIONS_PER_USER_PER_MINUTE = 1
    client.force_login(trainer)
    response = client.post(reverse("batch:retry", args=[failing.pk]), follow=True)
    body = response.content.decode()
    assert f"Cannot retry batch {failing.pk}: You have started 1 batches in the last minute" in body
    assert not Batch.objects.filter(retry_of=failing).exists()
    (row,) = refusals()
    assert row.channel == "web" and row.details["kind"] == "retry"
