"""A small portfolio that looks like a real one, for the dashboard's browser tests: four
clients, one pooled contract, October 2026 closed with invoices issued and drafted, and hourly
actuals from October to today (weekdays busy, Saturdays light, Sundays closed)."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from factories import make_activity, make_client, make_contract

PARIS = ZoneInfo("Europe/Paris")
PERIOD = "2026-10"
FIRST_DAY, LAST_DAY = date(2026, 10, 1), date(2026, 10, 31)
RECEIVED = "2026-08-20T10:00:00+02:00"
HOURS = range(9, 19)
_HOUR_SHAPE = [0.7, 1.2, 1.3, 1.0, 0.8, 1.1, 1.2, 1.0, 0.9, 0.8]
_DAY_SHAPE = {5: 0.4, 6: 0.0}


@dataclass(frozen=True)
class Line:
    name: str
    channel: str
    price: str
    committed: int
    actual: int


@dataclass(frozen=True)
class Account:
    client: str
    reference: str
    evaluation: str
    lines: tuple[Line, ...]
    invoice: str | None = None
    """What happens to October's invoice: issued, draft, or none generated."""


PORTFOLIO = (
    Account(
        "Assurances Horizon",
        "AH-2026-RC",
        "per_activity",
        (
            Line("Relation client voix", "voice", "1.20", 100_000, 84_500),
            Line("Courriels", "email", "2.00", 10_000, 9_700),
        ),
        invoice="issued",
    ),
    Account(
        "Banque Rivage",
        "BR-2026-MUT",
        "pooled",
        (
            Line("Voix particuliers", "voice", "1.20", 50_000, 38_000),
            Line("Tchat", "chat", "1.60", 10_000, 11_500),
        ),
        invoice="draft",
    ),
    Account(
        "Énergies Saint-Clair",
        "ESC-2026",
        "per_activity",
        (Line("Dépannage", "voice", "1.35", 60_000, 58_200),),
    ),
    Account(
        "Mutuelle des Tilleuls",
        "MDT-2026-A",
        "per_activity",
        (Line("Adhérents", "voice", "1.10", 40_000, 31_000),),
        invoice="issued",
    ),
)


def _weights(days: list[date]) -> list[tuple[datetime, float]]:
    return [
        (datetime(d.year, d.month, d.day, hour, tzinfo=PARIS), _DAY_SHAPE.get(d.weekday(), 1) * s)
        for d in days
        for hour, s in zip(HOURS, _HOUR_SHAPE, strict=True)
        if _DAY_SHAPE.get(d.weekday(), 1) > 0
    ]


def _records(total: int, days: list[date]) -> list[dict[str, object]]:
    """`total` contacts spread over the open hours of `days`, exactly."""
    slots = _weights(days)
    weight = sum(w for _, w in slots)
    counts = [int(total * w / weight) for _, w in slots]
    counts[len(counts) // 2] += total - sum(counts)
    return [
        {
            "interval_start": start.astimezone(UTC).isoformat(),
            "offered": count,
            "handled": count,
            "aht_seconds": 300,
        }
        for (start, _), count in zip(slots, counts, strict=True)
    ]


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def seed(client: TestClient, db: Session, admin: dict[str, str]) -> dict[str, str]:
    """Create the portfolio; return each contract's id by reference."""
    october = _days(FIRST_DAY, LAST_DAY)
    since = _days(LAST_DAY + timedelta(days=1), date.today() - timedelta(days=1))
    ids = {}
    for account in PORTFOLIO:
        contract = make_contract(
            db,
            make_client(db, name=account.client),
            reference=account.reference,
            evaluation=account.evaluation,
        )
        ids[account.reference] = contract.id
        for line in account.lines:
            activity = make_activity(
                db,
                contract,
                price=Decimal(line.price),
                name=line.name,
                channel=line.channel,
                interval_minutes=60,
            )
            _post(
                client,
                f"/v1/activities/{activity.id}/commitments",
                admin,
                {
                    "received_at": RECEIVED,
                    "lines": [{"period": PERIOD, "volume": line.committed}],
                },
            )
            records = _records(line.actual, october) + _records(
                line.actual * len(since) // 31, since
            )
            _post(client, f"/v1/activities/{activity.id}/volumes", admin, {"records": records})
        if account.invoice is not None:
            invoice = _post(
                client, "/v1/invoices", admin, {"contract_id": contract.id, "period": PERIOD}
            )
            if account.invoice == "issued" and invoice.get("id"):
                _post(client, f"/v1/invoices/{invoice['id']}/issue", admin, None)
    return ids


def _post(client: TestClient, path: str, headers: dict[str, str], body: object) -> dict:
    response = client.post(path, json=body, headers=headers)
    assert response.status_code in (200, 201), response.text
    return response.json()
