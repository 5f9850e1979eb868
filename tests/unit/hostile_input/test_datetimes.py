"""Datetimes: naive means UTC; years 1 to 9999 only, also after conversion to UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.utils import timezone as django_timezone
from rest_framework.test import APIClient

from api.models import Event
from tests.helpers import assert_problem, error_pairs, nothing_written
from tests.unit.hostile_input.endpoints import EVENTS_URL, Endpoint

pytestmark = pytest.mark.django_db


def test_a_naive_datetime_on_update_is_stored_as_utc(
    endpoints: dict[str, Endpoint], event: Event
) -> None:
    year = django_timezone.now().year + 2

    response = endpoints["change-event"].send_json(
        {"start_time": f"{year}-03-01T09:30:00", "end_time": f"{year}-03-01T11:00:00.250000"}
    )

    assert response.status_code == 200, response.content
    event.refresh_from_db()
    assert event.start_time == datetime(year, 3, 1, 9, 30, tzinfo=UTC)
    assert event.end_time == datetime(year, 3, 1, 11, 0, 0, 250_000, tzinfo=UTC)
    assert response.json()["start_time"] == f"{year}-03-01T09:30:00Z"


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        pytest.param("start_time", "0000-01-01T10:00:00Z", "invalid", id="year-0"),
        pytest.param("end_time", "10000-01-01T00:00:00Z", "invalid", id="year-10000"),
        pytest.param("end_time", "9999-12-31T23:59:59-01:00", "overflow", id="overflow-to-10000"),
        pytest.param("start_time", "0001-01-01T00:00:00+01:00", "overflow", id="underflow-to-0"),
        pytest.param("start_time", "2099-06-01T10:00:00+25:00", "invalid", id="offset-25-hours"),
        pytest.param("start_time", "2099-06-01T23:59:60Z", "invalid", id="leap-second"),
        pytest.param("start_time", "2099-02-30T10:00:00Z", "invalid", id="30-february"),
        pytest.param("start_time", 4_084_000_000, "invalid", id="unix-timestamp"),
        pytest.param("end_time", "", "invalid", id="empty-string"),
    ],
)
def test_a_datetime_out_of_range_or_malformed_is_invalid(
    endpoints: dict[str, Endpoint], field: str, value: Any, code: str
) -> None:
    with nothing_written():
        for name in ("create-event", "change-event"):
            response = endpoints[name].with_field(field, value)

            assert_problem(response, 400, "invalid", context=name)
            assert (field, code) in error_pairs(response), name


def test_the_last_representable_instant_is_accepted_and_round_trips(
    endpoints: dict[str, Endpoint],
) -> None:
    endpoint = endpoints["create-event"]
    body = {
        **endpoint.body,
        "start_time": "9999-12-31T22:00:00Z",
        "end_time": "9999-12-31T23:59:59.999999",
    }

    response = endpoint.send_json(body)

    assert response.status_code == 201, response.content
    created = Event.objects.get(pk=response.json()["id"])
    assert created.end_time == datetime(9999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC)
    assert response.json()["end_time"] == "9999-12-31T23:59:59.999999Z"


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("0000-01-01", id="year-0"),
        pytest.param("10000-01-01", id="year-10000"),
        pytest.param("9999-12-31T23:59:59-01:00", id="overflow-to-10000"),
        pytest.param("0001-01-01T00:00:00+01:00", id="underflow-to-0"),
        pytest.param("2030-01-01T00:00:00+25:00", id="offset-25-hours"),
        pytest.param("1893456000", id="unix-timestamp"),
    ],
)
def test_a_date_filter_out_of_range_is_invalid(
    api_client: APIClient, event: Event, value: str
) -> None:
    for param in ("start_time_after", "start_time_before", "end_time_after", "end_time_before"):
        response = api_client.get(EVENTS_URL, {param: value})

        assert_problem(response, 400, "invalid", context=param)
        assert error_pairs(response) == {(param, "invalid")}


@pytest.mark.parametrize(
    ("query", "found"),
    [
        pytest.param({"start_time_after": "0001-01-01"}, True, id="after-the-first-day"),
        pytest.param({"start_time_after": "0001-01-01T00:00:00Z"}, True, id="after-year-1"),
        pytest.param({"end_time_before": "9999-12-31"}, True, id="before-the-last-day"),
        pytest.param(
            {"start_time_after": "9999-12-31T23:59:59.999999"}, False, id="after-the-last-instant"
        ),
        pytest.param({"end_time_before": "0001-01-01T00:00:00"}, False, id="before-year-1"),
    ],
)
def test_a_date_filter_at_the_ends_of_the_range_is_answered(
    api_client: APIClient, event: Event, query: dict[str, str], found: bool
) -> None:
    response = api_client.get(EVENTS_URL, query)

    assert response.status_code == 200, response.content
    assert response.json()["count"] == (1 if found else 0)
