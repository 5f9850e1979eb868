"""Bodies that are not JSON, or not UTF-8: a parse error or an unsupported media type."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from api.models import Event
from tests.helpers import assert_problem, nothing_written
from tests.unit.hostile_input.endpoints import ALL_ENDPOINTS, Endpoint

pytestmark = pytest.mark.django_db


MALFORMED_BODIES = [
    pytest.param(b'{"title": "\xff\xfe"}', id="invalid-utf-8"),
    pytest.param(b'{"title": "\xc3\x28"}', id="broken-utf-8-sequence"),
    pytest.param(b'{"title": "\xed\xa0\x80"}', id="utf-8-encoded-surrogate"),
    pytest.param(b'\xef\xbb\xbf{"title": "Meetup"}', id="byte-order-mark"),
    pytest.param(b'{"title": ', id="truncated"),
    pytest.param(b"{'title': 'Meetup'}", id="single-quotes"),
    pytest.param(b'{"title": "Meetup",}', id="trailing-comma"),
    pytest.param(b'{"title": "Meetup"} trailing', id="trailing-garbage"),
    pytest.param(b'{"a": 1}{"b": 2}', id="two-documents"),
    pytest.param(b'{"rating": NaN}', id="nan"),
    pytest.param(b'{"rating": Infinity}', id="infinity"),
    pytest.param(b'{"rating": -Infinity}', id="minus-infinity"),
    pytest.param(b'{"rating": ' + b"9" * 5000 + b"}", id="integer-of-5000-digits"),
    pytest.param(b"\x00", id="nul-byte"),
    pytest.param(b"[" * 1000 + b"]" * 1000, id="arrays-nested-1000-deep"),
    pytest.param(b'{"a":' * 1000 + b"1" + b"}" * 1000, id="objects-nested-1000-deep"),
]


@pytest.mark.parametrize("data", MALFORMED_BODIES)
def test_a_body_that_is_not_valid_json_is_a_parse_error(
    endpoints: dict[str, Endpoint], data: bytes
) -> None:
    with nothing_written():
        for name in ("create-event", "login", "feedback"):
            response = endpoints[name].send_raw(data, "application/json")

            assert_problem(response, 400, "parse_error", context=name)


@pytest.mark.parametrize("charset", ["utf-16", "utf-32", "rot13", "base64", "bz2", "punycode"])
def test_a_body_that_does_not_match_its_declared_charset_is_a_parse_error(
    endpoints: dict[str, Endpoint], charset: str
) -> None:
    endpoint = endpoints["create-event"]

    with nothing_written():
        response = endpoint.send_raw(
            json.dumps(endpoint.body), f"application/json; charset={charset}"
        )

    assert_problem(response, 400, "parse_error")


@pytest.mark.parametrize(
    "content_type",
    ["application/json; charset=utf-8", "Application/JSON", "application/json;charset=UTF-8"],
)
def test_json_is_recognised_whatever_the_case_and_parameters(
    endpoints: dict[str, Endpoint], content_type: str
) -> None:
    endpoint = endpoints["create-event"]
    # Characters outside ASCII, sent unescaped: the body must be read as the UTF-8 it is.
    body = {**endpoint.body, "title": "Caf\u00e9 \u2615 meetup", "location": "Z\u00fcrich"}

    response = endpoint.send_raw(json.dumps(body, ensure_ascii=False).encode(), content_type)

    assert response.status_code == 201, response.content
    created = Event.objects.get(pk=response.json()["id"])
    assert created.host.username == "alice"
    assert (created.title, created.description, created.location) == (
        body["title"],
        body["description"],
        body["location"],
    )
    assert created.max_participants == body["max_participants"]
    assert created.start_time == datetime.fromisoformat(body["start_time"])
    assert created.end_time == datetime.fromisoformat(body["end_time"])


WRONG_CONTENT_TYPES = [
    pytest.param(
        "application/x-www-form-urlencoded", b"title=Meetup&max_participants=5", id="form"
    ),
    pytest.param(
        "multipart/form-data; boundary=xyz",
        b'--xyz\r\nContent-Disposition: form-data; name="title"\r\n\r\nMeetup\r\n--xyz--\r\n',
        id="multipart",
    ),
    pytest.param("text/plain", None, id="text-plain"),
    pytest.param("application/xml", b"<event><title>Meetup</title></event>", id="xml"),
    pytest.param("application/octet-stream", None, id="octet-stream"),
    pytest.param("application/merge-patch+json", None, id="merge-patch-json"),
    # The test client cannot omit the header; an empty one is what DRF sees when it is absent.
    pytest.param("", None, id="no-content-type"),
]


@pytest.mark.parametrize(("content_type", "data"), WRONG_CONTENT_TYPES)
def test_a_body_that_is_not_json_is_an_unsupported_media_type(
    endpoints: dict[str, Endpoint], content_type: str, data: bytes | None
) -> None:
    with nothing_written():
        for name in ALL_ENDPOINTS:
            endpoint = endpoints[name]
            response = endpoint.send_raw(
                json.dumps(endpoint.body) if data is None else data, content_type
            )

            assert_problem(response, 415, "unsupported_media_type", context=name)
