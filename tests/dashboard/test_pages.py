"""The dashboard's sign-in and pages, without a browser: the cookie, its binding to the key,
the client scope, and every page answering in French."""

import io
from datetime import date, timedelta

from outlook_scenarios import stable_history
from sqlalchemy import select

from app.core.auth import SYSTEM, Role, revoke_key
from app.core.tables import ApiKey
from app.volumes import service as volumes

from billing_scenarios import PERIOD, VOICE_100K, arrange, generate
from factories import bearer, make_activity, make_client, make_contract


def _sign_in(client, headers: dict[str, str]):
    secret = headers["Authorization"].removeprefix("Bearer ")
    return client.post(
        "/dashboard/signin",
        content=f"api_key={secret}",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )


def test_signing_in_sets_a_strict_httponly_cookie(client, db) -> None:
    response = _sign_in(client, bearer(db, Role.OPS))
    assert response.status_code == 303
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/dashboard" in cookie
    assert client.get("/dashboard").status_code == 200


def test_an_unknown_key_is_refused_on_the_form(client, db) -> None:
    response = client.post(
        "/dashboard/signin",
        content="api_key=plk_nope",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 401
    assert "Clé inconnue ou révoquée" in response.text


def test_without_a_session_pages_send_to_the_sign_in(client) -> None:
    response = client.get("/dashboard", follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, "/dashboard/signin")


def test_revoking_the_key_ends_the_session(client, db) -> None:
    headers = bearer(db, Role.OPS)
    _sign_in(client, headers)
    [key] = [k for k in db.scalars(select(ApiKey)) if k.role == "ops"]
    revoke_key(db, key.id)
    assert client.get("/dashboard", follow_redirects=False).status_code == 303


def test_a_forged_cookie_opens_nothing(client, db) -> None:
    _sign_in(client, bearer(db, Role.OPS))
    forged = client.cookies["plancher_session"][:-4] + "AAAA"
    client.cookies.clear()
    client.cookies.set("plancher_session", forged, path="/dashboard")
    assert client.get("/dashboard", follow_redirects=False).status_code == 303


def test_signing_out_forgets_the_session(client, db) -> None:
    _sign_in(client, bearer(db, Role.OPS))
    client.post("/dashboard/signout", follow_redirects=False)
    assert client.get("/dashboard", follow_redirects=False).status_code == 303


def test_every_page_answers_in_french(client, db) -> None:
    admin = bearer(db, Role.ADMIN)
    contract_id, ids = arrange(client, db, admin, [VOICE_100K])
    invoice = generate(client, contract_id, admin).json()
    client.post(f"/v1/invoices/{invoice['id']}/issue", headers=admin)
    _sign_in(client, admin)
    for path, text in [
        (f"/dashboard?period={PERIOD}", "Portefeuille — octobre 2026"),
        (f"/dashboard/contracts/{contract_id}?period={PERIOD}", "Mois par mois"),
        (f"/dashboard/activities/{ids['voice']}?period={PERIOD}", "Volumes quotidiens"),
        ("/dashboard/invoices", "Émise"),
    ]:
        response = client.get(path)
        assert response.status_code == 200, (path, response.text)
        assert text in response.text
    pdf = client.get(f"/dashboard/invoices/{invoice['id']}/pdf")
    assert (pdf.status_code, pdf.headers["content-type"]) == (200, "application/pdf")


def test_a_client_key_sees_only_its_own_contracts(client, db) -> None:
    admin = bearer(db, Role.ADMIN)
    own, _ = arrange(client, db, admin, [VOICE_100K])
    other, _ = arrange(client, db, admin, [VOICE_100K])
    owner = client.get(f"/v1/contracts/{own}", headers=admin).json()["client_id"]
    _sign_in(client, bearer(db, Role.CLIENT, owner))
    page = client.get(f"/dashboard?period={PERIOD}").text
    assert own in page and other not in page
    assert client.get(f"/dashboard/contracts/{other}").status_code == 404


def test_activity_page_sizes_the_newest_interval_forecast(client, db) -> None:
    admin = bearer(db, Role.ADMIN)
    contract = make_contract(db, make_client(db), starts_on=date(2020, 1, 1))
    activity = make_activity(db, contract, interval_minutes=60)
    volumes.ingest_csv(db, SYSTEM, activity.id, io.BytesIO(stable_history(120)))
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    response = client.post(
        f"/v1/activities/{activity.id}/forecasts",
        json={"granularity": "interval", "start": tomorrow, "end": tomorrow, "method": "snaive"},
        headers=admin,
    )
    assert response.status_code == 201, response.text
    _sign_in(client, admin)
    page = client.get(f"/dashboard/activities/{activity.id}").text
    assert 'data-chart="staffing"' in page and "Agents en ligne" in page


def test_the_client_filter_lists_every_client_past_one_page(client, db) -> None:
    """More clients than the largest API page (500): the filter pages through them all."""
    client_ids = [make_client(db, name=f"Client {number:03d}").id for number in range(505)]
    _sign_in(client, bearer(db, Role.OPS))
    page = client.get(f"/dashboard?period={PERIOD}").text
    assert all(f'<option value="{client_id}"' in page for client_id in client_ids)
