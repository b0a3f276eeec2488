"""Minimum-billing scenarios through the API, shared by the billing and e-invoice tests: a
contract whose activities have binding commitments and October actuals."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from factories import make_activity, make_client, make_contract

PERIOD = "2026-10"  # closed: the suite runs after it ended
MID_PERIOD = "2026-10-15T10:00:00+02:00"
BEFORE_DEADLINE = "2026-08-20T10:00:00+02:00"


@dataclass(frozen=True)
class Stream:
    """One activity of a worked example: unit, price, commitment and actuals."""

    name: str
    price: str
    committed: int
    actual: int
    unit: str = "contact"
    committed_aht: int | None = None
    actual_aht: int = 300


def arrange(
    client: TestClient,
    db: Session,
    admin: dict[str, str],
    streams: list[Stream],
    **terms: object,
) -> tuple[str, dict[str, str]]:
    """A contract with `streams`, their binding commitments and October actuals."""
    contract = make_contract(
        db,
        make_client(db),
        starts_on=date(2025, 1, 1),
        **{k: Decimal(str(v)) if "ratio" in k else v for k, v in terms.items()},
    )
    ids = {}
    for stream in streams:
        activity = make_activity(
            db, contract, price=Decimal(stream.price), name=stream.name, billing_unit=stream.unit
        )
        ids[stream.name] = activity.id
        line = {"period": PERIOD, "volume": stream.committed}
        if stream.committed_aht is not None:
            line["aht_seconds"] = stream.committed_aht
        response = client.post(
            f"/v1/activities/{activity.id}/commitments",
            json={"received_at": BEFORE_DEADLINE, "lines": [line]},
            headers=admin,
        )
        assert response.status_code == 201, response.text
        actuals = {
            "interval_start": MID_PERIOD,
            "offered": stream.actual,
            "handled": stream.actual,
            "aht_seconds": stream.actual_aht,
        }
        response = client.post(
            f"/v1/activities/{activity.id}/volumes", json={"records": [actuals]}, headers=admin
        )
        assert response.status_code == 200, response.text
    return contract.id, ids


def shortfall(client, contract_id, headers, period=PERIOD) -> dict:
    response = client.get(
        f"/v1/contracts/{contract_id}/shortfall", params={"period": period}, headers=headers
    )
    assert response.status_code == 200, response.text
    return response.json()


def generate(client, contract_id, headers, period=PERIOD):
    return client.post(
        "/v1/invoices", json={"contract_id": contract_id, "period": period}, headers=headers
    )


VOICE_100K = Stream("voice", "1.20", 100_000, 85_000)


def issue_and_correct(client, db, admin, billing) -> tuple[str, dict, dict]:
    """A contract's October invoice issued, then corrected after an agreed adjustment of 5 000
    units: (contract id, the issued invoice, the correction's response)."""
    contract_id, ids = arrange(client, db, admin, [VOICE_100K])
    draft = generate(client, contract_id, billing).json()
    issued = client.post(f"/v1/invoices/{draft['id']}/issue", headers=billing).json()
    client.post(
        f"/v1/activities/{ids['voice']}/adjustments",
        json={"period": PERIOD, "units": "5000", "reason": "campagne annulée"},
        headers=admin,
    )
    correction = client.post(f"/v1/invoices/{draft['id']}/correct", headers=billing).json()
    return contract_id, issued, correction


def invoice_run(client: TestClient, billing: dict[str, str], tasks: Any) -> dict[str, Any]:
    """Start an invoice run of PERIOD, let its batches run (`tasks.drain()`), read it again."""
    started = client.post("/v1/invoice-runs", json={"period": PERIOD}, headers=billing)
    assert started.status_code == 202, started.text
    assert started.json()["status"] == "queued"
    tasks.drain()
    read = client.get(f"/v1/invoice-runs/{started.json()['id']}", headers=billing)
    assert read.status_code == 200, read.text
    result: dict[str, Any] = read.json()
    return result
