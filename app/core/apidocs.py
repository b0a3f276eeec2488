"""`/docs` (Swagger UI) and `/redoc` from assets the app serves itself.

FastAPI's pages load their scripts from a CDN, so they are blank on a network without internet
access, which is where a provider's contact-centre platform often runs. The assets are vendored
from the npm registry with their licences (`static/apidocs/VERSIONS.md`) and served under
`/docs/assets`; ReDoc's Google Fonts are left out for the same reason.

ReDoc's bundle also loads its footer logo from `cdn.redoc.ly`, and has no option to leave it
out. Rather than edit the vendored file (the next upgrade would silently undo the edit), the
app serves the bundle with that one URL replaced, in memory, by an empty `data:` image: no
request leaves, the logo's `onError` hides it exactly as ReDoc does when the CDN cannot be
reached, and the "API docs by Redocly" attribution stays. The logo itself is not vendored: it
is not in the npm package, and it is Redocly's mark rather than part of the MIT-licensed code.
If an upgrade moves the URL, the app refuses to start rather than serve a page that calls out.
"""

from functools import cache
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

ASSETS_PATH = "/docs/assets"
ASSETS_DIRECTORY = Path(__file__).parent / "static" / "apidocs"
REDOC_BUNDLE = "redoc.standalone.js"
REDOCLY_LOGO = b"https://cdn.redoc.ly/redoc/logo-mini.svg"
NO_IMAGE = b"data:,"


@cache
def offline_redoc_bundle() -> bytes:
    """The vendored ReDoc bundle with its one outside request, the footer logo, taken out."""
    bundle = (ASSETS_DIRECTORY / REDOC_BUNDLE).read_bytes()
    if bundle.count(REDOCLY_LOGO) != 1:
        raise RuntimeError(
            f"{REDOC_BUNDLE} no longer names {REDOCLY_LOGO.decode()} once: look for the outside "
            "requests of the new version before serving it"
        )
    return bundle.replace(REDOCLY_LOGO, NO_IMAGE)


def install(app: FastAPI) -> None:
    """Add the two pages and their assets; the app must be created with `docs_url=None` and
    `redoc_url=None` so that FastAPI's CDN pages are not registered too."""
    redoc_bundle = offline_redoc_bundle()

    @app.get(f"{ASSETS_PATH}/{REDOC_BUNDLE}", include_in_schema=False)
    def redoc_js() -> Response:  # registered before the mount, so it answers first
        return Response(redoc_bundle, media_type="text/javascript")

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
            redoc_js_url=f"{ASSETS_PATH}/{REDOC_BUNDLE}",
            redoc_favicon_url=f"{ASSETS_PATH}/favicon-32x32.png",
            with_google_fonts=False,
        )
