"""Inviting users to an event, and answering invitations.

alice hosts and invites, bob is invited, charlie is an outsider.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

import pytest
from django.utils import timezone
from model_bakery import baker
from rest_framework.test import APIClient

from api.models import Event, EventParticipant, Invitation, User
from api.views.invitations import InvitationViewSet
from tests.helpers import assert_field_error, assert_problem

AuthClient = Callable[[User], APIClient]

pytestmark = pytest.mark.django_db

UNKNOWN_ID = 999_999
PENDING = Invitation.Status.PENDING
ACCEPTED = Invitation.Status.ACCEPTED
DECLINED = Invitation.Status.DECLINED


def invite_url(event_id: int) -> str:
    return f"/api/events/{event_id}/invite/"


def invitation_url(invitation_id: int) -> str:
    return f"/api/invitations/{invitation_id}/"


INVITATIONS_URL = "/api/invitations/"


def invite(event: Event, invitee: User, **fields: Any) -> Invitation:
    return baker.make(Invitation, event=event, inviter=event.host, invitee=invitee, **fields)


def assert_still_pending(invitation: Invitation) -> None:
    invitation.refresh_from_db()
    assert invitation.status == PENDING
    assert invitation.responded_at is None


def is_participant(event: Event, user: User) -> bool:
    return EventParticipant.objects.filter(event=event, user=user).exists()


# Invite


def test_host_can_invite_a_user(alice: User, bob: User, auth_client: AuthClient) -> None:
    event = baker.make_recipe("api.future_event", host=alice, title="Launch party")

    response = auth_client(alice).post(invite_url(event.pk), {"invitee": bob.pk}, format="json")

    assert response.status_code == 201, response.content
    invitation = Invitation.objects.get(event=event, invitee=bob)
    body = response.json()
    assert set(body) == {
        "id",
        "event",
        "inviter",
        "invitee",
        "status",
        "sent_at",
        "responded_at",
    }
    assert body["id"] == invitation.pk
    assert set(body["event"]) == {"id", "title", "start_time"}
    assert body["event"]["id"] == event.pk
    assert body["event"]["title"] == "Launch party"
    assert datetime.fromisoformat(body["event"]["start_time"]) == event.start_time
    assert body["inviter"] == {"id": alice.pk, "username": "alice"}
    assert body["invitee"] == {"id": bob.pk, "username": "bob"}
    assert body["status"] == "PENDING"
    assert datetime.fromisoformat(body["sent_at"]) == invitation.sent_at
    assert body["responded_at"] is None
    assert invitation.inviter == alice
    assert invitation.status == PENDING
    assert invitation.responded_at is None


@pytest.mark.parametrize("role", ["invitee", "outsider"])
def test_only_the_host_may_invite(
    role: str, alice: User, bob: User, charlie: User, auth_client: AuthClient
) -> None:
    event = baker.make_recipe("api.future_event", host=alice)
    caller = {"invitee": bob, "outsider": charlie}[role]

    response = auth_client(caller).post(invite_url(event.pk), {"invitee": bob.pk}, format="json")

    assert_problem(response, 403, "permission_denied")
    assert not Invitation.objects.exists()


def test_participant_who_is_not_the_host_cannot_invite(
    alice: User, bob: User, charlie: User, auth_client: AuthClient
) -> None:
    event = baker.make_recipe("api.future_event", host=alice)
    baker.make(EventParticipant, event=event, user=bob)

    response = auth_client(bob).post(invite_url(event.pk), {"invitee": charlie.pk}, format="json")

    assert_problem(response, 403, "permission_denied")
    assert not Invitation.objects.exists()


def test_anonymous_user_cannot_invite(alice: User, bob: User, api_client: APIClient) -> None:
    event = baker.make_recipe("api.future_event", host=alice)

    response = api_client.post(invite_url(event.pk), {"invitee": bob.pk}, format="json")

    assert_problem(response, 401, "not_authenticated")
    assert not Invitation.objects.exists()


def test_host_cannot_invite_themselves(alice: User, auth_client: AuthClient) -> None:
    event = baker.make_recipe("api.future_event", host=alice)

    response = auth_client(alice).post(invite_url(event.pk), {"invitee": alice.pk}, format="json")

    assert_field_error(response, "invitee")
    assert not Invitation.objects.exists()


def test_inviting_an_unknown_user_is_invalid(alice: User, auth_client: AuthClient) -> None:
    event = baker.make_recipe("api.future_event", host=alice)

    response = auth_client(alice).post(invite_url(event.pk), {"invitee": UNKNOWN_ID}, format="json")

    assert_field_error(response, "invitee")
    assert not Invitation.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        {"invitee": 0},
        {"invitee": -1},
        {"invitee": "abc"},
        {"invitee": 2**70},
        {"invitee": 2.5},
        {"invitee": None},
        {},
    ],
    ids=["zero", "negative", "not a number", "beyond 64 bits", "fraction", "null", "missing"],
)
def test_invitee_must_be_a_valid_user_id(
    body: dict[str, Any], alice: User, auth_client: AuthClient
) -> None:
    event = baker.make_recipe("api.future_event", host=alice)

    response = auth_client(alice).post(invite_url(event.pk), body, format="json")

    assert_field_error(response, "invitee")
    assert not Invitation.objects.exists()


def test_a_second_pending_invitation_is_refused(
    alice: User, bob: User, auth_client: AuthClient
) -> None:
    event = baker.make_recipe("api.future_event", host=alice)
    existing = invite(event, bob)

    response = auth_client(alice).post(invite_url(event.pk), {"invitee": bob.pk}, format="json")

    assert_problem(response, 409, "already_invited")
    assert list(Invitation.objects.filter(event=event, invitee=bob)) == [existing]


def test_a_pending_invitation_to_another_event_does_not_block_an_invitation(
    alice: User, bob: User, auth_client: AuthClient
) -> None:
    event = baker.make_recipe("api.future_event", host=alice)
    invite(baker.make_recipe("api.future_event", host=alice), bob)

    response = auth_client(alice).post(invite_url(event.pk), {"invitee": bob.pk}, format="json")

    assert response.status_code == 201, response.content
    assert Invitation.objects.filter(event=event, invitee=bob, status=PENDING).count() == 1


def test_a_user_who_declined_can_be_invited_again(
    alice: User, bob: User, auth_client: AuthClient
) -> None:
    event = baker.make_recipe("api.future_event", host=alice)
    invite(event, bob, status=DECLINED, responded_at=timezone.now())

    response = auth_client(alice).post(invite_url(event.pk), {"invitee": bob.pk}, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["status"] == "PENDING"
    statuses = Invitation.objects.filter(event=event, invitee=bob).values_list("status", flat=True)
    assert sorted(statuses) == [DECLINED, PENDING]


def test_inviting_a_participant_is_refused(alice: User, bob: User, auth_client: AuthClient) -> None:
    event = baker.make_recipe("api.future_event", host=alice)
    baker.make(EventParticipant, event=event, user=bob)

    response = auth_client(alice).post(invite_url(event.pk), {"invitee": bob.pk}, format="json")

    assert_problem(response, 409, "already_participant")
    assert not Invitation.objects.exists()


@pytest.mark.parametrize(
    "recipe", ["api.started_event", "api.ended_event"], ids=["started", "ended"]
)
def test_inviting_is_refused_once_the_event_has_started(
    recipe: str, alice: User, bob: User, auth_client: AuthClient
) -> None:
    event = baker.make_recipe(recipe, host=alice)

    response = auth_client(alice).post(invite_url(event.pk), {"invitee": bob.pk}, format="json")

    assert_problem(response, 409, "registration_closed")
    assert not Invitation.objects.exists()


def test_inviting_to_an_unknown_event_is_not_found(
    alice: User, bob: User, auth_client: AuthClient
) -> None:
    response = auth_client(alice).post(invite_url(UNKNOWN_ID), {"invitee": bob.pk}, format="json")

    assert_problem(response, 404, "not_found")
    assert not Invitation.objects.exists()


# When several rules fail at once: 401, 404, 403, 429, 400, 409.


def test_anonymous_invite_to_an_unknown_event_is_401(api_client: APIClient) -> None:
    response = api_client.post(invite_url(UNKNOWN_ID), {"invitee": "abc"}, format="json")

    assert_problem(response, 401, "not_authenticated")


def test_non_host_inviting_to_an_unknown_event_is_404(bob: User, auth_client: AuthClient) -> None:
    response = auth_client(bob).post(invite_url(UNKNOWN_ID), {"invitee": "abc"}, format="json")

    assert_problem(response, 404, "not_found")


def test_non_host_inviting_with_an_invalid_body_is_403(
    alice: User, bob: User, auth_client: AuthClient
) -> None:
    event = baker.make_recipe("api.started_event", host=alice)

    response = auth_client(bob).post(invite_url(event.pk), {"invitee": "abc"}, format="json")

    assert_problem(response, 403, "permission_denied")
    assert not Invitation.objects.exists()


def test_host_inviting_with_an_invalid_body_to_a_started_event_is_400(
    alice: User, auth_client: AuthClient
) -> None:
    event = baker.make_recipe("api.started_event", host=alice)

    response = auth_client(alice).post(invite_url(event.pk), {"invitee": "abc"}, format="json")

    assert_field_error(response, "invitee")
    assert not Invitation.objects.exists()


# List and show


def test_invitations_list_shows_only_invitations_received_by_the_caller(
    alice: User, bob: User, charlie: User, auth_client: AuthClient
) -> None:
    alices_event = baker.make_recipe("api.future_event", host=alice)
    bobs_event = baker.make_recipe("api.future_event", host=bob)
    received = invite(alices_event, bob)
    invite(bobs_event, charlie)  # sent by bob
    invite(alices_event, charlie)  # another user's

    response = auth_client(bob).get(INVITATIONS_URL)

    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 1
    assert [row["id"] for row in body["results"]] == [received.pk]
    assert body["results"][0]["invitee"] == {"id": bob.pk, "username": "bob"}
    assert body["results"][0]["inviter"] == {"id": alice.pk, "username": "alice"}


def test_host_does_not_see_the_invitations_they_sent(
    alice: User, bob: User, auth_client: AuthClient
) -> None:
    invite(baker.make_recipe("api.future_event", host=alice), bob)

    response = auth_client(alice).get(INVITATIONS_URL)

    assert response.status_code == 200, response.content
    assert response.json()["count"] == 0
    assert response.json()["results"] == []


@pytest.mark.parametrize("status", ["PENDING", "ACCEPTED", "DECLINED"])
def test_invitations_list_filters_by_status(
    status: str, alice: User, bob: User, auth_client: AuthClient
) -> None:
    by_status = {
        name: invite(
            baker.make_recipe("api.future_event", host=alice),
            bob,
            status=name,
            responded_at=None if name == PENDING else timezone.now(),
        )
        for name in ["PENDING", "ACCEPTED", "DECLINED"]
    }

    response = auth_client(bob).get(INVITATIONS_URL, {"status": status})

    assert response.status_code == 200, response.content
    assert [row["id"] for row in response.json()["results"]] == [by_status[status].pk]
    assert response.json()["results"][0]["status"] == status


@pytest.mark.parametrize("status", ["MAYBE", "pending"], ids=["unknown", "lowercase"])
def test_invitations_list_refuses_an_invalid_status_filter(
    status: str, bob: User, auth_client: AuthClient
) -> None:
    response = auth_client(bob).get(INVITATIONS_URL, {"status": status})

    assert_field_error(response, "status")


def test_anonymous_user_cannot_list_invitations(api_client: APIClient) -> None:
    response = api_client.get(INVITATIONS_URL)

    assert_problem(response, 401, "not_authenticated")


@pytest.mark.parametrize("invitations", [1, 25], ids=["one invitation", "25 invitations"])
def test_invitations_list_query_count_does_not_grow_with_the_page(
    invitations: int,
    alice: User,
    bob: User,
    auth_client: AuthClient,
    django_assert_num_queries: Callable[[int], AbstractContextManager[object]],
) -> None:
    for _ in range(invitations):
        invite(baker.make_recipe("api.future_event", host=alice), bob)
    client = auth_client(bob)

    # The caller (from the JWT), the page's count, the page with its events and users.
    with django_assert_num_queries(3):
        response = client.get(INVITATIONS_URL, {"page_size": 100})

    assert response.status_code == 200, response.content
    assert len(response.json()["results"]) == invitations


def test_invitee_can_see_their_invitation(alice: User, bob: User, auth_client: AuthClient) -> None:
    invitation = invite(baker.make_recipe("api.future_event", host=alice), bob)

    response = auth_client(bob).get(invitation_url(invitation.pk))

    assert response.status_code == 200, response.content
    assert response.json()["id"] == invitation.pk
    assert response.json()["status"] == "PENDING"


@pytest.mark.parametrize("role", ["inviter", "outsider"])
def test_nobody_but_the_invitee_can_see_an_invitation(
    role: str, alice: User, bob: User, charlie: User, auth_client: AuthClient
) -> None:
    invitation = invite(baker.make_recipe("api.future_event", host=alice), bob)
    caller = {"inviter": alice, "outsider": charlie}[role]

    response = auth_client(caller).get(invitation_url(invitation.pk))

    assert_problem(response, 404, "not_found")


def test_anonymous_user_cannot_see_an_invitation(
    alice: User, bob: User, api_client: APIClient
) -> None:
    invitation = invite(baker.make_recipe("api.future_event", host=alice), bob)

    response = api_client.get(invitation_url(invitation.pk))

    assert_problem(response, 401, "not_authenticated")


# Answer


def test_accepting_an_invitation_registers_the_invitee(
    alice: User, bob: User, auth_client: AuthClient
) -> None:
    event = baker.make_recipe("api.future_event", host=alice)
    invitation = invite(event, bob)

    response = auth_client(bob).put(
        invitation_url(invitation.pk), {"status": "ACCEPTED"}, format="json"
    )

    assert response.status_code == 200, response.content
    body = response.json()
    invitation.refresh_from_db()
    assert body["id"] == invitation.pk
    assert body["status"] == "ACCEPTED"
    assert invitation.status == ACCEPTED
    assert invitation.responded_at is not None
    assert datetime.fromisoformat(body["responded_at"]) == invitation.responded_at
    assert EventParticipant.objects.filter(event=event, user=bob).count() == 1


def test_declining_an_invitation_does_not_register_the_invitee(
    alice: User, bob: User, auth_client: AuthClient
) -> None:
    event = baker.make_recipe("api.future_event", host=alice)
    invitation = invite(event, bob)

    response = auth_client(bob).put(
        invitation_url(invitation.pk), {"status": "DECLINED"}, format="json"
    )

    assert response.status_code == 200, response.content
    invitation.refresh_from_db()
    assert response.json()["status"] == "DECLINED"
    assert invitation.status == DECLINED
    assert invitation.responded_at is not None
    assert datetime.fromisoformat(response.json()["responded_at"]) == invitation.responded_at
    assert not is_participant(event, bob)


@pytest.mark.parametrize("role", ["inviter", "outsider"])
@pytest.mark.parametrize("answer", ["ACCEPTED", "DECLINED"])
def test_nobody_but_the_invitee_can_answer_an_invitation(
    role: str, answer: str, alice: User, bob: User, charlie: User, auth_client: AuthClient
) -> None:
    event = baker.make_recipe("api.future_event", host=alice)
    invitation = invite(event, bob)
    caller = {"inviter": alice, "outsider": charlie}[role]

    response = auth_client(caller).put(
        invitation_url(invitation.pk), {"status": answer}, format="json"
    )

    assert_problem(response, 404, "not_found")
    assert_still_pending(invitation)
    assert not EventParticipant.objects.filter(event=event).exists()


def test_anonymous_user_cannot_answer_an_invitation(
    alice: User, bob: User, api_client: APIClient
) -> None:
    event = baker.make_recipe("api.future_event", host=alice)
    invitation = invite(event, bob)

    response = api_client.put(invitation_url(invitation.pk), {"status": "ACCEPTED"}, format="json")

    assert_problem(response, 401, "not_authenticated")
    assert_still_pending(invitation)
    assert not is_participant(event, bob)


def test_answering_an_unknown_invitation_is_not_found(bob: User, auth_client: AuthClient) -> None:
    response = auth_client(bob).put(
        invitation_url(UNKNOWN_ID), {"status": "ACCEPTED"}, format="json"
    )

    assert_problem(response, 404, "not_found")


@pytest.mark.parametrize(
    "body",
    [{"status": "PENDING"}, {}, {"status": "MAYBE"}, {"status": "accepted"}, {"status": None}],
    ids=["pending", "missing", "unknown", "lowercase", "null"],
)
def test_answer_must_be_accepted_or_declined(
    body: dict[str, Any], alice: User, bob: User, auth_client: AuthClient
) -> None:
    event = baker.make_recipe("api.future_event", host=alice)
    invitation = invite(event, bob)

    response = auth_client(bob).put(invitation_url(invitation.pk), body, format="json")

    assert_field_error(response, "status")
    assert_still_pending(invitation)
    assert not is_participant(event, bob)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("ACCEPTED", "DECLINED"),
        ("ACCEPTED", "ACCEPTED"),
        ("DECLINED", "ACCEPTED"),
        ("DECLINED", "DECLINED"),
    ],
    ids=["accepted then declined", "accepted twice", "declined then accepted", "declined twice"],
)
def test_an_invitation_can_be_answered_only_once(
    first: str, second: str, alice: User, bob: User, auth_client: AuthClient
) -> None:
    event = baker.make_recipe("api.future_event", host=alice)
    invitation = invite(event, bob)
    client = auth_client(bob)
    assert (
        client.put(invitation_url(invitation.pk), {"status": first}, format="json").status_code
        == 200
    )
    invitation.refresh_from_db()
    answered_at = invitation.responded_at

    response = client.put(invitation_url(invitation.pk), {"status": second}, format="json")

    assert_problem(response, 409, "invitation_answered")
    invitation.refresh_from_db()
    assert invitation.status == first
    assert invitation.responded_at == answered_at
    assert EventParticipant.objects.filter(event=event, user=bob).count() == (
        1 if first == ACCEPTED else 0
    )


def test_accepting_is_refused_when_the_event_is_full(
    alice: User, bob: User, charlie: User, auth_client: AuthClient
) -> None:
    event = baker.make_recipe("api.future_event", host=alice, max_participants=1)
    baker.make(EventParticipant, event=event, user=charlie)
    invitation = invite(event, bob)

    response = auth_client(bob).put(
        invitation_url(invitation.pk), {"status": "ACCEPTED"}, format="json"
    )

    body = assert_problem(response, 409, "event_full")
    assert "1 seats" in body["detail"]
    assert_still_pending(invitation)
    assert not is_participant(event, bob)
    assert EventParticipant.objects.filter(event=event).count() == 1


def test_declining_is_allowed_when_the_event_is_full(
    alice: User, bob: User, charlie: User, auth_client: AuthClient
) -> None:
    event = baker.make_recipe("api.future_event", host=alice, max_participants=1)
    baker.make(EventParticipant, event=event, user=charlie)
    invitation = invite(event, bob)

    response = auth_client(bob).put(
        invitation_url(invitation.pk), {"status": "DECLINED"}, format="json"
    )

    assert response.status_code == 200, response.content
    invitation.refresh_from_db()
    assert invitation.status == DECLINED


def test_accepting_is_refused_once_the_event_has_started(
    alice: User, bob: User, auth_client: AuthClient
) -> None:
    event = baker.make_recipe("api.started_event", host=alice)
    invitation = invite(event, bob)

    response = auth_client(bob).put(
        invitation_url(invitation.pk), {"status": "ACCEPTED"}, format="json"
    )

    assert_problem(response, 409, "registration_closed")
    assert_still_pending(invitation)
    assert not is_participant(event, bob)


def test_accepting_after_registering_on_your_own_keeps_one_registration(
    alice: User, bob: User, auth_client: AuthClient
) -> None:
    event = baker.make_recipe("api.future_event", host=alice, max_participants=1)
    invitation = invite(event, bob)
    baker.make(EventParticipant, event=event, user=bob)

    response = auth_client(bob).put(
        invitation_url(invitation.pk), {"status": "ACCEPTED"}, format="json"
    )

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "ACCEPTED"
    invitation.refresh_from_db()
    assert invitation.status == ACCEPTED
    assert invitation.responded_at is not None
    assert EventParticipant.objects.filter(event=event, user=bob).count() == 1


def test_invitee_answering_pending_to_an_answered_invitation_gets_400(
    alice: User, bob: User, auth_client: AuthClient
) -> None:
    event = baker.make_recipe("api.future_event", host=alice)
    answered_at = timezone.now()
    invitation = invite(event, bob, status=DECLINED, responded_at=answered_at)

    response = auth_client(bob).put(
        invitation_url(invitation.pk), {"status": "PENDING"}, format="json"
    )

    assert_field_error(response, "status")
    invitation.refresh_from_db()
    assert invitation.status == DECLINED
    assert invitation.responded_at == answered_at


def test_outsider_answering_invalid_status_to_someone_elses_invitation_gets_404(
    alice: User, bob: User, charlie: User, auth_client: AuthClient
) -> None:
    invitation = invite(baker.make_recipe("api.future_event", host=alice), bob)

    response = auth_client(charlie).put(
        invitation_url(invitation.pk), {"status": "PENDING"}, format="json"
    )

    assert_problem(response, 404, "not_found")
    assert_still_pending(invitation)


@pytest.mark.parametrize("method", ["patch", "delete"])
def test_invitation_cannot_be_patched_or_deleted(
    method: str, alice: User, bob: User, auth_client: AuthClient
) -> None:
    event = baker.make_recipe("api.future_event", host=alice)
    invitation = invite(event, bob)
    client = auth_client(bob)

    response = getattr(client, method)(
        invitation_url(invitation.pk), {"status": "ACCEPTED"}, format="json"
    )

    assert_problem(response, 405, "method_not_allowed")
    assert_still_pending(invitation)
    assert not is_participant(event, bob)


def test_accepting_registers_an_invitee_who_takes_part_in_another_event(
    alice: User, bob: User, auth_client: AuthClient
) -> None:
    event = baker.make_recipe("api.future_event", host=alice)
    baker.make(EventParticipant, event=baker.make_recipe("api.future_event", host=alice), user=bob)
    invitation = invite(event, bob)

    response = auth_client(bob).put(
        invitation_url(invitation.pk), {"status": "ACCEPTED"}, format="json"
    )

    assert response.status_code == 200, response.content
    assert is_participant(event, bob)
    assert EventParticipant.objects.filter(user=bob).count() == 2


@pytest.mark.parametrize("answered", ["older", "newer"])
def test_answering_one_of_two_invitations_answers_only_that_one(
    answered: str, alice: User, bob: User, auth_client: AuthClient
) -> None:
    invitations = {
        "older": invite(baker.make_recipe("api.future_event", host=alice), bob),
        "newer": invite(baker.make_recipe("api.future_event", host=alice), bob),
    }
    (other,) = (invitation for name, invitation in invitations.items() if name != answered)
    target = invitations[answered]

    response = auth_client(bob).put(
        invitation_url(target.pk), {"status": "ACCEPTED"}, format="json"
    )

    assert response.status_code == 200, response.content
    assert response.json()["id"] == target.pk
    target.refresh_from_db()
    assert target.status == ACCEPTED
    assert_still_pending(other)
    assert is_participant(target.event, bob)
    assert not is_participant(other.event, bob)


@pytest.mark.parametrize("answer", ["ACCEPTED", "DECLINED"])
def test_the_answer_shows_the_invitations_event(
    answer: str, alice: User, bob: User, auth_client: AuthClient
) -> None:
    event = baker.make_recipe("api.future_event", host=alice, title="Launch party")
    invitation = invite(event, bob)

    client = auth_client(bob)

    response = client.put(invitation_url(invitation.pk), {"status": answer}, format="json")

    assert response.status_code == 200, response.content
    shown = client.get(invitation_url(invitation.pk)).json()["event"]
    assert response.json()["event"] == shown
    assert (shown["id"], shown["title"]) == (event.pk, "Launch party")
    assert datetime.fromisoformat(shown["start_time"]) == event.start_time


def test_inviting_to_a_started_event_says_invitations_are_closed(
    alice: User, bob: User, auth_client: AuthClient
) -> None:
    event = baker.make_recipe("api.started_event", host=alice)

    response = auth_client(alice).post(invite_url(event.pk), {"invitee": bob.pk}, format="json")

    body = assert_problem(response, 409, "registration_closed")
    assert body["detail"] == "The event has already started; invitations are closed."
    assert not Invitation.objects.exists()


def test_answering_an_invitation_deleted_after_the_lookup_is_not_found(
    alice: User, bob: User, auth_client: AuthClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The invitation vanishes between the view's lookup and the service's lock: the
    service answers 404 itself, and registers nobody."""
    event = baker.make_recipe("api.future_event", host=alice)
    invitation = invite(event, bob)
    look_up = InvitationViewSet.get_object

    def found_then_deleted(view: InvitationViewSet) -> Invitation:
        found = look_up(view)
        Invitation.objects.filter(pk=found.pk).delete()
        return found

    monkeypatch.setattr(InvitationViewSet, "get_object", found_then_deleted)

    response = auth_client(bob).put(
        invitation_url(invitation.pk), {"status": "ACCEPTED"}, format="json"
    )

    body = assert_problem(response, 404, "not_found")
    assert body["detail"] == "No invitation with this id was sent to you."
    assert not is_participant(event, bob)
