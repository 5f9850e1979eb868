"""Named points inside the services' transactions, where a test can hold one request.

A race test needs one transaction stopped at a precise moment (after it counted the
seats, before it writes) while another runs, every time, rather than hoping threads
interleave. Each service calls ``reached(NAME)`` at such a point; in production nothing
is registered and the call is one dictionary lookup. Tests register a handler with
``tests.races.hold_at`` (a context manager that blocks the thread arriving at the point
until the test releases it). The names are constants here, so a test and the service
cannot disagree on a spelling.
"""

from __future__ import annotations

from collections.abc import Callable

# After an event creation counted the host's recent creations, before it writes.
CREATIONS_COUNTED = "event_create.counted"
# After the capacity check counted participants, before the participant is written.
PARTICIPANT_COUNTED = "participant_add.counted"
# After an update counted participants against the new capacity, before it writes.
CAPACITY_COUNTED = "event_update.counted"
# After a waiting-list join counted the free seats, before the entry is written.
WAITING_LIST_COUNTED = "waiting_list_join.counted"
# After an acceptance or a decline found its offer live, before it is taken or declined.
OFFER_CHECKED = "waiting_list_offer.checked"
# After a delete locked its event, before the rows are deleted.
EVENT_DELETE_LOCKED = "event_delete.locked"
# After a refresh token's family was locked, before the token is marked redeemed.
REFRESH_FAMILY_LOCKED = "refresh.family_locked"
# After a password reset locked its user, before the token is checked.
RESET_USER_LOCKED = "password_reset.user_locked"

_handlers: dict[str, Callable[[], None]] = {}


def reached(name: str) -> None:
    """Run the handler a test registered for ``name``, if any."""
    handler = _handlers.get(name)
    if handler is not None:
        handler()


def register(name: str, handler: Callable[[], None]) -> Callable[[], None]:
    """Install ``handler`` at ``name``; returns the function that removes it."""
    if name in _handlers:
        raise RuntimeError(f"a handler is already registered at {name}")
    _handlers[name] = handler

    def remove() -> None:
        _handlers.pop(name, None)

    return remove
