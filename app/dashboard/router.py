"""The built-in web dashboard, `/dashboard`: server-rendered pages in French over the same
services as the API, read only, signed in with an API key (see `session`).

Outside `/v1` and the OpenAPI document: these are pages for people, not an API. A page never
answers problem+json: a missing object or a bad filter is shown on the page itself."""

from collections.abc import Callable, Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Annotated, Any, TypeVar
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.orm import Session

from app.billing import service as billing
from app.billing.einvoice import service as einvoices
from app.billing.reporting import service as invoices
from app.contracts import service as contracts
from app.core.auth import Principal
from app.core.db import Database
from app.core.errors import Problem
from app.core.orm import utc_now
from app.core.pagination import MAX_LIMIT, PageParams, decode_cursor
from app.core.periods import Period, period_of, periods_between
from app.core.settings import Settings
from app.dashboard import charts, formatting, pages, session
from app.dashboard.labels import FR, ROLES, STATUS
from app.outlook import service as outlook

router = APIRouter(prefix="/dashboard", include_in_schema=False)

_templates = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["j2"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
_templates.globals.update(
    L=FR,
    S=STATUS,
    money=formatting.money,
    number=formatting.number,
    percent=formatting.percent,
    percent_value=formatting.percent_value,
    month=formatting.month,
    day=formatting.day,
    parse_period=Period.parse,
    R=ROLES,
    risk_bar=charts.risk_bar,
    chart=charts.render,
)
PAGE_SIZE = 50
T = TypeVar("T")
STATUSES = ["open", "under_band", "over_band", "within_band"]


def _read_session(request: Request) -> Iterator[Session]:
    database: Database = request.app.state.database
    db = database.session(write=False)
    try:
        yield db
    finally:
        db.rollback()
        db.close()


ReadSession = Annotated[Session, Depends(_read_session)]


def _html(name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    return HTMLResponse(_templates.get_template(name).render(**context), status_code=status_code)


def _viewer(request: Request, db: Session) -> Principal | None:
    settings: Settings = request.app.state.settings
    return session.principal_from_cookie(db, settings, request.cookies.get(session.COOKIE_NAME))


def _to_sign_in() -> RedirectResponse:
    return RedirectResponse("/dashboard/signin", status_code=303)


def _period(text: str | None) -> Period:
    """The month asked for, or the current month (Paris time) when none or a bad one."""
    try:
        return Period.parse(text) if text else _this_month()
    except ValueError:
        return _this_month()


def _this_month() -> Period:
    return period_of(utc_now(), formatting.PARIS)


@router.get("/signin")
def sign_in_form(request: Request) -> Response:
    return _html("signin.html.j2", viewer=None, error=None)


@router.post("/signin")
async def sign_in(request: Request) -> Response:
    form = parse_qs((await request.body()).decode("utf-8", "replace"))
    secret = (form.get("api_key") or [""])[0]
    settings: Settings = request.app.state.settings
    database: Database = request.app.state.database
    db = database.session(write=False)
    try:
        cookie = session.sign_in(db, settings, secret)
    finally:
        db.close()
    if cookie is None:
        return _html("signin.html.j2", 401, viewer=None, error=FR["bad_key"])
    response = RedirectResponse("/dashboard", status_code=303)
    response.set_cookie(
        session.COOKIE_NAME,
        cookie,
        max_age=settings.dashboard_session_hours * 3600,
        path="/dashboard",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


@router.post("/signout")
def sign_out() -> Response:
    response = _to_sign_in()
    response.delete_cookie(session.COOKIE_NAME, path="/dashboard")
    return response


def _probability(text: str | None) -> float | None:
    try:
        value = float(text) if text else None
    except ValueError:
        return None
    return value if value is not None and 0 <= value <= 1 else None


def _every(read: Callable[[PageParams], tuple[Sequence[T], str | None]]) -> list[T]:
    """Every row of a paged listing, page after page through its own cursors: the client
    filter and the names beside contracts and invoices must not stop at one page."""
    found: list[T] = []
    after: str | None = None
    while True:
        items, next_cursor = read(PageParams(limit=MAX_LIMIT, after=after))
        found += items
        if next_cursor is None:
            return found
        after = decode_cursor(next_cursor)


@router.get("")
def portfolio(
    request: Request,
    db: ReadSession,
    period: str | None = None,
    client_id: str | None = None,
    status: str | None = None,
    min_probability: str | None = None,
    cursor: str | None = None,
) -> Response:
    viewer = _viewer(request, db)
    if viewer is None:
        return _to_sign_in()
    month = _period(period)
    try:
        after = decode_cursor(cursor) if cursor else None
    except Problem:
        after = None
    filters = outlook.OverviewFilter(
        client_id or None, status if status in STATUSES else None, _probability(min_probability)
    )
    found = outlook.portfolio(
        db, viewer, str(month), filters, PageParams(limit=PAGE_SIZE, after=after)
    )
    clients = _every(lambda page: contracts.list_clients(db, viewer, page))
    return _html(
        "portfolio.html.j2",
        viewer=viewer,
        found=found,
        period=month,
        clients={client.id: client.name for client in clients},
        filters=filters,
        statuses=STATUSES,
        months=_month_choices(month),
        min_probability=min_probability or "",
    )


def _month_choices(selected: Period) -> list[Period]:
    """The month selector: the last twelve months and the next three, and the one shown."""
    current = _period(None)
    first, last = pages.shift(current, -12), pages.shift(current, 3)
    return sorted({*periods_between(first, last), selected}, reverse=True)


@router.get("/contracts/{contract_id}")
def contract(
    request: Request, db: ReadSession, contract_id: str, period: str | None = None
) -> Response:
    return _detail_page(request, db, "contract.html.j2", period, pages.contract_page, contract_id)


@router.get("/activities/{activity_id}")
def activity(
    request: Request, db: ReadSession, activity_id: str, period: str | None = None
) -> Response:
    return _detail_page(request, db, "activity.html.j2", period, pages.activity_page, activity_id)


def _detail_page(
    request: Request,
    db: Session,
    template: str,
    period: str | None,
    build: Callable[[Session, Principal, str, Period], Any],
    object_id: str,
) -> Response:
    """A contract or activity page for a month: sign-in first, a problem as an error page."""
    viewer = _viewer(request, db)
    if viewer is None:
        return _to_sign_in()
    month = _period(period)
    try:
        page = build(db, viewer, object_id, month)
    except Problem as problem:
        return _html("error.html.j2", problem.status, viewer=viewer, detail=problem.detail)
    return _html(template, viewer=viewer, page=page, period=month)


@router.get("/invoices")
def invoice_list(request: Request, db: ReadSession, cursor: str | None = None) -> Response:
    viewer = _viewer(request, db)
    if viewer is None:
        return _to_sign_in()
    try:
        after = decode_cursor(cursor) if cursor else None
    except Problem:
        after = None
    found, next_cursor = invoices.invoices_page(
        db, viewer, PageParams(limit=PAGE_SIZE, after=after)
    )
    listed = _every(lambda page: contracts.list_contracts(db, viewer, page, None))
    clients = _every(lambda page: contracts.list_clients(db, viewer, page))
    return _html(
        "invoices.html.j2",
        viewer=viewer,
        invoices=found,
        next_cursor=next_cursor,
        receivables=invoices.receivables(db, viewer, date.today()),
        contracts_by_id={contract.id: contract for contract in listed},
        clients={client.id: client.name for client in clients},
    )


@router.get("/invoices/{invoice_id}/pdf")
def invoice_pdf(request: Request, db: ReadSession, invoice_id: str) -> Response:
    """The issued invoice's Factur-X PDF, as `GET /v1/invoices/{id}/pdf` serves it: the browser
    holds the session cookie, not the API key the API wants."""
    viewer = _viewer(request, db)
    if viewer is None:
        return _to_sign_in()
    try:
        invoice = billing.get_invoice(db, viewer, invoice_id)
        document = einvoices.stored(db, invoice, "pdf")
    except Problem as problem:
        return _html("error.html.j2", problem.status, viewer=viewer, detail=problem.detail)
    return Response(
        document.content,
        media_type=document.media_type,
        headers={"Content-Disposition": f'inline; filename="{invoice.number}.pdf"'},
    )
