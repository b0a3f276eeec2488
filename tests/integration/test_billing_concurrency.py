"""Invoice generation, numbering and sync under real concurrency, on PostgreSQL.

These tests need committed data and parallel transactions, so they run against a live server
(uvicorn in a thread, on loopback) over a freshly migrated database, not inside the rolled-back
transaction the other API tests use.
"""

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import func, select

from app.billing import service as billing
from app.billing.tables import Invoice
from app.commitments import schemas as commitment_schemas
from app.commitments import service as commitments
from app.commitments.submission import Received
from app.contracts import schemas, service
from app.core.auth import SYSTEM, Principal, Role, issue_key
from app.core.charter import BillingUnit
from app.core.db import Database, create_db_engine, session_scope
from app.core.migrations import upgrade_to_head
from app.core.settings import Settings
from app.main import create_app
from app.volumes import service as volumes

from factories import new_siren
from live_server import live_server

pytestmark = pytest.mark.integration
WORKERS = 8
SYSTEM_ADMIN = Principal(key_id=None, role=Role.ADMIN.value)
"""Imports past commitment versions (with received_at) as an admin would."""


@pytest.fixture(scope="module")
def live(database_url_factory) -> Iterator[tuple[str, Database]]:
    url = database_url_factory("postgresql")
    upgrade_to_head(url)
    database = Database(create_db_engine(url))
    app = create_app(Settings(database_url=url, log_level="WARNING"), database=database)
    with live_server(app) as base:
        yield base, database
    database.dispose()


def _contract_with_shortfall(database: Database, reference: str) -> str:
    """A contract whose October 2026 actuals fall 15 % short of a binding commitment."""
    with session_scope(database) as session:
        client = service.create_client(
            session,
            SYSTEM,
            schemas.ClientCreate(
                name=reference,
                siren=new_siren(),
                address=schemas.Address(line1="1 rue Test", postcode="69002", city="Lyon"),
            ),
        )
        contract = service.create_contract(
            session,
            SYSTEM,
            schemas.ContractCreate(
                client_id=client.id, reference=reference, starts_on=date(2025, 1, 1)
            ),
        )
        activity = service.create_activity(
            session,
            SYSTEM,
            contract.id,
            schemas.ActivityCreate(
                name="voice",
                channel=schemas.Channel.VOICE,
                interval_minutes=30,
                billing_unit=BillingUnit.CONTACT,
                prices=[
                    schemas.PriceCreate(effective_from=date(2025, 1, 1), unit_price=Decimal("1.20"))
                ],
            ),
        )
        commitments.create_commitment(
            session,
            SYSTEM_ADMIN,
            activity.id,
            Received.of(
                commitment_schemas.CommitmentCreate(
                    received_at=datetime(2026, 8, 1, tzinfo=UTC),
                    lines=[commitment_schemas.CommitmentLineIn(period="2026-10", volume=100_000)],
                )
            ),
        )
        volumes.ingest_json(
            session,
            SYSTEM,
            activity.id,
            {
                "records": [
                    {
                        "interval_start": "2026-10-15T10:00:00+02:00",
                        "offered": 85_000,
                        "handled": 85_000,
                        "aht_seconds": 300,
                    }
                ]
            },
        )
        return contract.id


def _billing_key(database: Database) -> dict[str, str]:
    with session_scope(database) as session:
        return {"Authorization": f"Bearer {issue_key(session, Role.BILLING).secret}"}


def test_parallel_generation_creates_one_invoice(live) -> None:
    base, database = live
    contract_id = _contract_with_shortfall(database, "PARALLEL-GEN")
    headers = _billing_key(database)
    body = {"contract_id": contract_id, "period": "2026-10"}
    barrier = threading.Barrier(WORKERS)

    def generate(_: int) -> httpx.Response:
        barrier.wait()
        return httpx.post(f"{base}/v1/invoices", json=body, headers=headers, timeout=60)

    with ThreadPoolExecutor(WORKERS) as pool:
        responses = list(pool.map(generate, range(WORKERS)))
    assert sorted(r.status_code for r in responses) == [200] * (WORKERS - 1) + [201]
    assert len({r.json()["id"] for r in responses}) == 1
    with database.session(write=False) as session:
        count = session.scalar(
            select(func.count()).select_from(Invoice).where(Invoice.contract_id == contract_id)
        )
    assert count == 1


def test_parallel_issuing_gives_consecutive_numbers_without_gaps(live) -> None:
    base, database = live
    headers = _billing_key(database)
    drafts = []
    for n in range(WORKERS):
        contract_id = _contract_with_shortfall(database, f"PARALLEL-ISSUE-{n}")
        created = httpx.post(
            f"{base}/v1/invoices",
            headers=headers,
            timeout=60,
            json={"contract_id": contract_id, "period": "2026-10"},
        )
        drafts.append(created.json()["id"])
    barrier = threading.Barrier(WORKERS)

    def issue(invoice_id: str) -> httpx.Response:
        barrier.wait()
        return httpx.post(f"{base}/v1/invoices/{invoice_id}/issue", headers=headers, timeout=60)

    with ThreadPoolExecutor(WORKERS) as pool:
        responses = list(pool.map(issue, drafts))
    assert all(r.status_code == 200 for r in responses), [r.text for r in responses]
    numbers = sorted(int(r.json()["number"].rsplit("-", 1)[1]) for r in responses)
    assert numbers == list(range(numbers[0], numbers[0] + WORKERS))


def test_parallel_issuing_of_one_draft_numbers_it_once(live) -> None:
    base, database = live
    headers = _billing_key(database)
    contract_id = _contract_with_shortfall(database, "PARALLEL-SAME")
    invoice_id = httpx.post(
        f"{base}/v1/invoices",
        headers=headers,
        timeout=60,
        json={"contract_id": contract_id, "period": "2026-10"},
    ).json()["id"]
    barrier = threading.Barrier(WORKERS)

    def issue(_: int) -> httpx.Response:
        barrier.wait()
        return httpx.post(f"{base}/v1/invoices/{invoice_id}/issue", headers=headers, timeout=60)

    with ThreadPoolExecutor(WORKERS) as pool:
        statuses = sorted(r.status_code for r in pool.map(issue, range(WORKERS)))
    assert statuses == [200] + [409] * (WORKERS - 1)


def _draft_for(base: str, headers: dict[str, str], database: Database, reference: str) -> str:
    contract_id = _contract_with_shortfall(database, reference)
    response = httpx.post(
        f"{base}/v1/invoices",
        headers=headers,
        timeout=60,
        json={"contract_id": contract_id, "period": "2026-10"},
    )
    return str(response.json()["id"])


def _changed_since(base: str, headers: dict[str, str], since: str) -> dict[str, str]:
    """What a billing system polling with `updated_since` sees: id -> updated_at."""
    response = httpx.get(
        f"{base}/v1/invoices",
        headers=headers,
        params={"updated_since": since, "limit": 500},
        timeout=60,
    )
    return {item["id"]: item["updated_at"] for item in response.json()["items"]}


def test_updated_since_sync_misses_no_change_committed_out_of_order(live) -> None:
    """Transaction A changes invoice X and is still open when B changes Y; a billing system
    polls in between and then from the latest `updated_at` it saw. However the two commits
    interleave, the client must end up having seen both changes."""
    base, database = live
    headers = _billing_key(database)
    x_id = _draft_for(base, headers, database, "SYNC-X")
    y_id = _draft_for(base, headers, database, "SYNC-Y")
    since = datetime.now(UTC).isoformat()

    slow = database.session(write=True)
    billing.void(slow, SYSTEM_ADMIN, x_id)  # transaction A: changed, not committed

    def quick() -> None:  # transaction B
        with session_scope(database) as session:
            billing.void(session, SYSTEM_ADMIN, y_id)

    other = threading.Thread(target=quick)
    other.start()
    other.join(timeout=2)  # B commits now unless invoice writers queue behind A
    seen = _changed_since(base, headers, since)
    high_water_mark = max([since, *seen.values()], key=datetime.fromisoformat)
    slow.commit()
    slow.close()
    other.join(timeout=30)
    seen |= _changed_since(base, headers, high_water_mark)
    assert {x_id, y_id} <= seen.keys()
