"""`/docs` (Swagger UI) and `/redoc` from assets the app serves itself.

FastAPI's pages load their scripts from a CDN, so they are blank on a network without internet
access, which is where a provider's contact-centre platform often runs. The assets are vendored
from the npm registry with their licences (`static/apidocs/VERSIONS.md`) and served under
`/docs/assets`; ReDoc's Google Fonts are left out for the same reason.
"""

from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS_PATH = "/docs/assets"
ASSETS_DIRECTORY = Path(__file__).parent / "static" / "apidocs"


def install(app: FastAPI) -> None:
    """Add the two pages and their assets; the app must be created with `docs_url=None` and
    `redoc_url=None` so that FastAPI's CDN pages are not registered too."""
    app.mount(ASSETS_PATH, StaticFiles(directory=ASSETS_DIRECTORY), name="apidocs-assets")
    title = f"{app.title} — API"

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=title,
            swagger_js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_PATH}/favicon-32x32.png",
        )

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=title,
            redoc_js_url=f"{ASSETS_PATH}/redoc.standalone.js",
            redoc_favicon_url=f"{ASSETS_PATH}/favicon-32x32.png",
            with_google_fonts=False,
        )
