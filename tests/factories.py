"""Small factories for test data, written through the ORM in the test's transaction."""

import itertools
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from app.contracts.tables import Activity, ActivityPrice, Client, Contract
from app.core.auth import Role, issue_key
from app.core.fields import luhn_valid

_sirens = itertools.count(10_000_000)


def new_siren() -> str:
    """A fresh SIREN that passes the Luhn check (SIRENs are unique among clients)."""
    base = f"{next(_sirens) % 100_000_000:08d}"
    return next(base + str(digit) for digit in range(10) if luhn_valid(base + str(digit)))


def make_client(db: Session, **overrides: Any) -> Client:
    """A client with the complete identity an e-invoice needs, unless overridden."""
    values: dict[str, Any] = {
        "name": "Acme Énergie",
        "country": "FR",
        "siren": new_siren(),
        "address_line1": "12 avenue des Champs",
        "address_postcode": "69002",
        "address_city": "Lyon",
        "address_country": "FR",
    }
    client = Client(**{**values, **overrides})
    db.add(client)
    db.flush()
    return client


def make_contract(db: Session, client: Client, **overrides: Any) -> Contract:
    values: dict[str, Any] = {
        "reference": f"CTR-{client.id[-6:]}",
        "currency": "EUR",
        "timezone": "Europe/Paris",
        "starts_on": date(2025, 1, 1),
        "commitment_deadline_days": 30,
        "trigger_ratio": Decimal("0.90"),
        "floor_ratio": Decimal("0.90"),
        "upper_tolerance": Decimal("0.10"),
        "evaluation": "per_activity",
        "vat_rate": Decimal("0.20"),
        "holiday_country": "FR",
        "payment_terms_days": 30,
    }
    contract = Contract(client_id=client.id, **{**values, **overrides})
    db.add(contract)
    db.flush()
    return contract


def make_activity(
    db: Session, contract: Contract, price: Decimal | None = Decimal("1.20"), **overrides: Any
) -> Activity:
    values: dict[str, Any] = {
        "name": "Service client voix",
        "channel": "voice",
        "interval_minutes": 30,
        "billing_unit": "contact",
        "volume_basis": "offered",
        **overrides,
    }
    activity = Activity(contract_id=contract.id, **values)
    db.add(activity)
    db.flush()
    if price is not None:
        db.add(
            ActivityPrice(
                activity_id=activity.id, effective_from=date(2025, 1, 1), unit_price=price
            )
        )
        db.flush()
    return activity


def bearer(db: Session, role: Role, client_id: str | None = None) -> dict[str, str]:
    """Authorization headers of a new key with `role`."""
    issued = issue_key(db, role, client_id)
    db.flush()
    return {"Authorization": f"Bearer {issued.secret}"}
