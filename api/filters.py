from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from api.models import Event, Invitation

MAX_ID = 2**63 - 1


class DateOrDateTimeField(forms.Field):
    """An ISO 8601 date or datetime; a datetime without an offset is UTC."""

    default_error_messages = {"invalid": "Enter an ISO 8601 date or datetime."}

    def to_python(self, value: Any) -> date | datetime | None:
        if value in self.empty_values:
            return None
        text = str(value).strip()
        try:
            parsed: date | datetime | None = parse_datetime(text) or parse_date(text)
        except ValueError:
            parsed = None
        if parsed is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        if isinstance(parsed, datetime) and timezone.is_naive(parsed):
            parsed = timezone.make_aware(parsed, timezone.UTC)
        return parsed


class DateOrDateTimeFilter(django_filters.Filter):
    """Inclusive bound; a bare date covers its whole day (``_before=2026-05-01`` includes
    events on 1 May)."""

    field_class = DateOrDateTimeField

    def filter(self, qs: QuerySet[Any], value: date | datetime | None) -> QuerySet[Any]:
        if value is None:
            return qs
        if not isinstance(value, datetime):
            bound = time.max if self.lookup_expr == "lte" else time.min
            value = datetime.combine(value, bound, tzinfo=timezone.UTC)
        return qs.filter(**{f"{self.field_name}__{self.lookup_expr}": value})


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
        ordering = [self.get_ordering_value(param) for param in value]
        return qs.order_by(*ordering, "-id" if ordering[0].startswith("-") else "id")


class EventFilter(django_filters.FilterSet):
    host = IdFilter(field_name="host_id", help_text="Only events hosted by this user id.")
    location = django_filters.CharFilter(
        lookup_expr="icontains", max_length=200, help_text="Case-insensitive substring."
    )
    start_time_after = DateOrDateTimeFilter(
        field_name="start_time", lookup_expr="gte", help_text="Starts at or after (inclusive)."
    )
    start_time_before = DateOrDateTimeFilter(
        field_name="start_time", lookup_expr="lte", help_text="Starts at or before (inclusive)."
    )
    end_time_after = DateOrDateTimeFilter(
        field_name="end_time", lookup_expr="gte", help_text="Ends at or after (inclusive)."
    )
    end_time_before = DateOrDateTimeFilter(
        field_name="end_time", lookup_expr="lte", help_text="Ends at or before (inclusive)."
    )
    ordering = StableOrderingFilter(
        fields=("start_time", "created_at", "title"),
        help_text="Sort order; default start_time. Prefix with - to reverse.",
    )

    class Meta:
        model = Event
        fields: list[str] = []


class InvitationFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Invitation.Status.choices)

    class Meta:
        model = Invitation
        fields = ["status"]
