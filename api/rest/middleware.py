from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from api.rest.problems import problem_response


class RejectNulInQueryStringMiddleware:
    """Answers 400 to a query string that carries a NUL character.

    PostgreSQL cannot store or compare strings containing NUL, so such a value reaching
    an ORM filter raises instead of simply matching nothing.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        offending = sorted(
            {
                name
                for name, values in request.GET.lists()
                for value in [name, *values]
                if "\x00" in value
            }
        )
        if offending:
            errors = [
                {
                    "field": name.replace("\x00", ""),
                    "code": "null_characters_not_allowed",
                    "message": "Null characters are not allowed.",
                }
                for name in offending
            ]
            return problem_response(400, "invalid", "Null characters are not allowed.", errors)
        return self.get_response(request)


# What the application accepts of a request's head; a server in front may refuse less.
MAX_REQUEST_TARGET_BYTES = 8192
MAX_HEADER_BYTES = 32768


class RequestHeadLimitsMiddleware:
    """Answers 414 to a request target over 8 KiB and 431 to headers over 32 KiB in all,
    as problem details: uvicorn sets no header limit of its own, and what a server says
    when it refuses a head itself is not in our error shape (README, per server)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        target = len(request.META.get("PATH_INFO", "").encode("utf-8", "surrogateescape"))
        target += len(request.META.get("QUERY_STRING", "")) + 1
        if target > MAX_REQUEST_TARGET_BYTES:
            return problem_response(
                414,
                "uri_too_long",
                f"The request target is longer than {MAX_REQUEST_TARGET_BYTES} bytes.",
            )
        header_bytes = sum(
            len(name) + len(str(value))
            for name, value in request.META.items()
            if name.startswith("HTTP_") or name in ("CONTENT_TYPE", "CONTENT_LENGTH")
        )
        if header_bytes > MAX_HEADER_BYTES:
            return problem_response(
                431,
                "request_header_fields_too_large",
                f"The request headers are larger than {MAX_HEADER_BYTES} bytes in all.",
            )
        return self.get_response(request)
