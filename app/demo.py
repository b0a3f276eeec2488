"""`plancher demo`: a client, a contract and three activities to explore the API with.

Re-running it finds the demo client again (by SIREN) instead of duplicating it; each run prints
a fresh admin key, since secrets are never stored.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy.orm import Session

from app.contracts import schemas, service
from app.contracts.repository import ClientRepository, ContractRepository
from app.core.auth import SYSTEM, IssuedKey, Role, issue_key
from app.core.pagination import MAX_LIMIT, PageParams

DEMO_SIREN = "732829320"
DEMO_CONTRACT = "SP2C-DEMO-2025"

DEMO_ACTIVITIES = [
    schemas.ActivityCreate(
        name="Service client voix",
        channel=schemas.Channel.VOICE,
        interval_minutes=30,
        billing_unit=schemas.BillingUnit.CONTACT,
        prices=[
            schemas.PriceCreate(effective_from=date(2025, 1, 1), unit_price=Decimal("1.20")),
            schemas.PriceCreate(effective_from=date(2026, 1, 1), unit_price=Decimal("1.23")),
        ],
    ),
    schemas.ActivityCreate(
        name="E-mails",
        channel=schemas.Channel.EMAIL,
        interval_minutes=60,
        billing_unit=schemas.BillingUnit.CONTACT,
        volume_basis=schemas.VolumeBasis.HANDLED,
        prices=[schemas.PriceCreate(effective_from=date(2025, 1, 1), unit_price=Decimal("2.00"))],
    ),
    schemas.ActivityCreate(
        name="Back-office dossiers",
        channel=schemas.Channel.BACKOFFICE,
        interval_minutes=60,
        billing_unit=schemas.BillingUnit.HOUR,
        reference_aht_seconds=Decimal("720"),
        prices=[schemas.PriceCreate(effective_from=date(2025, 1, 1), unit_price=Decimal("28.50"))],
    ),
]


@dataclass(frozen=True)
class Demo:
    client_id: str
    contract_id: str
    activity_ids: list[str]
    admin_key: IssuedKey


def load_demo(session: Session) -> Demo:
    client = ClientRepository(session).by_siren(DEMO_SIREN) or service.create_client(
        session, SYSTEM, schemas.ClientCreate(name="Énergie Demo SA", siren=DEMO_SIREN)
    )
    contract = ContractRepository(session).by_reference(client.id, DEMO_CONTRACT)
    if contract is None:
        contract = service.create_contract(
            session,
            SYSTEM,
            schemas.ContractCreate(
                client_id=client.id, reference=DEMO_CONTRACT, starts_on=date(2025, 1, 1)
            ),
        )
        for activity in DEMO_ACTIVITIES:
            service.create_activity(session, SYSTEM, contract.id, activity)
    activities, _ = service.list_activities(
        session, SYSTEM, contract.id, PageParams(limit=MAX_LIMIT, after=None)
    )
    key = issue_key(session, Role.ADMIN, label="demo")
    return Demo(client.id, contract.id, [activity.id for activity in activities], key)


def usage(demo: Demo, base_url: str = "http://127.0.0.1:8000") -> str:
    """What to try first, as copy-pasteable commands."""
    auth = f'-H "Authorization: Bearer {demo.admin_key.secret}"'
    return "\n".join(
        [
            f"demo client   {demo.client_id}",
            f"demo contract {demo.contract_id}",
            f"activities    {', '.join(demo.activity_ids)}",
            f"admin key     {demo.admin_key.secret}   (shown once)",
            "",
            "Try:",
            f"  curl {auth} {base_url}/v1/contracts/{demo.contract_id}",
            f"  curl {auth} {base_url}/v1/contracts/{demo.contract_id}/activities",
            f"  curl {auth} {base_url}/v1/activities/{demo.activity_ids[0]}/prices",
            f"  open {base_url}/docs for the interactive API documentation",
        ]
    )
