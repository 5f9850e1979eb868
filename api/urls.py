from django.urls import include, path
from rest_framework.routers import SimpleRouter

from api import health, views

router = SimpleRouter()
router.register("events", views.EventViewSet, basename="event")
router.register("invitations", views.InvitationViewSet, basename="invitation")

urlpatterns = [
    path("register/", views.RegisterView.as_view(), name="register"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("token/refresh/", views.RefreshView.as_view(), name="token-refresh"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("me/", views.MeView.as_view(), name="me"),
    path("health/", health.HealthView.as_view(), name="health"),
    path("ready/", health.ReadyView.as_view(), name="ready"),
    path("", include(router.urls)),
]
