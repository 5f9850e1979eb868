"""The floor: the least a Python server can do to answer the API's two hottest reads.

A WSGI app written from scratch with psycopg and the standard json module, no
framework: it serves ``GET /api/events/`` (page, page_size) and ``GET /api/events/{id}/``
with the same JSON, byte for byte, as the API, from the same database. bench/run.py
serves it with the same server (uvicorn, its WSGI interface) and the same number of
workers as the API, and reports the API's throughput as a ratio of this one's.

It is as plain as hand-written code gets, and no plainer: an exact COUNT for the page
links, the page with its host joined and a correlated subquery counting participants,
one connection per thread kept open, and psycopg's automatic prepared statements.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode

import psycopg

DATABASE_URL = os.environ.get("FLOOR_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/events")
PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
DETAIL_PATH = re.compile(r"^/api/events/([0-9]{1,18})/$")

COLUMNS = """
    e.id, e.title, e.description, u.id, u.username, e.start_time, e.end_time, e.location,
    e.max_participants,
    (SELECT count(*) FROM api_eventparticipant p WHERE p.event_id = e.id),
    e.created_at, e.waiting_list_enabled, e.waiting_list_offer_hours,
    (SELECT count(*) FROM api_waitinglistentry w
        WHERE w.event_id = e.id AND w.status = 'waiting'),
    (SELECT count(*) FROM api_waitinglistentry w
        WHERE w.event_id = e.id AND w.status = 'offered' AND w.offer_expires_at > now())
    FROM api_event e JOIN api_user u ON u.id = e.host_id
"""
PAGE_SQL = f"SELECT {COLUMNS} ORDER BY e.start_time, e.id LIMIT %s OFFSET %s"
DETAIL_SQL = f"SELECT {COLUMNS} WHERE e.id = %s"
COUNT_SQL = "SELECT count(*) FROM api_event"

StartResponse = Callable[[str, list[tuple[str, str]]], Any]

_local = threading.local()


def connection() -> psycopg.Connection[Any]:
    conn: psycopg.Connection[Any] | None = getattr(_local, "connection", None)
    if conn is None or conn.closed:
        conn = psycopg.connect(DATABASE_URL, autocommit=True)
        conn.execute("SET TIME ZONE 'UTC'")
        _local.connection = conn
    return conn


def timestamp(value: datetime) -> str:
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def event(row: tuple[Any, ...]) -> dict[str, Any]:
    return {
        "id": row[0],
        "title": row[1],
        "description": row[2],
        "host": {"id": row[3], "username": row[4]},
        "start_time": timestamp(row[5]),
        "end_time": timestamp(row[6]),
        "location": row[7],
        "max_participants": row[8],
        "participants_count": row[9],
        "seats_available": 0 if row[13] else max(row[8] - row[9] - row[14], 0),
        "waiting_list_enabled": row[11],
        "waiting_list_offer_hours": row[12],
        "waiting_list_count": row[13] + row[14],
        "created_at": timestamp(row[10]),
    }


def positive(raw: str | None, default: int) -> int | None:
    if raw is None:
        return default
    return int(raw) if raw.isdigit() and int(raw) > 0 else None


def page_link(base: str, query: dict[str, str], page: int) -> str:
    params = {key: value for key, value in query.items() if key != "page"}
    if page > 1:
        params["page"] = str(page)
    return f"{base}?{urlencode(sorted(params.items()))}" if params else base


def event_list(environ: dict[str, Any]) -> tuple[int, Any]:
    query = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
    page = positive(query.get("page"), 1)
    size = positive(query.get("page_size"), PAGE_SIZE)
    if page is None or size is None:
        return 400, {"code": "invalid"}
    size = min(size, MAX_PAGE_SIZE)
    with connection().cursor() as cursor:
        count = cursor.execute(COUNT_SQL).fetchone()[0]  # type: ignore[index]
        if (page - 1) * size >= max(count, 1):
            return 404, {"code": "not_found"}
        rows = cursor.execute(PAGE_SQL, (size, (page - 1) * size)).fetchall()
    base = f"http://{environ['HTTP_HOST']}{environ['PATH_INFO']}"
    return 200, {
        "count": count,
        "next": page_link(base, query, page + 1) if page * size < count else None,
        "previous": page_link(base, query, page - 1) if page > 1 else None,
        "results": [event(row) for row in rows],
    }


def event_detail(pk: int) -> tuple[int, Any]:
    with connection().cursor() as cursor:
        row = cursor.execute(DETAIL_SQL, (pk,)).fetchone()
    return (200, event(row)) if row else (404, {"code": "not_found"})


def application(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    path = environ["PATH_INFO"]
    detail = DETAIL_PATH.match(path)
    if environ["REQUEST_METHOD"] != "GET":
        status, body = 405, {"code": "method_not_allowed"}
    elif path == "/api/events/":
        status, body = event_list(environ)
    elif detail:
        status, body = event_detail(int(detail.group(1)))
    else:
        status, body = 404, {"code": "not_found"}
    payload = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    reason = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed"}
    start_response(
        f"{status} {reason[status]}",
        [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))],
    )
    return [payload]
