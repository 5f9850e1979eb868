"""Accounts: sign-up (POST /api/register/), login, token refresh, logout and me."""

from __future__ import annotations

from typing import Any

from rest_framework import generics, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from api import services, sessions
from api.apidocs import accounts as docs
from api.permissions import signed_in_user
from api.rest.query import StrictRequests
from api.serializers import (
    AccountSerializer,
    LoginSerializer,
    LogoutSerializer,
    RefreshSerializer,
    SignUpSerializer,
    WrongCredentials,
)
from api.throttles import (
    FailureThrottle,
    LoginAccountThrottle,
    LoginAddressThrottle,
    LoginUsernameThrottle,
    SignUpThrottle,
)


@docs.sign_up
class SignUpView(StrictRequests, generics.GenericAPIView):
    permission_classes = [AllowAny]
    authentication_classes = ()
    throttle_classes = [SignUpThrottle]
    serializer_class = SignUpSerializer
    http_method_names = ["post"]

    def post(self, request: Request) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.user_create(**serializer.validated_data)
        return Response(AccountSerializer(user).data, status=status.HTTP_201_CREATED)


@docs.login
class LoginView(StrictRequests, TokenObtainPairView):
    serializer_class = LoginSerializer
    authentication_classes = ()
    # They count failures only (api.throttles.FailureThrottle): recorded here.
    throttle_classes = [LoginUsernameThrottle, LoginAddressThrottle, LoginAccountThrottle]
    http_method_names = ["post"]

    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        try:
            return super().post(request, *args, **kwargs)
        except WrongCredentials:
            for throttle in self.get_throttles():
                if isinstance(throttle, FailureThrottle):
                    throttle.record(request, self)
            raise


@docs.refresh
class RefreshView(StrictRequests, TokenRefreshView):
    serializer_class = RefreshSerializer
    authentication_classes = ()
    http_method_names = ["post"]


@docs.logout
class LogoutView(StrictRequests, generics.GenericAPIView):
    serializer_class = LogoutSerializer
    http_method_names = ["post"]

    def post(self, request: Request) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        sessions.end(serializer.validated_data["refresh"], signed_in_user(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


@docs.me
class MeView(StrictRequests, generics.RetrieveAPIView):
    serializer_class = AccountSerializer
    http_method_names = ["get", "head"]

    def get_object(self) -> Any:
        return self.request.user
