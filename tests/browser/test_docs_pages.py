"""Swagger UI and ReDoc in headless Chromium: each renders the spec's operations from
this server alone, without a console error, and Swagger UI's "Try it out" creates an
event with the token entered under "Authorize".

Requests to any other origin are aborted, so a machine with internet access fails these
tests as surely as one without.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest

pytest.importorskip("playwright", reason="needs the playwright package")

from playwright.sync_api import Browser, ConsoleMessage, Page, expect, sync_playwright

from tests.browser import CHROMIUM
from tests.helpers import PASSWORD
from tests.live_server import LiveServer, live_server

pytestmark = pytest.mark.browser

# Rendering the whole spec takes a few seconds on a busy CI machine.
TIMEOUT_MS = 20_000


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    with live_server() as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield launched
        launched.close()


@dataclass
class Visit:
    """A page of the server, with every request it made and every error it reported."""

    page: Page
    origin: str
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def is_own(self, url: str) -> bool:
        # A blob: URL names the origin that made it; a data: URL is no request at all.
        if url.startswith("data:"):
            return True
        parts = urlsplit(url.removeprefix("blob:"))
        return f"{parts.scheme}://{parts.netloc}" == self.origin

    def assert_self_contained(self) -> None:
        # Effects run after the first paint (Redoc asks for its logo only then): wait a
        # frame for them, then for the requests they started to finish.
        self.page.evaluate(
            "() => new Promise(done => requestAnimationFrame(() => setTimeout(done)))"
        )
        self.page.wait_for_load_state("networkidle")
        foreign = [url for url in self.requests if not self.is_own(url)]
        assert not foreign, f"requests to other origins: {foreign}"
        assert not self.errors, f"console errors: {self.errors}"

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(message.text)


@pytest.fixture
def visit(browser: Browser, server: LiveServer) -> Iterator[Visit]:
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    current = Visit(page=page, origin=server.url)
    context.on("request", lambda request: current.requests.append(request.url))
    context.route(lambda url: not current.is_own(url), lambda route: route.abort())
    page.on("console", current.on_console)
    page.on("pageerror", lambda error: current.errors.append(f"uncaught: {error}"))
    yield current
    context.close()


def _call(
    server: LiveServer, method: str, path: str, body: dict[str, Any] | None = None
) -> tuple[int, Any]:
    request = urllib.request.Request(
        f"{server.url}{path}",
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"], ids=["swagger-ui", "redoc"])
def test_docs_page_renders_the_operations_from_this_server_alone(visit: Visit, path: str) -> None:
    visit.page.goto(f"{visit.origin}{path}")

    for summary in ("Create an event", "List events"):
        # Swagger UI's operation line, ReDoc's operation heading (its menu entry is folded).
        title = visit.page.get_by_text(summary, exact=True).filter(visible=True)
        expect(title).to_be_visible(timeout=TIMEOUT_MS)
    visit.assert_self_contained()


def test_swagger_ui_creates_an_event_with_the_token_entered_under_authorize(
    visit: Visit, server: LiveServer
) -> None:
    account = {"username": "ada", "email": "ada@example.org", "password": PASSWORD}
    status, user = _call(server, "POST", "/api/register/", account)
    assert status == 201, user
    status, tokens = _call(server, "POST", "/api/login/", {"username": "ada", "password": PASSWORD})
    assert status == 200, tokens
    page = visit.page
    page.goto(f"{visit.origin}/api/docs/")

    page.locator(".auth-wrapper .authorize").click()
    dialog = page.locator(".dialog-ux")
    dialog.locator(".auth-container", has_text="jwtAuth").locator("input").fill(tokens["access"])
    dialog.get_by_role("button", name="Apply credentials").click()
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden(timeout=TIMEOUT_MS)

    operation = page.locator(".opblock-post").filter(has=page.locator('[data-path="/api/events/"]'))
    operation.locator(".opblock-summary-control").click()
    operation.get_by_role("button", name="Try it out").click()
    operation.get_by_role("button", name="Execute").click()
    # The example body as the spec pre-fills it, unedited: it must be one the API accepts.
    expect(operation.locator(".live-responses-table .response .response-col_status")).to_have_text(
        "201", timeout=TIMEOUT_MS
    )

    status, events = _call(server, "GET", f"/api/events/?host={user['id']}")
    assert status == 200, events
    assert [event["host"]["username"] for event in events["results"]] == ["ada"]
    visit.assert_self_contained()
