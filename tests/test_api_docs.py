"""`/docs` and `/redoc` work with no network: their assets are the app's own, the pages render
the operations in a real browser whose every request for another host is refused and fails the
test (checked once the network is idle, so that a request made after rendering counts too)."""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser

from app.core.apidocs import ASSETS_DIRECTORY, ASSETS_PATH, NO_IMAGE, REDOC_BUNDLE, REDOCLY_LOGO

from browser_visit import Visit, launch


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launch() as launched:
        yield launched


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_pages_name_only_assets_the_app_serves(client: TestClient, page: str) -> None:
    html = client.get(page).text
    assert "cdn.jsdelivr.net" not in html and "fonts.googleapis.com" not in html
    for name in ("swagger-ui-bundle.js", "swagger-ui.css"):
        if name in html:
            served = client.get(f"{ASSETS_PATH}/{name}")
            assert served.status_code == 200
            assert served.content == (ASSETS_DIRECTORY / name).read_bytes()


def test_the_redoc_bundle_is_served_without_its_outside_logo(client: TestClient) -> None:
    served = client.get(f"{ASSETS_PATH}/{REDOC_BUNDLE}")
    assert served.status_code == 200
    assert served.headers["content-type"].startswith("text/javascript")
    vendored = (ASSETS_DIRECTORY / REDOC_BUNDLE).read_bytes()
    assert REDOCLY_LOGO in vendored and REDOCLY_LOGO not in served.content
    assert served.content == vendored.replace(REDOCLY_LOGO, NO_IMAGE)  # nothing else changed


def test_every_vendored_asset_has_its_licence() -> None:
    names = {path.name for path in ASSETS_DIRECTORY.iterdir()}
    assert {"swagger-ui-dist.LICENSE", "redoc.LICENSE", "VERSIONS.md"} <= names


def test_swagger_ui_renders_the_operations_offline(client: TestClient, browser: Browser) -> None:
    visit = Visit(browser, client)
    page = visit.open("/docs", "docs-swagger-ui")
    page.wait_for_selector(".opblock-summary-path", timeout=20_000)
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert any("/v1/activities/{activity_id}/commitments" in path for path in paths)
    page.wait_for_load_state("networkidle")
    assert visit.outside == []
    assert visit.errors == []


def test_redoc_renders_the_operations_offline(client: TestClient, browser: Browser) -> None:
    visit = Visit(browser, client)
    page = visit.open("/redoc", "docs-redoc")
    heading = page.locator("h2", has_text="Size the staffing of one interval").first
    heading.wait_for(timeout=20_000)
    page.wait_for_load_state("networkidle")
    assert visit.outside == []
    assert visit.errors == []
