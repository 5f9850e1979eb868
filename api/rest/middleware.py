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
