from __future__ import annotations

from typing import Any

from rest_framework.exceptions import NotAuthenticated
from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticatedOrReadOnly
from rest_framework.request import Request
from rest_framework.views import APIView

from api.models import Event, User
from api.selectors import is_participant


def signed_in_user(request: Request) -> User:
    """The user that IsAuthenticated let through, for the actions that act as them.

    Were a view ever to lose its IsAuthenticated, the request would be refused with
    401 here rather than reach a service with the anonymous user.
    """
    user = request.user
    if not isinstance(user, User) or not user.is_authenticated:
        raise NotAuthenticated()
    return user


class IsEventHostOrReadOnly(IsAuthenticatedOrReadOnly):
    """Anyone may read an event; signed-in users may create one; only its host may change
    or delete it."""

    message = "Only the host of this event may change it."

    def has_object_permission(self, request: Request, view: APIView, obj: Any) -> bool:
        return request.method in SAFE_METHODS or obj.host_id == request.user.pk


class IsEventHost(BasePermission):
    message = "Only the host of this event may do this."

    def has_object_permission(self, request: Request, view: APIView, obj: Any) -> bool:
        return isinstance(obj, Event) and obj.host_id == request.user.pk


class IsEventParticipantOrReadOnly(IsAuthenticatedOrReadOnly):
    """Anyone may read an event's feedback; only its participants may leave it."""

    message = "Only participants of this event may do this."

    def has_object_permission(self, request: Request, view: APIView, obj: Any) -> bool:
        if request.method in SAFE_METHODS:
            return True
        return isinstance(obj, Event) and is_participant(event=obj, user=signed_in_user(request))


class IsEventHostToRead(BasePermission):
    """Signed-in users may join or leave an event's waiting list; only the host may read
    it (whose queue it is, and in what order, is the host's to see)."""

    message = "Only the host of this event may see its waiting list."

    def has_object_permission(self, request: Request, view: APIView, obj: Any) -> bool:
        if request.method not in SAFE_METHODS:
            return True
        return isinstance(obj, Event) and obj.host_id == request.user.pk
