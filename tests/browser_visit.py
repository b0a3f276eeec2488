"""A real browser for tests: Debian's headless Chromium driven by Playwright, every request
answered in-process by the app over the test's transaction, and any request for another host
refused and reported (so a page that needs the internet fails its test)."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page, Route, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ORIGIN = "http://plancher.test"
SCREENSHOTS = Path(__file__).resolve().parents[1] / "build" / "screenshots"


@contextmanager
def launch() -> Iterator[Browser]:
    """Debian's Chromium, headless, for a test module's `browser` fixture."""
    if not CHROMIUM.exists():
        pytest.fail("chromium is missing: ./scripts/test installs it from Debian packages")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield launched
        launched.close()


class Visit:
    """A browser tab whose every request goes to the app; what else it asked for and every
    console error are kept for the test to check."""

    def __init__(self, browser: Browser, client: TestClient) -> None:
        self.app = TestClient(client.app, follow_redirects=False)
        self.outside: list[str] = []
        self.errors: list[str] = []
        self.context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="fr-FR")
        self.context.route("**/*", self._serve)
        self.page: Page = self.context.new_page()
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))

    def _serve(self, route: Route) -> None:
        request = route.request
        url = urlsplit(request.url)
        if f"{url.scheme}://{url.netloc}" != ORIGIN:
            self.outside.append(request.url)
            route.abort()
            return
        headers = {
            name: value
            for name, value in request.all_headers().items()
            if name in ("cookie", "content-type", "accept")
        }
        response = self.app.request(
            request.method,
            url.path + (f"?{url.query}" if url.query else ""),
            headers=headers,
            content=request.post_data_buffer,
        )
        self.app.cookies.clear()  # the browser keeps the cookies, not this client
        route.fulfill(
            status=response.status_code, headers=dict(response.headers), body=response.content
        )

    def open(self, path: str, screenshot: str) -> Page:
        self.page.goto(ORIGIN + path)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"{screenshot}.png"), full_page=True)
        return self.page

    def sign_in(self, headers: dict[str, str]) -> None:
        self.open("/dashboard/signin", "0-connexion")
        self.page.fill("#api_key", headers["Authorization"].removeprefix("Bearer "))
        self.page.click("button[type=submit]")
        self.page.wait_for_url(f"{ORIGIN}/dashboard")
