from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any, TypeVar

import django_filters
from django import forms
from django.db import connection
from django.db.models import F, Func, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from drf_spectacular.utils import OpenApiParameter, extend_schema_field

from api.ids import MAX_ID
from api.models import Event, Invitation, WebhookDelivery

SQLITE_CASEFOLD = "events_casefold"


class DateOrDateTimeField(forms.Field):
    """An ISO 8601 date or datetime; a datetime without an offset is UTC."""

    default_error_messages = {"invalid": "Enter an ISO 8601 date or datetime."}

    def to_python(self, value: Any) -> date | datetime | None:
        if value in self.empty_values:
            return None
        text = str(value).strip()
        try:
            parsed: date | datetime | None = parse_date(text) or parse_datetime(text)
        except ValueError:
            parsed = None
        if parsed is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        if isinstance(parsed, datetime):
            if timezone.is_naive(parsed):
                parsed = parsed.replace(tzinfo=UTC)
            try:
                parsed = parsed.astimezone(UTC)
            except OverflowError as error:
                raise forms.ValidationError(
                    self.error_messages["invalid"], code="invalid"
                ) from error
        return parsed


DATE_OR_DATETIME_SCHEMA = {
    "anyOf": [{"type": "string", "format": "date"}, {"type": "string", "format": "date-time"}]
}


@extend_schema_field(DATE_OR_DATETIME_SCHEMA)
class DateOrDateTimeFilter(django_filters.Filter):
    """Inclusive bound; a bare date covers its whole day (``_before=2026-05-01`` includes
    events on 1 May)."""

    field_class = DateOrDateTimeField

    def filter(self, qs: QuerySet[Any], value: date | datetime | None) -> QuerySet[Any]:
        if value is None:
            return qs
        if not isinstance(value, datetime):
            bound = time.max if self.lookup_expr == "lte" else time.min
            value = datetime.combine(value, bound, tzinfo=UTC)
        return qs.filter(**{f"{self.field_name}__{self.lookup_expr}": value})


ID_SCHEMA = {"type": "integer", "format": "int64", "minimum": 1, "maximum": MAX_ID}


@extend_schema_field(ID_SCHEMA)
class IdFilter(django_filters.Filter):
    field_class = forms.IntegerField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class StableOrderingFilter(django_filters.OrderingFilter):
    """Ordering with the primary key as tie-breaker, so pages never repeat or skip rows."""

    def filter(self, qs: QuerySet[Any], value: list[str] | None) -> QuerySet[Any]:
        if not value:
            return qs
        # A field named again cannot change the order its first mention set; dropping
        # the repeats keeps a URL of a thousand keys from becoming a thousand-term
        # ORDER BY.
        ordering: dict[str, str] = {}
        for param in value:
            key = self.get_ordering_value(param)
            ordering.setdefault(key.removeprefix("-"), key)
        keys = list(ordering.values())
        return qs.order_by(*keys, "-id" if keys[0].startswith("-") else "id")


EVENT_ORDERING_FIELDS = ("start_time", "created_at", "title")
EVENT_ORDERING_CHOICES = [key for field in EVENT_ORDERING_FIELDS for key in (field, f"-{field}")]


class StrictFilterSet(django_filters.FilterSet):
    """A parameter sent with an empty value is an error, not a filter silently skipped."""

    may_be_empty: tuple[str, ...] = ()

    def is_valid(self) -> bool:
        valid = super().is_valid()
        for name, filter_ in self.filters.items():
            raw = self.data.get(name)
            if raw is None or name in self.may_be_empty:
                continue
            items = raw.split(",") if isinstance(filter_, django_filters.OrderingFilter) else [raw]
            if "" in items:
                self.form.add_error(
                    name, forms.ValidationError("Empty values are not allowed.", code="blank")
                )
                valid = False
        return valid


FilterT = TypeVar("FilterT", bound=django_filters.Filter)


def documented(filter_: FilterT, schema: dict[str, Any], description: str) -> FilterT:
    """The filter with its query parameter's schema and text, where drf-spectacular reads
    them (an override's ``description`` becomes the parameter's)."""
    return extend_schema_field({**schema, "description": description})(filter_)


def time_bound(field: str, label: str, bound: str) -> DateOrDateTimeFilter:
    lookup, inclusive, bare_date = {
        "after": ("gte", "at or after", "date means its start."),
        "before": ("lte", "at or before", "date covers its whole day."),
    }[bound]
    return documented(
        DateOrDateTimeFilter(field_name=field, lookup_expr=lookup),
        DATE_OR_DATETIME_SCHEMA,
        f"{label} {inclusive} this ISO 8601 date or datetime (inclusive). A datetime without "
        f"an offset is UTC; a bare {bare_date}",
    )


class EventFilter(StrictFilterSet):
    def __init__(self, data: Any = None, *args: Any, **kwargs: Any) -> None:
        # `ordering=a&ordering=b` (how generated clients send an array) means `a,b`.
        if data is not None and len(data.getlist("ordering")) > 1:
            data = data.copy()
            data.setlist("ordering", [",".join(data.getlist("ordering"))])
        super().__init__(data, *args, **kwargs)

    host = documented(
        IdFilter(field_name="host_id"), ID_SCHEMA, "Only events hosted by this user id."
    )
    location = documented(
        django_filters.CharFilter(method="filter_location", max_length=200),
        {"type": "string", "maxLength": 200},
        "Case-insensitive substring of the location.",
    )
    start_time_after = time_bound("start_time", "Starts", "after")
    start_time_before = time_bound("start_time", "Starts", "before")
    end_time_after = time_bound("end_time", "Ends", "after")
    end_time_before = time_bound("end_time", "Ends", "before")
    ordering = StableOrderingFilter(fields=EVENT_ORDERING_FIELDS)

    may_be_empty = ("location",)

    def filter_location(self, queryset: QuerySet[Event], name: str, value: str) -> QuerySet[Event]:
        if connection.vendor != "sqlite":
            return queryset.filter(location__icontains=value)
        # SQLite's LIKE folds ASCII letters only; the embedded default casefolds in Python
        # (api.apps registers the function) so "MÜNCHEN" finds "München" there too.
        return queryset.annotate(
            location_folded=Func(F("location"), function=SQLITE_CASEFOLD)
        ).filter(location_folded__contains=value.casefold())

    class Meta:
        model = Event
        fields: list[str] = []


class InvitationFilter(StrictFilterSet):
    status = django_filters.ChoiceFilter(choices=Invitation.Status.choices)

    class Meta:
        model = Invitation
        fields = ["status"]


# drf-spectacular documents a comma-separated filter as an array without minItems, and
# the sort keys as a named enum (api.rest.openapi.add_named_enums): stated by hand.
ORDERING_PARAMETER = OpenApiParameter(
    "ordering",
    {"type": "array", "minItems": 1, "items": {"$ref": "#/components/schemas/EventOrdering"}},
    style="form",
    explode=True,
    description="Sort keys; default start_time. Prefix with - to reverse. Repeat the "
    "parameter (`ordering=-title&ordering=start_time`) or separate keys with commas "
    "(`ordering=-title,start_time`): both mean the same. A field named again is ignored: "
    "its first mention sets its direction.",
)


class WebhookDeliveryFilter(StrictFilterSet):
    status = django_filters.ChoiceFilter(choices=WebhookDelivery.Status.choices)

    class Meta:
        model = WebhookDelivery
        fields = ["status"]
