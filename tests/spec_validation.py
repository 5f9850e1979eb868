"""Every response the test suite receives is checked against spec/openapi.yaml.

The root conftest wraps Django's test client (and so DRF's APIClient) with
``validate_exchange``: the status must be one the operation declares, and the media
type, the declared headers and the body must match it, as openapi-core reads the
checked-in spec. A path the spec does not have must answer the documented 404 problem,
a method it does not list the documented 405, so every test is also a contract test.

A test that must see an answer the spec does not describe (the wiring's own test)
marks itself ``@pytest.mark.unchecked_responses``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from django.http import HttpRequest, HttpResponse
from openapi_core import OpenAPI
from openapi_core.configurations import Config
from openapi_core.datatypes import RequestParameters
from openapi_core.deserializing.media_types.util import json_loads, plain_loads
from openapi_core.templating.paths.exceptions import OperationNotFound, PathNotFound
from openapi_core.validation.response import V31ResponseHeadersValidator
from werkzeug.datastructures import Headers

STATIC_PREFIX = "/static/"
SPEC_PATH = Path(__file__).resolve().parents[1] / "spec" / "openapi.yaml"

# Media types the spec uses beyond application/json.
EXTRA_DESERIALIZERS: dict[str, Callable[[bytes], Any]] = {
    "application/problem+json": json_loads,
    "application/vnd.oai.openapi": plain_loads,
}


# Statuses the spec's info.description declares once, for every operation.
ANY_OPERATION = {
    414: "a request target over the limit",
    431: "request headers over the limit",
}


class ResponseNotInSpec(AssertionError):
    """The response is not one the spec declares for the request that provoked it."""


@cache
def openapi() -> OpenAPI:
    config = Config(extra_media_type_deserializers=EXTRA_DESERIALIZERS)
    return OpenAPI.from_file_path(str(SPEC_PATH), config=config)


@cache
def _spec() -> dict[str, Any]:
    import yaml

    return yaml.safe_load(SPEC_PATH.read_text())


@dataclass
class _Request:
    """What openapi-core needs of a request to find its operation: path and method."""

    host_url: str
    path: str
    method: str
    parameters: RequestParameters = field(default_factory=RequestParameters)
    body: bytes | None = None
    content_type: str = "application/json"


class _Response:
    def __init__(self, response: HttpResponse) -> None:
        self.status_code = response.status_code
        self.headers = Headers(list(response.headers.items()))
        self.content_type = response.get("Content-Type", "")
        self.data = b"" if getattr(response, "streaming", False) else response.content


def check_every_response(monkeypatch: Any) -> None:
    """Wrap Django's test client (DRF's APIClient is one) so that every response it
    returns is validated; ``monkeypatch`` undoes it after the test."""
    from django.test import Client

    send = Client.request

    def checked(self: Client, **environ: Any) -> Any:
        response = send(self, **environ)
        validate_exchange(response.wsgi_request, response)  # type: ignore[arg-type]
        return response

    monkeypatch.setattr(Client, "request", checked)


def validate_exchange(request: HttpRequest, response: HttpResponse) -> None:
    """Raise ResponseNotInSpec unless ``response`` is what the spec declares."""
    if request.path.startswith(STATIC_PREFIX):
        return  # The docs pages' assets: files, not operations.
    method = (request.method or "GET").lower()
    exchange = _Request(
        # Raw, not get_host(): a test may send a Host the server refuses.
        host_url=f"{request.scheme}://{request.META.get('SERVER_NAME', 'testserver')}",
        path=request.path,
        method=method,
    )
    if response.status_code in ANY_OPERATION:
        _expect_problem(
            request, response, response.status_code, ANY_OPERATION[response.status_code]
        )
        return
    if method == "options" and "HTTP_ACCESS_CONTROL_REQUEST_METHOD" in request.META:
        _expect_preflight(request, response)
        return
    try:
        if method == "head":
            # No body to check: the status and the declared headers.
            V31ResponseHeadersValidator(openapi().spec).validate(exchange, _Response(response))
        else:
            openapi().validate_response(exchange, _Response(response))
    except PathNotFound:
        _expect_problem(request, response, 404, "a path the spec does not have")
    except OperationNotFound:
        _expect_problem(request, response, 405, "a method the spec does not list here")
    except Exception as error:
        raise ResponseNotInSpec(_describe(request, response, error)) from error


def _expect_problem(request: HttpRequest, response: HttpResponse, status: int, what: str) -> None:
    """Outside the operations the spec lists, the answer is its documented problem."""
    problem_schema = _spec()["components"]["schemas"]["Problem"]
    reasons = []
    if response.status_code != status:
        reasons.append(f"{what} must answer {status}")
    if response.get("Content-Type") != "application/problem+json":
        reasons.append("not application/problem+json")
    elif request.method != "HEAD":  # a HEAD answer has the headers only
        body = json.loads(response.content)
        missing = set(problem_schema["required"]) - set(body)
        if missing:
            reasons.append(f"problem members missing: {sorted(missing)}")
        elif body["status"] != status:
            reasons.append(f"problem status {body['status']}")
    if status == 405 and response.status_code == 405 and "Allow" not in response.headers:
        reasons.append("405 without Allow")
    if reasons:
        raise ResponseNotInSpec(_describe(request, response, "; ".join(reasons)))


def _expect_preflight(request: HttpRequest, response: HttpResponse) -> None:
    """A CORS preflight, which info.description declares: 200 and no body where CORS is
    on, the 405 of any undeclared method where it is off."""
    if response.status_code == 405:
        _expect_problem(request, response, 405, "a preflight with CORS off")
    elif response.status_code != 200 or response.content:
        raise ResponseNotInSpec(_describe(request, response, "a preflight answers 200, empty"))


def _describe(request: HttpRequest, response: HttpResponse, error: object) -> str:
    body = b"" if getattr(response, "streaming", False) else response.content[:500]
    cause: Any = error
    # openapi-core wraps schema errors; the innermost says which field failed.
    while getattr(cause, "__cause__", None) is not None:
        cause = cause.__cause__
    details = "; ".join(str(e) for e in getattr(cause, "schema_errors", []) or [])
    return (
        f"{request.method} {request.path} -> {response.status_code} "
        f"{response.get('Content-Type', '')} is not in spec/openapi.yaml: {error!r}"
        f"{' (' + details + ')' if details else ''}\nbody: {body!r}"
    )


def validate_webhook(event_type: str, body: bytes) -> None:
    """A webhook message's body must match the schema the spec's ``webhooks`` section
    gives its type (OpenAPI 3.1 schemas are JSON Schema 2020-12, formats checked)."""
    from openapi_schema_validator import OAS31Validator, oas31_format_checker

    spec = _spec()
    operation = spec["webhooks"][event_type]["post"]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    # The schema's $refs point into the document, so it is validated with the document's
    # components beside it.
    root = {**schema, "components": spec["components"]}
    errors = sorted(
        OAS31Validator(root, format_checker=oas31_format_checker).iter_errors(json.loads(body)),
        key=str,
    )
    if errors:
        raise ResponseNotInSpec(f"webhook {event_type}: {errors[0].message} at {errors[0].path}")
