from django.urls import include, path
from rest_framework.routers import SimpleRouter

from api.ids import ID_PATH_PATTERN
from api.views import accounts, events, invitations, operations, waiting_list, webhooks

router = SimpleRouter()
router.register("events", events.EventViewSet, basename="event")
router.register("invitations", invitations.InvitationViewSet, basename="invitation")
router.register("waiting-list", waiting_list.WaitingListEntryViewSet, basename="waiting-list-entry")
router.register("webhooks", webhooks.WebhookEndpointViewSet, basename="webhook")
router.register(
    rf"webhooks/(?P<webhook_id>{ID_PATH_PATTERN})/deliveries",
    webhooks.WebhookDeliveryViewSet,
    basename="webhook-delivery",
)

urlpatterns = [
    # Sign-up keeps the address it has always had.
    path("register/", accounts.SignUpView.as_view(), name="register"),
    path("login/", accounts.LoginView.as_view(), name="login"),
    path("token/refresh/", accounts.RefreshView.as_view(), name="token-refresh"),
    path("logout/", accounts.LogoutView.as_view(), name="logout"),
    path("me/", accounts.MeView.as_view(), name="me"),
    path("me/waiting-list/", waiting_list.MyWaitingListView.as_view(), name="me-waiting-list"),
    path("me/password/", accounts.PasswordChangeView.as_view(), name="me-password"),
    path("password-reset/", accounts.PasswordResetView.as_view(), name="password-reset"),
    path(
        "password-reset/confirm/",
        accounts.PasswordResetConfirmView.as_view(),
        name="password-reset-confirm",
    ),
    path("health/", operations.HealthView.as_view(), name="health"),
    path("ready/", operations.ReadyView.as_view(), name="ready"),
    path("", operations.IndexView.as_view(), name="index"),
    path("", include(router.urls)),
]
