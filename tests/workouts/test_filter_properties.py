"""Property tests: any query string gives the workout list, calendar and selection a page or a 400."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

import pytest
from django.http import QueryDict
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import WorkoutFactory
from workouts.forms import WorkoutFilterForm
from workouts.models import Workout
from workouts.selectors import (
    SELECTION_KEY,
    Selection,
    selected_workouts,
    workouts_filtered,
    workouts_for_team,
)

pytestmark = pytest.mark.django_db

FILTER_KEYS = ["q", "type", "status", "date_from", "date_to", "sort", "page", "team", "week"]
PROPERTY = settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

# Text a browser can send (any code point but lone surrogates, which no UTF-8 URL can carry).
text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
dates = st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31)).map(dt.date.isoformat)
numbers = st.integers(min_value=-(10**40), max_value=10**40).map(str)
weeks = st.builds(
    lambda y, w: f"{y:04d}-W{w:02d}", st.integers(min_value=0, max_value=9999), st.integers(0, 99)
)
choices = st.sampled_from(
    [*Workout.Type.values, *Workout.Status.values, "all", "start", "-name", "intensity", "", "ARCHIVED"]
)
values = st.one_of(text, dates, numbers, weeks, choices, st.just("\x00"), st.just("9999-12-31"))
queries = st.lists(st.tuples(st.one_of(st.sampled_from(FILTER_KEYS), text), values), max_size=8).map(
    urlencode
)


@pytest.fixture
def client_with_workouts(trainer, team):
    WorkoutFactory.create_batch(3, team=team)
    WorkoutFactory(team=team, scheduled_start=None, scheduled_end=None, status=Workout.Status.DRAFT)
    client = Client(raise_request_exception=False)
    client.force_login(trainer)
    return client


@PROPERTY
@given(query=queries)
def test_any_query_string_filters_the_list_or_is_refused(client_with_workouts, team, query):
    response = client_with_workouts.get(reverse("workouts:list"), QUERY_STRING=query)
    assert response.status_code in (200, 400, 404), query
    # The same filters, straight through the form and the selector, never raise either.
    form = WorkoutFilterForm(QueryDict(query))
    list(workouts_filtered(workouts_for_team(team=team), form.filters)[:5])


@PROPERTY
@given(query=queries)
def test_any_query_string_gives_the_calendar_a_week_or_a_400(client_with_workouts, query):
    response = client_with_workouts.get(reverse("workouts:calendar"), QUERY_STRING=query)
    assert response.status_code in (200, 400, 404), query


@PROPERTY
@given(query=queries)
def test_select_all_matching_any_filter_never_breaks_the_list_or_a_modal(client_with_workouts, team, query):
    client = client_with_workouts
    response = client.post(reverse("workouts:select"), {"team": team.slug, "action": "all", "query": query})
    assert response.status_code in (302, 400, 404), query
    assert client.get(reverse("workouts:list"), {"team": team.slug}).status_code == 200
    modal = client.get(reverse("batch:operation", args=["update"]), {"team": team.slug})
    assert modal.status_code == 200


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), text),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(text, inner, max_size=4)),
    max_leaves=12,
)
stored = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {},
        optional={
            "query": st.one_of(queries, json_values),
            "included": st.one_of(st.lists(st.integers()), json_values),
            "excluded": st.one_of(st.lists(st.integers()), json_values),
        },
    ),
)


@PROPERTY
@given(raw=stored)
def test_any_stored_selection_parses_or_is_reported(team, raw):
    selection, problem = Selection.parse(raw)
    if problem:
        assert selection.empty and not selection.excluded
    # Whatever parsed must be usable as a query.
    list(selected_workouts(team=team, selection=selection)[:5])


@PROPERTY
@given(raw=stored)
def test_a_stored_selection_that_no_longer_parses_is_dropped_with_a_notice(client_with_workouts, team, raw):
    session = client_with_workouts.session
    session[SELECTION_KEY.format(team_id=team.pk)] = raw
    session.save()
    response = client_with_workouts.get(reverse("workouts:list"), {"team": team.slug})
    assert response.status_code == 200
    _, problem = Selection.parse(raw)
    assert ("Your workout selection was cleared" in response.content.decode()) == bool(problem)
