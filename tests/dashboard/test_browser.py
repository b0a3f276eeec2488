"""The dashboard in a real browser: Debian's headless Chromium driven by Playwright, every
request answered in-process by the app over the test's transaction (so it runs on both
databases), and any request for another host refused and reported.

Each page is opened after signing in; the figures it shows must be the API's, formatted in
French; no console error; a screenshot of each page is kept in `build/screenshots/`."""

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal

import pytest
from dashboard_portfolio import PERIOD, seed
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page

from app.core.auth import Role
from app.dashboard import formatting, pages

from browser_visit import Visit, launch
from factories import bearer


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launch() as launched:
        yield launched


def _staffing(client: TestClient, admin: dict[str, str], activity_id: str) -> dict:
    """An interval forecast of the next weekday, and its staffing as the API sizes it with the
    targets the activity page uses."""
    day = date.today() + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    forecast = client.post(
        f"/v1/activities/{activity_id}/forecasts",
        json={"granularity": "interval", "start": str(day), "end": str(day), "method": "snaive"},
        headers=admin,
    )
    assert forecast.status_code == 201, forecast.text
    targets = {name: str(value) for name, value in pages.STAFFING_TARGETS.items()}
    staffed = client.get(
        f"/v1/forecasts/{forecast.json()['id']}/staffing", params=targets, headers=admin
    )
    assert staffed.status_code == 200, staffed.text
    body: dict = staffed.json()
    return body


def _iso_day(heading: str) -> str:
    """The dd/mm/yyyy date of a heading, as yyyy-mm-dd."""
    day, month, year = heading.rsplit(" ", 1)[-1].split("/")
    return f"{year}-{month}-{day}"


def _text(page: Page, selector: str) -> str:
    return page.locator(selector).first.inner_text().strip()


def test_every_page_shows_the_apis_figures(client, db, browser) -> None:
    admin = bearer(db, Role.ADMIN)
    ids = seed(client, db, admin)
    visit = Visit(browser, client)
    visit.sign_in(bearer(db, Role.OPS))

    page = visit.open(f"/dashboard?period={PERIOD}", "1-portefeuille")
    overview = client.get("/v1/overview", params={"period": PERIOD}, headers=admin).json()
    assert len(overview["items"]) == len(ids)
    for item in overview["items"]:
        row = f"tr[data-contract-id='{item['contract_id']}']"
        expected = formatting.money(Decimal(item["expected_shortfall_amount"]), item["currency"])
        assert _text(page, f"{row} td[data-field=expected_shortfall]") == expected
        for line in item["activities"]:
            cells = f"tr[data-activity-id='{line['activity_id']}']"
            assert _text(page, f"{cells} td[data-field=actual]") == formatting.number(
                Decimal(line["actual"])
            )

    contract_id = ids["AH-2026-RC"]
    page = visit.open(f"/dashboard/contracts/{contract_id}?period={PERIOD}", "2-contrat")
    compared = client.get(
        f"/v1/contracts/{contract_id}/comparison", params={"period": PERIOD}, headers=admin
    ).json()
    shown = page.locator(f"tr[data-period='{PERIOD}'] td[data-field=expected_shortfall]")
    assert shown.all_inner_texts() == [
        formatting.money(Decimal(line["expected_shortfall_amount"]), "EUR")
        for line in compared["activities"]
    ]

    voice = compared["activities"][0]
    staffed = _staffing(client, admin, voice["activity_id"])
    page = visit.open(f"/dashboard/activities/{voice['activity_id']}?period={PERIOD}", "3-activite")
    assert _text(page, "[data-field=actual]") == formatting.number(Decimal(voice["actual"]))
    assert page.locator("svg.chart").count() == 3
    chart = page.locator("[data-chart=staffing]")
    assert staffed["intervals"][0]["period_start"][:10] in _iso_day(_text(page, "#staffing"))
    staffed_hours = [i for i, interval in enumerate(staffed["intervals"]) if interval["agents"]]
    open_hours = staffed["intervals"][staffed_hours[0] : staffed_hours[-1] + 1]
    assert chart.locator("rect.bar title").all_text_contents() == [
        f"{interval['period_start'][11:16]} : {formatting.number(Decimal(interval['agents']))}"
        for interval in open_hours
    ]
    assert len(open_hours) < len(staffed["intervals"])  # the closed night is not drawn

    page = visit.open("/dashboard/invoices", "4-factures")
    listed = client.get("/v1/invoices", headers=admin).json()["items"]
    assert listed
    for invoice in listed:
        cell = f"tr[data-invoice-id='{invoice['id']}'] td[data-field=total]"
        assert _text(page, cell) == formatting.money(Decimal(invoice["total_amount"]), "EUR")
    issued = next(invoice for invoice in listed if invoice["number"])
    link = page.get_attribute(f"tr[data-invoice-id='{issued['id']}'] a[href$='/pdf']", "href")
    served = page.evaluate("async url => (await fetch(url)).headers.get('content-type')", link)
    assert served == "application/pdf"

    assert visit.outside == []
    assert visit.errors == []
    visit.context.close()
