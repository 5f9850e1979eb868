"""OpenAPI generation wired in settings: the schema class and the postprocessing hooks.

What each operation documents is declared beside its view (``api.apidocs``); this adds
what every operation shares (problem+json errors, Retry-After, the 400/413/415/503 any
request can earn) and what only the whole document knows (named enums, links, example
page links).
"""

from __future__ import annotations

import copy
import re
from typing import Any

from drf_spectacular import openapi
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework import exceptions
from rest_framework.permissions import SAFE_METHODS, IsAuthenticatedOrReadOnly

from api.apidocs.responses import (
    ERROR_DESCRIPTIONS,
    QUERY_STRING_REFUSED,
    RETRY_AFTER_HEADER,
    STATUS_RAISES,
    ProblemSerializer,
    field_error_codes,
    problem_code,
    problem_schema,
)
from api.filters import ID_SCHEMA
from api.rest.authentication import FAILURES
from api.rest.problems import PROBLEM_CONTENT_TYPE
from api.rest.query import REPEATABLE, RepeatedParameter, UnknownParameter

OPTIONAL_CREDENTIALS_REFUSED = (
    "Anyone may call this without credentials, but an Authorization header that is sent "
    "is checked: a malformed one, or an invalid or expired token, is refused. Send none "
    "instead of a stale one."
)


class BearerScheme(SimpleJWTScheme):
    """Our authentication class is simplejwt's with stricter claims: the same scheme."""

    target_class = "api.rest.authentication.BearerAuthentication"


class AutoSchema(openapi.AutoSchema):
    """Error responses are problem+json enumerating their codes, 429 and 503 carry
    Retry-After, every operation documents the 400 and 503 any request can earn (and the
    401 where credentials are read), and every operation that takes a body the 413 and
    415 that any body can earn."""

    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation = super().get_operation(*args, **kwargs)
        if not operation:
            return operation
        responses = operation["responses"]
        # Any operation can meet a database (or Redis) outage.
        responses.setdefault("503", self._problem_response(503))
        responses["503"]["description"] = ERROR_DESCRIPTIONS[503]
        if "requestBody" in operation:
            for status_code in (413, 415):
                responses.setdefault(str(status_code), self._problem_response(status_code))
                responses[str(status_code)]["description"] = ERROR_DESCRIPTIONS[status_code]
        # Every operation checks its query string (api.rest.query), and a NUL anywhere in
        # it is refused by api.rest.middleware: a 400 even where no other input is taken.
        if "400" not in responses:
            responses["400"] = self._problem_response(400)
            responses["400"]["description"] = QUERY_STRING_REFUSED
        _add_codes(responses["400"], self._bad_request_codes(operation))
        # Wherever an Authorization header is read, a bad one is a 401, on operations
        # that anyone may call too.
        if self.view.get_authenticators():
            codes = [problem_code(failure) for failure in FAILURES]
            required = {} not in self.get_auth()
            if required:
                codes.append(problem_code(exceptions.NotAuthenticated))
            if "401" not in responses:
                responses["401"] = self._problem_response(401)
                if not required:
                    responses["401"]["description"] = OPTIONAL_CREDENTIALS_REFUSED
            _add_codes(responses["401"], codes)
        for status_code, response in responses.items():
            if status_code.startswith(("4", "5")):
                _add_codes(
                    response, [problem_code(c) for c in STATUS_RAISES.get(int(status_code), ())]
                )
        operation["responses"] = dict(sorted(responses.items()))
        return operation

    def _problem_response(self, status_code: int) -> dict[str, Any]:
        response = self._get_response_for_code(
            ProblemSerializer, str(status_code), [PROBLEM_CONTENT_TYPE]
        )
        response["description"] = ERROR_DESCRIPTIONS.get(status_code, "")
        return response

    def _bad_request_codes(self, operation: dict[str, Any]) -> list[str]:
        # parse_error: a body that is not JSON, and on any request a Host the server does
        # not serve or more parameters than it reads (api.rest.problems).
        codes = [
            problem_code(exceptions.ValidationError),
            problem_code(UnknownParameter),
            problem_code(exceptions.ParseError),
        ]
        query = [p for p in operation.get("parameters", []) if p.get("in") == "query"]
        if any(p["name"] not in REPEATABLE for p in query):
            codes.append(problem_code(RepeatedParameter))
        return codes

    def _get_request_body(self, direction: str = "request") -> dict[str, Any] | None:
        # drf-spectacular documents bodies for POST, PUT and PATCH only. A DELETE that
        # declares a request serializer of its own (DELETE /api/me/ takes the password)
        # reads one, so the spec says so; other DELETEs take none.
        if self.method != "DELETE" or not self._declares_own_request():
            return super()._get_request_body(direction)
        self.method = "POST"
        try:
            return super()._get_request_body(direction)
        finally:
            self.method = "DELETE"

    def _declares_own_request(self) -> bool:
        declared, default = self.get_request_serializer(), self._get_serializer()
        if declared is None:
            return False
        kind = declared if isinstance(declared, type) else type(declared)
        return kind is not type(default)

    def get_auth(self) -> list[dict[str, Any]]:
        # Views without authentication classes (login, token refresh) get no `security`
        # from drf-spectacular, which reads as "unspecified"; say "no credentials needed"
        # explicitly, as for the AllowAny views.
        auths = super().get_auth() or [{}]
        # drf-spectacular marks reads as anonymous for IsAuthenticatedOrReadOnly itself,
        # not for its subclasses (the event permissions).
        reads_are_public = self.method in SAFE_METHODS and any(
            isinstance(permission, IsAuthenticatedOrReadOnly)
            for permission in self.view.get_permissions()
        )
        if reads_are_public and {} not in auths:
            auths.append({})
        return auths

    def _get_response_for_code(
        self,
        serializer: Any,
        status_code: str,
        media_types: Any = None,
        direction: str = "response",
    ) -> dict[str, Any]:
        if status_code.startswith(("4", "5")):
            media_types = [PROBLEM_CONTENT_TYPE]
        response = super()._get_response_for_code(serializer, status_code, media_types, direction)
        if status_code in ("429", "503"):
            response["headers"] = RETRY_AFTER_HEADER
        return response


def _add_codes(response: dict[str, Any], codes: list[str]) -> None:
    """Widen the codes a problem response enumerates by ``codes``."""
    media = response["content"][PROBLEM_CONTENT_TYPE]
    schema = media["schema"]
    if "allOf" not in schema:
        media["schema"] = problem_schema(codes)
        return
    enum = schema["allOf"][1]["properties"]["code"]["enum"]
    enum[:] = sorted(set(enum) | set(codes))


def add_named_enums(result: dict[str, Any], generator: Any, **kwargs: Any) -> dict[str, Any]:
    """Name the ordering enum so generated clients get a type for it, not a bare list."""
    from api.filters import EVENT_ORDERING_CHOICES

    result["components"]["schemas"]["EventOrdering"] = {
        "type": "string",
        "enum": EVENT_ORDERING_CHOICES,
        "description": "A sort key for events; a leading - reverses it.",
    }
    result["components"]["schemas"] = dict(sorted(result["components"]["schemas"].items()))
    return result


EVENT_ID = {"id": "$response.body#/id"}
EVENT_FOLLOW_UPS = {
    "RetrieveEvent": "events_retrieve",
    "UpdateEvent": "events_update",
    "PartialUpdateEvent": "events_partial_update",
    "DeleteEvent": "events_destroy",
    "RegisterForEvent": "events_register",
    "ListParticipants": "events_participants_list",
    "InviteToEvent": "events_invite",
    "ListFeedback": "events_feedback_list",
    "LeaveFeedback": "events_feedback_create",
}

# (path, method, status) -> the links a client follows from that response.
LINKS: dict[tuple[str, str, str], dict[str, dict[str, Any]]] = {
    ("/api/register/", "post", "201"): {
        "Login": {
            "operationId": "auth_login",
            "requestBody": "$request.body",
            "description": "Log in with the account just created.",
        },
    },
    ("/api/events/", "post", "201"): {
        name: {"operationId": operation_id, "parameters": EVENT_ID}
        for name, operation_id in EVENT_FOLLOW_UPS.items()
    },
    ("/api/events/{id}/register/", "post", "201"): {
        "Unregister": {
            "operationId": "events_unregister",
            "parameters": {"id": "$request.path.id"},
            "description": "Leave the event just joined.",
        },
    },
    ("/api/events/{id}/invite/", "post", "201"): {
        "RetrieveInvitation": {"operationId": "invitations_retrieve", "parameters": EVENT_ID},
        "AnswerInvitation": {"operationId": "invitations_answer", "parameters": EVENT_ID},
    },
}


def add_links(result: dict[str, Any], generator: Any, **kwargs: Any) -> dict[str, Any]:
    """OpenAPI links: how the id in one response feeds the next call, for clients and for
    Schemathesis' stateful tests."""
    for (path, method, status_code), links in LINKS.items():
        result["paths"][path][method]["responses"][status_code]["links"] = links
    return result


# Where `make run` serves the API; example page links point there.
DEVELOPMENT_SERVER = "http://127.0.0.1:8000"
EXAMPLE_ID = "42"


# Cursors as DRF writes them (base64 of "p=1" and of "r=1&p=2").
CURSOR_LINKS = ("cursor=cD0x", "cursor=cj0xJnA9Mg%3D%3D")


def add_page_link_examples(result: dict[str, Any], generator: Any, **kwargs: Any) -> dict[str, Any]:
    """Example next/previous links on each page component, for the list that returns it.

    Only here is the path known; the pagination class builds the component without it.
    """
    schemas = result["components"]["schemas"]
    for path, operations in result["paths"].items():
        content = operations.get("get", {}).get("responses", {}).get("200", {}).get("content", {})
        ref = content.get("application/json", {}).get("schema", {}).get("$ref", "")
        name = ref.rpartition("/")[2]
        if not name.startswith("Paginated"):
            continue
        url = DEVELOPMENT_SERVER + re.sub(r"\{[a-z_]+\}", EXAMPLE_ID, path)
        properties = schemas[name]["properties"]
        # A cursor page (no count) links by cursor, a numbered one by page.
        after, before = CURSOR_LINKS if "count" not in properties else ("page=4", "page=2")
        properties["next"].setdefault("example", f"{url}?{after}")
        properties["previous"].setdefault("example", f"{url}?{before}")
    return result


def integer_path_ids(result: dict[str, Any], generator: Any, **kwargs: Any) -> dict[str, Any]:
    """Path ids are the integers the bodies carry, so a client passes ``event.id`` as is.

    The URL pattern (api.ids.ID_PATH_PATTERN) is what drf-spectacular reads, a string;
    any integer in range is accepted, and one of no event is a 404.
    """
    for operations in result["paths"].values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                name = parameter["name"]
                if parameter["in"] == "path" and (name == "id" or name.endswith("_id")):
                    parameter["schema"] = dict(ID_SCHEMA)
    return result


def require_response_fields(
    result: dict[str, Any], generator: Any, **kwargs: Any
) -> dict[str, Any]:
    """Every field of a response component is always present (null where it may be): the
    serializers render all of them. Request components and problems keep their own."""
    for name, schema in result["components"]["schemas"].items():
        if name.endswith("Request") or name in OPTIONAL_MEMBERS or "properties" not in schema:
            continue
        schema["required"] = sorted(schema["properties"])
    return result


OPTIONAL_MEMBERS = {"Problem"}


def add_field_error_codes(result: dict[str, Any], generator: Any, **kwargs: Any) -> dict[str, Any]:
    """Name the codes a field error can carry, so clients can switch over them."""
    schemas = result["components"]["schemas"]
    schemas["FieldErrorCode"] = {
        "type": "string",
        "enum": field_error_codes(),
        "description": "Why one input failed.",
    }
    schemas["FieldError"]["properties"]["code"] = {
        "allOf": [{"$ref": "#/components/schemas/FieldErrorCode"}],
        "description": schemas["FieldError"]["properties"]["code"].get("description", ""),
    }
    result["components"]["schemas"] = dict(sorted(schemas.items()))
    return result


def add_head_operations(result: dict[str, Any], generator: Any, **kwargs: Any) -> dict[str, Any]:
    """HEAD wherever GET is (RFC 9110 requires both; uptime monitors probe with HEAD): the
    same statuses and headers, no body. drf-spectacular leaves HEAD out."""
    for operations in result["paths"].values():
        get = operations.get("get")
        if get is None:
            continue
        head = copy.deepcopy(get)
        head["operationId"] = f"{get['operationId']}_head"
        head["summary"] = f"{get.get('summary', '')} (headers only)".strip()
        head["description"] = (
            "GET without the body: the same status and headers (the media type is the "
            "one GET would send; no content follows)."
        )
        for response in head["responses"].values():
            response.pop("links", None)
            for media in response.get("content", {}).values():
                media.pop("examples", None)
        operations["head"] = head
        order = ["get", "head", "put", "patch", "post", "delete"]
        ordered = sorted(operations.items(), key=lambda item: order.index(item[0]))
        operations.clear()
        operations.update(ordered)
    return result


def add_webhooks(result: dict[str, Any], generator: Any, **kwargs: Any) -> dict[str, Any]:
    """The messages webhooks send, as OpenAPI 3.1 ``webhooks`` with a component per body
    (api.apidocs.webhooks). Written here rather than through drf-spectacular's WEBHOOKS:
    that would describe each body as a request, cut to the fields a client may write,
    where a message carries the API's full representations."""
    from api.apidocs.webhooks import MESSAGES, message_schema, webhook_operation

    schemas = result["components"]["schemas"]
    for event_type, (name, _, _) in MESSAGES.items():
        schemas[name] = message_schema(event_type)
    result["components"]["schemas"] = dict(sorted(schemas.items()))
    result["webhooks"] = {
        event_type: {"post": webhook_operation(event_type)} for event_type in MESSAGES
    }
    return result
