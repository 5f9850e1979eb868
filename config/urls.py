from django.urls import include, path, re_path

from api.rest.problems import not_found_view
from api.views.docs import RedocView, SwaggerUIView
from api.views.operations import CheckedInSpecView

urlpatterns = [
    path("api/", include("api.urls")),
    path("api/schema/", CheckedInSpecView.as_view(), name="schema"),
    path("api/docs/", SwaggerUIView.as_view(url_name="schema"), name="docs"),
    path("api/redoc/", RedocView.as_view(url_name="schema"), name="redoc"),
    # Every other address answers the JSON 404, with DEBUG on too.
    re_path(r"", not_found_view),
]

handler400 = "api.rest.problems.bad_request_view"
handler404 = "api.rest.problems.not_found_view"
handler500 = "api.rest.problems.server_error_view"
