"""Accounts: sign-up (POST /api/register/), login, token refresh, logout and me."""

from __future__ import annotations

from typing import Any

from rest_framework import generics, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from api import accounts, services, sessions
from api.apidocs import accounts as docs
from api.permissions import signed_in_user
from api.rest.query import StrictRequests
from api.serializers import (
    AccountDeleteSerializer,
    AccountSerializer,
    LoginSerializer,
    LogoutSerializer,
    PasswordChangeSerializer,
    PasswordResetConfirmSerializer,
    PasswordResetSerializer,
    RefreshSerializer,
    SignUpSerializer,
    WrongCredentials,
)
from api.throttles import (
    FailureThrottle,
    LoginAccountThrottle,
    LoginAddressThrottle,
    LoginUsernameThrottle,
    PasswordResetThrottle,
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
    http_method_names = ["get", "head", "delete"]

    def get_object(self) -> Any:
        return self.request.user

    def delete(self, request: Request) -> Response:
        serializer = AccountDeleteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        accounts.account_delete(
            user=signed_in_user(request), password=serializer.validated_data["password"]
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


@docs.password_change
class PasswordChangeView(StrictRequests, generics.GenericAPIView):
    serializer_class = PasswordChangeSerializer
    http_method_names = ["post"]

    def post(self, request: Request) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        accounts.password_change(user=signed_in_user(request), **serializer.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


@docs.password_reset
class PasswordResetView(StrictRequests, generics.GenericAPIView):
    permission_classes = [AllowAny]
    authentication_classes = ()
    throttle_classes = [PasswordResetThrottle]
    serializer_class = PasswordResetSerializer
    http_method_names = ["post"]

    def post(self, request: Request) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        accounts.password_reset_request(email=serializer.validated_data["email"])
        return Response(status=status.HTTP_202_ACCEPTED)


@docs.password_reset_confirm
class PasswordResetConfirmView(StrictRequests, generics.GenericAPIView):
    permission_classes = [AllowAny]
    authentication_classes = ()
    # Guessing a token is as hard as guessing a key; the address limit of reset mails
    # bounds the attempts anyway.
    throttle_classes = [PasswordResetThrottle]
    serializer_class = PasswordResetConfirmSerializer
    http_method_names = ["post"]

    def post(self, request: Request) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        accounts.password_reset_confirm(**serializer.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)
