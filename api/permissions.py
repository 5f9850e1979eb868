from __future__ import annotations

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

from api.models import Event
from api.selectors import is_participant


class IsEventHostOrReadOnly(BasePermission):
    """Anyone may read an event; only its host may change or delete it."""

    message = "Only the host of this event may change it."

    def has_object_permission(self, request: Request, view: APIView, obj: Any) -> bool:
        return request.method in SAFE_METHODS or obj.host_id == request.user.pk


class IsEventHost(BasePermission):
    message = "Only the host of this event may do this."

    def has_object_permission(self, request: Request, view: APIView, obj: Any) -> bool:
        return isinstance(obj, Event) and obj.host_id == request.user.pk


class IsEventParticipant(BasePermission):
    message = "Only participants of this event may do this."

    def has_object_permission(self, request: Request, view: APIView, obj: Any) -> bool:
        return isinstance(obj, Event) and is_participant(event=obj, user=request.user)
