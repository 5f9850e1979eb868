from datetime import datetime, timedelta

from django.utils import timezone
from model_bakery.recipe import Recipe, foreign_key

from api.models import Event, User

user = Recipe(User)


def _in_days(days: int) -> datetime:
    return timezone.now() + timedelta(days=days)


future_event = Recipe(
    Event,
    title="Meetup",
    host=foreign_key(user),
    start_time=lambda: _in_days(7),
    end_time=lambda: _in_days(7) + timedelta(hours=2),
    max_participants=10,
)

started_event = future_event.extend(
    start_time=lambda: timezone.now() - timedelta(hours=1),
    end_time=lambda: timezone.now() + timedelta(hours=1),
)

ended_event = future_event.extend(
    start_time=lambda: timezone.now() - timedelta(days=2),
    end_time=lambda: timezone.now() - timedelta(days=2) + timedelta(hours=2),
)
