"""`/docs` and `/redoc` work with no network: their assets are the app's own, the pages render
the operations in a real browser whose every request for another host is refused."""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser

from app.core.apidocs import ASSETS_DIRECTORY, ASSETS_PATH

from browser_visit import Visit, launch

REDOCLY_FOOTER_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launch() as launched:
        yield launched


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_pages_name_only_assets_the_app_serves(client: TestClient, page: str) -> None:
    html = client.get(page).text
    assert "cdn.jsdelivr.net" not in html and "fonts.googleapis.com" not in html
    for name in ("swagger-ui-bundle.js", "redoc.standalone.js", "swagger-ui.css"):
        if name in html:
            served = client.get(f"{ASSETS_PATH}/{name}")
            assert served.status_code == 200
            assert served.content == (ASSETS_DIRECTORY / name).read_bytes()


def test_every_vendored_asset_has_its_licence() -> None:
    names = {path.name for path in ASSETS_DIRECTORY.iterdir()}
    assert {"swagger-ui-dist.LICENSE", "redoc.LICENSE", "VERSIONS.md"} <= names


def test_swagger_ui_renders_the_operations_offline(client: TestClient, browser: Browser) -> None:
    visit = Visit(browser, client)
    page = visit.open("/docs", "docs-swagger-ui")
    page.wait_for_selector(".opblock-summary-path", timeout=20_000)
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert any("/v1/activities/{activity_id}/commitments" in path for path in paths)
    assert visit.outside == []
    assert visit.errors == []


def test_redoc_renders_the_operations_offline(client: TestClient, browser: Browser) -> None:
    visit = Visit(browser, client)
    page = visit.open("/redoc", "docs-redoc")
    heading = page.locator("h2", has_text="Size the staffing of one interval").first
    heading.wait_for(timeout=20_000)
    # The one outside request is the bundle's own footer logo, which hides itself when it
    # cannot load (ReDoc has no option to leave it out); nothing the page needs is outside.
    assert visit.outside in ([], [REDOCLY_FOOTER_LOGO])
    # Its refusal may be logged (once) or not yet when the page is checked.
    assert visit.errors in ([], ["Failed to load resource: net::ERR_FAILED"] * len(visit.outside))
