"""The problem-details component and the builder every operation's errors come from."""

from __future__ import annotations

from collections.abc import Iterable

from drf_spectacular.utils import OpenApiExample, OpenApiResponse
from rest_framework import serializers

from api.exceptions import Conflict


class FieldErrorSerializer(serializers.Serializer):
    field = serializers.CharField(
        help_text="The body field or query parameter at fault (dotted for nested ones); "
        "non_field_errors for the input as a whole."
    )
    code = serializers.CharField(help_text="Machine-readable reason, e.g. required, invalid.")
    message = serializers.CharField(help_text="Human-readable explanation.")


class ProblemSerializer(serializers.Serializer):
    """RFC 9457 problem details, extended with a stable code and field errors."""

    type = serializers.CharField(help_text='Always "about:blank": `code` names the problem.')
    title = serializers.CharField(help_text="The HTTP status phrase.")
    status = serializers.IntegerField(help_text="The HTTP status code.")
    detail = serializers.CharField(help_text="Human-readable explanation of this occurrence.")
    code = serializers.CharField(
        help_text="Stable, machine-readable error code, e.g. event_full, already_registered, "
        "registration_closed, not_authenticated, permission_denied, not_found, throttled."
    )
    # The field is named as the problem's member; a Serializer's own `errors` is the
    # validation result, which this schema-only serializer never produces.
    errors = FieldErrorSerializer(  # type: ignore[assignment]
        many=True, required=False, help_text="Present on 400: one entry per failing input."
    )

    class Meta:
        ref_name = "Problem"


ERROR_DESCRIPTIONS = {
    400: "The input is invalid; `errors` lists each failing field.",
    401: "No credentials, or invalid or expired ones.",
    403: "Authenticated, but not allowed to do this.",
    404: "No such resource, or not visible to you.",
    409: "Conflicts with the current state.",
    413: "The request body is larger than the server accepts.",
    415: "The request body is not application/json.",
    429: "Too many requests; retry after the number of seconds in Retry-After.",
    503: "Temporarily unavailable (database or Redis); retry after Retry-After seconds.",
}

NUL_IN_QUERY_STRING = "The query string carries a NUL character."

RETRY_AFTER_HEADER = {
    "Retry-After": {
        "description": "Seconds to wait before retrying.",
        "schema": {"type": "integer", "minimum": 1},
    }
}


def errors(
    *statuses: int, conflicts: Iterable[type[Conflict]] = (), **descriptions: str
) -> dict[int, OpenApiResponse]:
    """The error statuses an operation answers with, as ``responses`` entries.

    ``descriptions`` overrides the default text per status, keyed ``s409`` etc.
    ``conflicts`` are the 409s it can raise: each becomes an example whose code and
    detail come from the exception class itself, so the spec says what the server says.
    """
    examples = {409: [conflict_example(conflict.example()) for conflict in conflicts]}
    return {
        status: OpenApiResponse(
            response=ProblemSerializer,
            description=descriptions.get(f"s{status}", ERROR_DESCRIPTIONS[status]),
            examples=examples.get(status) or None,
        )
        for status in statuses
    }


def conflict_example(conflict: Conflict) -> OpenApiExample:
    code = str(conflict.get_codes())
    return OpenApiExample(
        code,
        value={
            "type": "about:blank",
            "title": "Conflict",
            "status": 409,
            "detail": str(conflict.detail),
            "code": code,
        },
        response_only=True,
        status_codes=["409"],
    )
