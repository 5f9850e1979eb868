"""Delivery by the real worker to a real receiver: what arrives, signed how, how often,
and what each answer does to the message and its endpoint."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from api import services
from api.models import User, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from api.webhooks import delivery, endpoints, transport
from api.webhooks.delivery import SCHEDULE
from tests.helpers import event_body
from tests.spec_validation import validate_webhook
from tests.webhook_receiver import Answer, Received, Receiver

pytestmark = pytest.mark.django_db

Worker = Callable[[], str]
Status = WebhookDelivery.Status


def _verified(endpoint: WebhookEndpoint, request: Received) -> dict:
    """The body as a receiver reads it: only after the signature checks out."""
    payload = Webhook(endpoint.secret).verify(request.body, request.headers)
    validate_webhook(payload["type"], request.body)
    return payload


def _make_due() -> None:
    """Let the clock reach every scheduled retry (the schedule itself is tested apart)."""
    WebhookDelivery.objects.filter(status=Status.PENDING).update(next_attempt_at=timezone.now())


def _event(host: User, **fields: object):
    return services.event_create(host=host, **{**event_body(), **fields})


def test_each_host_message_arrives_once_signed_with_the_api_representation(
    alice: User, bob: User, endpoint_for, receiver: Receiver, run_worker: Worker, auth_client
) -> None:
    endpoint = endpoint_for(alice)
    event = _event(alice)
    host, guest = auth_client(alice), auth_client(bob)
    assert guest.post(f"/api/events/{event.pk}/register/").status_code == 201
    assert guest.delete(f"/api/events/{event.pk}/unregister/").status_code == 204
    assert host.post(f"/api/events/{event.pk}/invite/", {"invitee": bob.pk}).status_code == 201
    invitation = bob.received_invitations.get()
    answer = guest.put(f"/api/invitations/{invitation.pk}/", {"status": "ACCEPTED"})
    assert answer.status_code == 200
    assert host.patch(f"/api/events/{event.pk}/", {"title": "Renamed"}).status_code == 200
    shown = host.get(f"/api/events/{event.pk}/").json()
    assert receiver.received == []
    assert host.delete(f"/api/events/{event.pk}/").status_code == 204

    run_worker()

    payloads = [_verified(endpoint, request) for request in receiver.received]
    types = [payload["type"] for payload in payloads]
    assert sorted(types) == sorted(
        [
            "participant.registered",  # bob registers
            "participant.unregistered",
            "participant.registered",  # accepting the invitation registers him
            "invitation.answered",
            "event.updated",
            "event.deleted",
        ]
    )
    by_type = {payload["type"]: payload["data"] for payload in payloads}
    assert by_type["event.deleted"] == shown
    assert by_type["event.updated"]["title"] == "Renamed"
    assert by_type["participant.unregistered"]["participant"]["user"] == {
        "id": bob.pk,
        "username": "bob",
    }
    assert by_type["participant.unregistered"]["event"]["participants_count"] == 0
    assert by_type["invitation.answered"] == answer.json()
    ids = [request.headers["webhook-id"] for request in receiver.received]
    assert len(set(ids)) == len(ids)
    assert all(
        request.headers["user-agent"].startswith("EventManagementAPI-Webhooks/")
        for request in receiver.received
    )
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {Status.SUCCEEDED}


def test_invitations_received_and_feedback_reach_their_own_users(
    alice: User, bob: User, endpoint_for, receiver: Receiver, run_worker: Worker, auth_client
) -> None:
    for_bob = endpoint_for(bob, events=["invitation.received"])
    for_alice = endpoint_for(alice, events=["feedback.created"])
    event = _event(alice)
    sent = auth_client(alice).post(f"/api/events/{event.pk}/invite/", {"invitee": bob.pk})
    services.participation_create(event=event, user=bob)
    event.start_time = timezone.now() - timedelta(minutes=1)
    event.save(update_fields=["start_time"])
    feedback = auth_client(bob).post(f"/api/events/{event.pk}/feedback/", {"rating": 4})
    assert feedback.status_code == 201

    run_worker()

    by_id = {endpoint.pk: endpoint for endpoint in (for_bob, for_alice)}
    received = {}
    for request in receiver.received:
        delivery_ = WebhookDelivery.objects.get(message_id=request.headers["webhook-id"])
        received[delivery_.endpoint_id] = _verified(by_id[delivery_.endpoint_id], request)
    assert received[for_bob.pk]["type"] == "invitation.received"
    assert received[for_bob.pk]["data"]["id"] == sent.json()["id"]
    assert received[for_alice.pk]["type"] == "feedback.created"
    assert received[for_alice.pk]["data"]["feedback"] == feedback.json()
    assert received[for_alice.pk]["data"]["event"]["id"] == event.pk
    # Subscriptions filter: nothing else went to either (bob's registration included).
    assert len(receiver.received) == 2


def test_a_message_goes_to_every_enabled_subscribed_endpoint_only(
    alice: User, bob: User, endpoint_for, receiver: Receiver, run_worker: Worker
) -> None:
    everything = endpoint_for(alice)
    subscribed = endpoint_for(alice, events=["participant.registered"])
    endpoint_for(alice, events=["event.deleted"])
    paused = endpoint_for(alice)
    endpoints.endpoint_update(endpoint=paused, enabled=False)
    event = _event(alice)

    services.participation_create(event=event, user=bob)
    run_worker()

    reached = set(WebhookDelivery.objects.values_list("endpoint_id", flat=True))
    assert reached == {everything.pk, subscribed.pk}
    assert len(receiver.received) == 2


def test_a_change_that_rolls_back_sends_nothing(
    alice: User, bob: User, endpoint_for, receiver: Receiver, run_worker: Worker
) -> None:
    endpoint_for(alice)
    event = _event(alice)

    def register_then_fail() -> None:
        with transaction.atomic():
            services.participation_create(event=event, user=bob)
            assert WebhookDelivery.objects.count() == 1  # written with the change ...
            raise RuntimeError("the request failed after registering")

    with pytest.raises(RuntimeError):
        register_then_fail()
    run_worker()

    assert WebhookDelivery.objects.count() == 0  # ... and gone with it
    assert receiver.received == []


def test_a_failed_attempt_is_retried_with_the_same_id_and_body(
    alice: User, bob: User, endpoint_for, receiver: Receiver, run_worker: Worker
) -> None:
    endpoint = endpoint_for(alice)
    receiver.respond(500, 200)
    services.participation_create(event=_event(alice), user=bob)

    run_worker()
    message = WebhookDelivery.objects.get()
    assert message.status == Status.PENDING
    wait = message.next_attempt_at - message.attempts.get().attempted_at
    assert SCHEDULE[0] * 0.8 <= wait <= SCHEDULE[0] * 1.2 + timedelta(seconds=1)
    _make_due()
    run_worker()

    first, second = receiver.wait_for(2)
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == message.message_id
    assert first.body == second.body == message.payload.encode()
    assert _verified(endpoint, second)["type"] == "participant.registered"
    message.refresh_from_db()
    assert message.status == Status.SUCCEEDED
    assert [a.status_code for a in message.attempts.all()] == [500, 200]
    assert message.automatic_attempts == 2


def test_a_message_fails_when_its_schedule_runs_out(
    alice: User, endpoint_for, receiver: Receiver, run_worker: Worker
) -> None:
    endpoint = endpoint_for(alice)
    receiver.default = Answer(status=503)
    endpoints.endpoint_ping(endpoint=endpoint)

    for _ in range(len(SCHEDULE) + 1):
        run_worker()
        _make_due()

    message = WebhookDelivery.objects.get()
    assert message.status == Status.FAILED
    assert message.next_attempt_at is None
    assert message.attempts.count() == len(SCHEDULE) + 1
    run_worker()
    assert len(receiver.received) == len(SCHEDULE) + 1


def test_gone_disables_the_endpoint_at_once(
    alice: User, bob: User, endpoint_for, receiver: Receiver, run_worker: Worker
) -> None:
    endpoint = endpoint_for(alice)
    receiver.respond(410)
    event = _event(alice)
    services.participation_create(event=event, user=bob)
    run_worker()

    endpoint.refresh_from_db()
    assert not endpoint.enabled
    assert "410" in endpoint.disabled_reason
    # Nothing more is written or sent for it until the owner enables it again ...
    services.participation_delete(event=event, user=bob)
    _make_due()
    run_worker()
    assert len(receiver.received) == 1
    assert WebhookDelivery.objects.count() == 1
    # ... and then the message still pending is attempted again.
    endpoints.endpoint_update(endpoint=endpoint, enabled=True)
    _make_due()
    run_worker()
    assert len(receiver.received) == 2
    endpoint.refresh_from_db()
    assert endpoint.disabled_reason == ""
    assert WebhookDelivery.objects.get().status == Status.SUCCEEDED


def test_an_endpoint_failing_for_five_days_is_disabled(
    alice: User, endpoint_for, receiver: Receiver, run_worker: Worker
) -> None:
    endpoint = endpoint_for(alice)
    receiver.default = Answer(status=500)
    endpoints.endpoint_ping(endpoint=endpoint)
    run_worker()
    endpoint.refresh_from_db()
    assert endpoint.enabled
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        failing_since=timezone.now() - timedelta(days=5, seconds=1)
    )
    _make_due()
    run_worker()

    endpoint.refresh_from_db()
    assert not endpoint.enabled
    assert "5 days" in endpoint.disabled_reason


def test_a_success_clears_the_failing_clock(
    alice: User, endpoint_for, receiver: Receiver, run_worker: Worker
) -> None:
    endpoint = endpoint_for(alice)
    receiver.respond(500)
    endpoints.endpoint_ping(endpoint=endpoint)
    run_worker()
    endpoint.refresh_from_db()
    assert endpoint.failing_since is not None
    _make_due()
    run_worker()
    endpoint.refresh_from_db()
    assert endpoint.failing_since is None


@pytest.mark.parametrize(
    ("retry_after", "expected"),
    [
        pytest.param("120", timedelta(seconds=120), id="seconds"),
        pytest.param("999999", delivery.RETRY_AFTER_CAP, id="capped"),
    ],
)
@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_is_honoured_on_429_and_503(
    alice: User,
    endpoint_for,
    receiver: Receiver,
    run_worker: Worker,
    status: int,
    retry_after: str,
    expected: timedelta,
) -> None:
    endpoint_for(alice)
    receiver.respond(Answer(status=status, headers={"Retry-After": retry_after}))
    endpoints.endpoint_ping(endpoint=WebhookEndpoint.objects.get())
    run_worker()

    message = WebhookDelivery.objects.get()
    wait = message.next_attempt_at - message.attempts.get().attempted_at
    assert expected <= wait <= expected + timedelta(seconds=2)


def test_a_redirect_is_a_failure_and_is_not_followed(
    alice: User, endpoint_for, receiver: Receiver, run_worker: Worker
) -> None:
    endpoint = endpoint_for(alice)
    receiver.respond(Answer(status=307, headers={"Location": receiver.url + "/moved"}))
    endpoints.endpoint_ping(endpoint=endpoint)
    run_worker()

    assert [r.path for r in receiver.received] == ["/hook"]
    message = WebhookDelivery.objects.get()
    assert message.status == Status.PENDING
    assert message.attempts.get().status_code == 307


def test_a_receiver_too_slow_to_answer_is_recorded_as_a_timeout(
    alice: User, endpoint_for, receiver: Receiver, run_worker: Worker, settings
) -> None:
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.5
    endpoint = endpoint_for(alice)
    receiver.respond(Answer(hold=True))
    endpoints.endpoint_ping(endpoint=endpoint)
    run_worker()
    receiver.released.set()

    attempt = WebhookAttempt.objects.get()
    assert attempt.status_code == 0
    assert "timed out" in attempt.error
    assert WebhookDelivery.objects.get().status == Status.PENDING


def test_a_name_resolving_to_loopback_is_refused_without_the_allowance(
    alice: User, receiver: Receiver, run_worker: Worker, settings
) -> None:
    endpoint = endpoints.endpoint_create(
        owner=alice, url=receiver.url.replace("127.0.0.1", "localhost")
    )
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = False
    endpoints.endpoint_ping(endpoint=endpoint)
    run_worker()

    assert receiver.received == []
    attempt = WebhookAttempt.objects.get()
    assert attempt.status_code == 0
    assert "127.0.0.1" in attempt.error


def test_a_redelivery_resends_the_same_message_as_a_manual_attempt(
    alice: User, endpoint_for, receiver: Receiver, run_worker: Worker
) -> None:
    endpoint = endpoint_for(alice)
    message = endpoints.endpoint_ping(endpoint=endpoint)
    run_worker()
    endpoints.delivery_redeliver(endpoint=endpoint, delivery_id=message.pk)
    run_worker()

    first, second = receiver.wait_for(2)
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert first.body == second.body
    assert [a.manual for a in message.attempts.all()] == [False, True]
    assert _verified(endpoint, second) == {
        "type": "webhook.ping",
        "timestamp": json.loads(message.payload)["timestamp"],
        "data": {"endpoint_id": endpoint.pk},
    }


def test_a_failed_redelivery_leaves_a_failed_message_failed(
    alice: User, endpoint_for, receiver: Receiver, run_worker: Worker
) -> None:
    endpoint = endpoint_for(alice)
    message = endpoints.endpoint_ping(endpoint=endpoint)
    WebhookDelivery.objects.filter(pk=message.pk).update(
        status=Status.FAILED, next_attempt_at=None, automatic_attempts=len(SCHEDULE) + 1
    )
    receiver.respond(500)
    endpoints.delivery_redeliver(endpoint=endpoint, delivery_id=message.pk)
    run_worker()

    message.refresh_from_db()
    assert message.status == Status.FAILED
    assert message.attempts.get().manual
    endpoints.delivery_redeliver(endpoint=endpoint, delivery_id=message.pk)
    run_worker()
    message.refresh_from_db()
    assert message.status == Status.SUCCEEDED


def test_after_a_rotation_both_secrets_sign_for_a_day(
    alice: User, endpoint_for, receiver: Receiver, run_worker: Worker
) -> None:
    endpoint = endpoint_for(alice)
    old_secret = endpoint.secret
    rotated = endpoints.endpoint_rotate_secret(endpoint=endpoint)
    endpoints.endpoint_ping(endpoint=rotated)
    run_worker()
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        previous_secret_expires_at=timezone.now() - timedelta(seconds=1)
    )
    endpoints.endpoint_ping(endpoint=rotated)
    run_worker()

    during, after = receiver.wait_for(2)
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    Webhook(old_secret).verify(during.body, during.headers)
    Webhook(rotated.secret).verify(during.body, during.headers)
    assert len(after.headers["webhook-signature"].split(" ")) == 1
    Webhook(rotated.secret).verify(after.body, after.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(old_secret).verify(after.body, after.headers)


def test_a_delivery_leased_by_a_live_worker_is_not_attempted_again(
    alice: User, endpoint_for, receiver: Receiver, run_worker: Worker
) -> None:
    endpoint = endpoint_for(alice)
    message = endpoints.endpoint_ping(endpoint=endpoint)
    WebhookDelivery.objects.filter(pk=message.pk).update(
        lease_token="other", lease_expires_at=timezone.now() + timedelta(minutes=1)
    )
    assert not delivery.attempt(message.pk)
    WebhookDelivery.objects.filter(pk=message.pk).update(queued_at=None)
    assert delivery.sweep() == 0  # a live lease covers it, queued or not
    # The other worker died: once its lease is over, the sweep queues the message again.
    WebhookDelivery.objects.filter(pk=message.pk).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1), queued_at=None
    )
    run_worker()
    assert len(receiver.received) == 1
    message.refresh_from_db()
    assert message.status == Status.SUCCEEDED


def test_old_attempts_and_finished_messages_are_pruned(
    alice: User, endpoint_for, receiver: Receiver, run_worker: Worker, settings
) -> None:
    endpoint = endpoint_for(alice)
    old = endpoints.endpoint_ping(endpoint=endpoint)
    pending = endpoints.endpoint_ping(endpoint=endpoint)
    run_worker()
    long_ago = timezone.now() - timedelta(days=settings.WEBHOOK_LOG_RETENTION_DAYS, seconds=1)
    WebhookDelivery.objects.update(created_at=long_ago)
    WebhookAttempt.objects.update(attempted_at=long_ago)
    WebhookDelivery.objects.filter(pk=pending.pk).update(
        status=Status.PENDING, next_attempt_at=timezone.now() + timedelta(hours=1)
    )

    assert delivery.prune() == (2, 1)
    assert not WebhookDelivery.objects.filter(pk=old.pk).exists()
    assert WebhookDelivery.objects.filter(pk=pending.pk).exists()
    assert WebhookAttempt.objects.count() == 0


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"type": "webhook.ping", "timestamp": "2026-12-02T10:00:00Z"}, id="no-data"),
        pytest.param(
            {"type": "event.updated", "timestamp": "now", "data": {"endpoint_id": 1}},
            id="wrong-type-const",
        ),
        pytest.param(
            {"type": "webhook.ping", "timestamp": "yesterday", "data": {"endpoint_id": 1}},
            id="bad-timestamp",
        ),
    ],
)
def test_the_payload_check_refuses_a_body_the_spec_does_not_describe(body: dict) -> None:
    with pytest.raises(AssertionError):
        validate_webhook("webhook.ping", json.dumps(body).encode())


def test_the_worker_outlives_a_database_error_and_carries_on(
    alice: User,
    endpoint_for,
    receiver: Receiver,
    run_worker: Worker,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from django.db import OperationalError

    from api.management.commands import worker

    endpoints.endpoint_ping(endpoint=endpoint_for(alice))
    real_sweep, failures = delivery.sweep, []

    def sweep_failing_once() -> int:
        if not failures:
            failures.append(1)
            raise OperationalError("the database restarted")
        return real_sweep()

    monkeypatch.setattr(delivery, "sweep", sweep_failing_once)
    monkeypatch.setattr(worker, "DB_RETRY_SECONDS", 0)
    run_worker()

    assert failures == [1]
    assert len(receiver.received) == 1
    assert WebhookDelivery.objects.get().status == Status.SUCCEEDED


def test_the_schedule_retries_for_about_three_days_with_jitter() -> None:
    total = sum(SCHEDULE, timedelta())
    failure = transport.Outcome(status=500, duration_ms=1)

    assert timedelta(hours=72) <= total <= timedelta(hours=80)
    assert len({delivery.retry_delay(1, failure) for _ in range(20)}) > 1
    assert all(
        step * 0.8 <= delivery.retry_delay(n, failure) <= step * 1.2
        for n, step in enumerate(SCHEDULE, 1)
    )


def test_a_retry_after_shorter_than_the_schedule_does_not_shorten_it() -> None:
    hurry = transport.Outcome(status=503, duration_ms=1, retry_after=1)

    assert delivery.retry_delay(3, hurry) >= SCHEDULE[2] * 0.8


def test_re_enabling_queues_what_waited_while_disabled(
    alice: User, endpoint_for, receiver: Receiver, run_worker: Worker
) -> None:
    endpoint = endpoint_for(alice)
    message = endpoints.endpoint_ping(endpoint=endpoint)
    endpoints.endpoint_update(endpoint=endpoint, enabled=False)
    run_worker()  # its task runs, finds the endpoint disabled, takes nothing
    assert receiver.received == []

    endpoints.endpoint_update(endpoint=endpoint, enabled=True)

    assert delivery.sweep() == 1
    run_worker()
    assert len(receiver.received) == 1
    message.refresh_from_db()
    assert message.status == Status.SUCCEEDED


def test_an_attempt_whose_lease_was_taken_over_is_logged_but_decides_nothing(
    alice: User, endpoint_for, receiver: Receiver
) -> None:
    endpoint = endpoint_for(alice)
    message = endpoints.endpoint_ping(endpoint=endpoint)
    claim = delivery._claim(message.pk)
    assert claim is not None
    # Our lease expired and another worker took the message over meanwhile.
    WebhookDelivery.objects.filter(pk=message.pk).update(lease_token="another-worker")

    delivery._record(claim, timezone.now(), transport.Outcome(status=500, duration_ms=3))

    message.refresh_from_db()
    assert message.attempts.get().status_code == 500
    assert (message.lease_token, message.automatic_attempts) == ("another-worker", 0)


def test_a_redelivery_asked_for_during_an_attempt_follows_it(
    alice: User, endpoint_for, receiver: Receiver, run_worker: Worker
) -> None:
    endpoint = endpoint_for(alice)
    message = endpoints.endpoint_ping(endpoint=endpoint)
    claim = delivery._claim(message.pk)
    assert claim is not None
    endpoints.delivery_redeliver(endpoint=endpoint, delivery_id=message.pk)
    delivery._record(claim, timezone.now(), transport.Outcome(status=200, duration_ms=3))

    run_worker()

    assert len(receiver.received) == 1  # the one the redelivery asked for
    assert [a.manual for a in message.attempts.order_by("id")] == [False, True]
