"""The events list reads through indexes at a realistic size, on PostgreSQL.

The plans checked are those of the statements the API really sends (captured from a
request), on a table large enough that PostgreSQL prefers an index when one serves
the query: a seq scan there is a missing or unusable index, not a planner whim.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from bench.seed import CITIES

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

EVENTS = 20_000
RARE_PLACE = "Ljubljana Castle"


@pytest.fixture
def many_events() -> None:
    """EVENTS events over a year in 40 cities and one rare place, one participant each,
    then ANALYZE."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO api_user (password, is_superuser, username, first_name, last_name,
                email, is_staff, is_active, date_joined, username_key, email_key,
                username_skeleton)
            SELECT '!', false, 'planner' || g, '', '', 'planner' || g || '@example.org',
                false, true, now(), 'planner' || g, 'planner' || g || '@example.org',
                'planner' || g
            FROM generate_series(1, 100) AS g
            """
        )
        cursor.execute(
            """
            INSERT INTO api_event (title, description, host_id, start_time, end_time,
                location, max_participants, created_at)
            SELECT 'Event ' || g, '', u.first_id + g %% 100, s.start,
                s.start + interval '2 hours', (%s::text[])[1 + g %% 40] || ', Hall ' || g %% 97,
                50, now()
            FROM generate_series(1, %s) AS g,
                (SELECT min(id) AS first_id FROM api_user WHERE username LIKE 'planner%%') AS u,
                LATERAL (SELECT now() + ((g * 7919) %% 525600) * interval '1 minute' AS start) AS s
            """,
            [CITIES, EVENTS],
        )
        cursor.execute("UPDATE api_event SET location = %s WHERE id %% 2000 = 0", [RARE_PLACE])
        cursor.execute(
            """
            INSERT INTO api_eventparticipant (user_id, event_id, joined_at)
            SELECT e.host_id, e.id, now() FROM api_event AS e
            """
        )
        cursor.execute("ANALYZE api_event")
        cursor.execute("ANALYZE api_eventparticipant")


def captured_selects(client: APIClient, params: dict[str, Any]) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/api/events/", params)
    assert response.status_code == 200, response.content
    return [q["sql"] for q in captured.captured_queries if q["sql"].startswith("SELECT")]


def plan(sql: str, *, analyze: bool = False) -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN ({'ANALYZE, ' if analyze else ''}FORMAT JSON) {sql}")
        document = cursor.fetchone()[0]
    return (json.loads(document) if isinstance(document, str) else document)[0]["Plan"]


def nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", []):
        yield from nodes(child)


def event_scans(sql: str) -> list[tuple[str, str | None]]:
    return [
        (node["Node Type"], node.get("Index Name"))
        for node in nodes(plan(sql))
        if node.get("Relation Name") == "api_event" or "Index Name" in node
    ]


def test_a_page_filtered_by_location_and_dates_reads_events_through_indexes(
    api_client: APIClient, many_events: None
) -> None:
    start = timezone.now() + timedelta(days=60)
    params = {
        "location": "berlin",
        "start_time_after": start.date().isoformat(),
        "start_time_before": (start + timedelta(days=30)).date().isoformat(),
    }

    count_sql, page_sql = captured_selects(api_client, params)

    for sql in (count_sql, page_sql):
        scans = event_scans(sql)
        assert ("Seq Scan", None) not in scans, f"{scans}\n{sql}"
        assert {"event_location_trgm_idx", "event_start_time_idx"} & {i for _, i in scans}


def test_a_page_filtered_by_a_rare_location_uses_the_trigram_index(
    api_client: APIClient, many_events: None
) -> None:
    count_sql, _ = captured_selects(api_client, {"location": "castle"})

    assert ("Bitmap Index Scan", "event_location_trgm_idx") in event_scans(count_sql)


def test_a_deep_page_computes_its_subqueries_for_its_own_rows_only(
    api_client: APIClient, many_events: None
) -> None:
    _, page_sql = captured_selects(api_client, {"page": 400, "page_size": 20})

    subplans = [
        node
        for node in nodes(plan(page_sql, analyze=True))
        if node.get("Parent Relationship") == "SubPlan"
    ]
    assert subplans, page_sql
    assert all(node["Actual Loops"] <= 20 for node in subplans), page_sql
