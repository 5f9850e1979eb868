"""The problem-details component and the builder every operation's errors come from."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from drf_spectacular.utils import OpenApiExample, OpenApiResponse
from rest_framework import exceptions, serializers

from api.exceptions import Conflict, RequestTooLarge, ServiceUnavailable


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

QUERY_STRING_REFUSED = (
    "The query string is refused: a parameter this operation does not take "
    "(`unknown_parameter`) or a NUL character (`invalid`); or the request cannot be read "
    "(`parse_error`: a Host this server does not serve, too many parameters)."
)

RETRY_AFTER_HEADER = {
    "Retry-After": {
        "description": "Seconds to wait before retrying.",
        "schema": {"type": "integer", "minimum": 1},
    }
}


# The classes each status's problem comes from, wherever an operation declares it;
# api.rest.openapi.AutoSchema adds their codes, and the 400s and 401s that depend on the
# operation (its body, parameters and credentials). 409s are the operation's own.
STATUS_RAISES: dict[int, tuple[type[exceptions.APIException], ...]] = {
    403: (exceptions.PermissionDenied,),
    404: (exceptions.NotFound,),
    405: (exceptions.MethodNotAllowed,),
    413: (RequestTooLarge,),
    415: (exceptions.UnsupportedMediaType,),
    429: (exceptions.Throttled,),
    503: (ServiceUnavailable,),
}


def problem_code(exception_class: type[exceptions.APIException]) -> str:
    """The ``code`` a problem from this class carries."""
    return str(getattr(exception_class, "problem_code", exception_class.default_code))


def problem_schema(codes: Iterable[str]) -> dict[str, Any]:
    """The Problem component, narrowed to the codes one response can carry."""
    return {
        "allOf": [
            {"$ref": "#/components/schemas/Problem"},
            {
                "type": "object",
                "required": ["code"],
                "properties": {"code": {"type": "string", "enum": sorted(set(codes))}},
            },
        ]
    }


def errors(
    *statuses: int,
    conflicts: Iterable[type[Conflict]] = (),
    raises: Iterable[type[exceptions.APIException]] = (),
    **descriptions: str,
) -> dict[int, OpenApiResponse]:
    """The error statuses an operation answers with, as ``responses`` entries.

    Each response enumerates its ``code`` values, from the exception classes: the
    ``conflicts`` (409s) and any others the operation ``raises`` here, the status's
    usual ones (``STATUS_RAISES``) in api.rest.openapi.AutoSchema. ``descriptions``
    overrides the default text per status, keyed ``s409`` etc.; a 409 without one lists
    its codes. Each conflict also becomes an
    example whose code and detail come from the class itself, so the spec says what the
    server says.
    """
    conflicts = list(conflicts)
    raised = [*conflicts, *raises]
    responses = {}
    for status in statuses:
        classes = [c for c in raised if c.status_code == status]
        examples = [conflict_example(c.example()) for c in conflicts] if status == 409 else []
        default = ERROR_DESCRIPTIONS[status]
        if status == 409 and conflicts:
            default = _either(problem_code(c) for c in conflicts) + "."
        responses[status] = OpenApiResponse(
            response=problem_schema(problem_code(c) for c in classes),
            description=descriptions.get(f"s{status}", default),
            examples=examples or None,
        )
    return responses


def _either(codes: Iterable[str]) -> str:
    names = [f"`{code}`" for code in codes]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


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


# Codes the validation code raises by name, beside those of the fields' own messages.
RAISED_FIELD_CODES = (
    "unique",  # sign-up: username or email taken
    "past",  # an event's start time not in the future
    "before_start",  # an event's end not after its start
    "does_not_exist",  # an invitee that is not a user
    "self_invite",  # a host inviting themselves
    "confusable",  # sign-up: a username that imitates another (api.identities)
    "blank",  # a query parameter sent empty (api.filters.StrictFilterSet)
    "page_too_deep",  # api.rest.pagination
    "null_characters_not_allowed",  # a NUL in the query string (api.rest.middleware)
    "surrogate_characters_not_allowed",  # DRF's validator on every CharField
    # A webhook URL (api.webhooks.transport.validate_url):
    "invalid_scheme",
    "userinfo",
    "idn",
    "invalid_port",
    "fragment",
    "no_host",
    "private_address",
)


def field_error_codes() -> list[str]:
    """Every code a field error can carry: the error messages of every field a request
    body or query string is read with, and the codes raised by name."""
    from api import filters
    from api import serializers as api_serializers
    from api.rest.query import RepeatedParameter, UnknownParameter
    from api.webhooks import serializers as webhook_serializers

    codes = {*RAISED_FIELD_CODES, UnknownParameter.problem_code, RepeatedParameter.problem_code}
    for module in (api_serializers, webhook_serializers):
        for value in vars(module).values():
            ours = getattr(value, "__module__", None) == module.__name__
            if ours and isinstance(value, type) and issubclass(value, serializers.Serializer):
                codes |= _serializer_codes(value())
    for filterset in (filters.EventFilter, filters.InvitationFilter, filters.WebhookDeliveryFilter):
        for filter_ in filterset.base_filters.values():
            codes |= set(filter_.field.error_messages)
    return sorted(codes)


def _serializer_codes(serializer: serializers.Serializer) -> set[str]:
    codes = set(serializer.error_messages)
    for field in serializer.fields.values():
        if field.read_only:
            continue
        if isinstance(field, serializers.Serializer):
            codes |= _serializer_codes(field)
        else:
            codes |= set(field.error_messages)
        if isinstance(field, serializers.ListField):
            codes |= set(field.child.error_messages)
    return codes
