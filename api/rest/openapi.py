"""OpenAPI generation wired in settings: the schema class and the postprocessing hooks.

What each operation documents is declared beside its view (``api.apidocs``); this adds
what every operation shares (problem+json errors, Retry-After, the 400/413/415/503 any
request can earn) and what only the whole document knows (named enums, links, example
page links).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular import openapi
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework.permissions import SAFE_METHODS, IsAuthenticatedOrReadOnly

from api.apidocs.responses import (
    ERROR_DESCRIPTIONS,
    NUL_IN_QUERY_STRING,
    RETRY_AFTER_HEADER,
    ProblemSerializer,
)
from api.rest.problems import PROBLEM_CONTENT_TYPE


class BearerScheme(SimpleJWTScheme):
    """Our authentication class is simplejwt's with stricter claims: the same scheme."""

    target_class = "api.rest.authentication.BearerAuthentication"


class AutoSchema(openapi.AutoSchema):
    """Error responses are problem+json, 429 and 503 carry Retry-After, every operation
    documents the 400 and 503 any request can earn, and every operation that takes a body
    the 413 and 415 that any body can earn."""

    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation = super().get_operation(*args, **kwargs)
        if not operation:
            return operation
        # Any operation can meet a database (or Redis) outage.
        operation["responses"].setdefault(
            "503", self._get_response_for_code(ProblemSerializer, "503", [PROBLEM_CONTENT_TYPE])
        )
        operation["responses"]["503"]["description"] = ERROR_DESCRIPTIONS[503]
        # api.rest.middleware.RejectNulInQueryStringMiddleware answers 400 on every path, so
        # operations that take no other input can return it too (the health checks' only 4xx).
        if "400" not in operation["responses"]:
            operation["responses"]["400"] = self._get_response_for_code(
                ProblemSerializer, "400", [PROBLEM_CONTENT_TYPE]
            )
            operation["responses"]["400"]["description"] = NUL_IN_QUERY_STRING
        if "requestBody" in operation:
            for status_code in (413, 415):
                operation["responses"].setdefault(
                    str(status_code),
                    self._get_response_for_code(
                        ProblemSerializer, str(status_code), [PROBLEM_CONTENT_TYPE]
                    ),
                )
                operation["responses"][str(status_code)]["description"] = ERROR_DESCRIPTIONS[
                    status_code
                ]
        operation["responses"] = dict(sorted(operation["responses"].items()))
        return operation

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
        url = DEVELOPMENT_SERVER + path.replace("{id}", EXAMPLE_ID)
        properties = schemas[name]["properties"]
        properties["next"].setdefault("example", f"{url}?page=4")
        properties["previous"].setdefault("example", f"{url}?page=2")
    return result
