"""`plancher demo`: a client, a contract and three activities with two years of realistic
interval history up to yesterday, to explore the API with.

The history comes from `models.synthetic` (intraday double peak, weekday pattern, Saturday half
day, closed Sundays and public holidays, school-holiday dips, seasonality, trend, Poisson noise)
with a fixed seed, and is loaded through the same ingestion path as the ACD feed. Re-running it
finds the demo client again (by SIREN) and refreshes the history by upsert; each run prints a
fresh admin key, since secrets are never stored.
"""

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from app.billing.rules import BillingUnit, VolumeBasis
from app.contracts import schemas, service
from app.contracts.repository import ClientRepository, ContractRepository
from app.contracts.tables import Activity
from app.core.auth import SYSTEM, IssuedKey, Role, issue_key
from app.core.pagination import MAX_LIMIT, PageParams
from app.volumes import service as volumes
from models.synthetic import DEMO_PROFILES, generate_intervals

HISTORY_DAYS = 730
SEED = 20191029  # the day the SP2C charter was signed

DEMO_SIREN = "732829320"
DEMO_CONTRACT = "SP2C-DEMO-2025"

DEMO_ACTIVITIES = [
    schemas.ActivityCreate(
        name="Service client voix",
        channel=schemas.Channel.VOICE,
        interval_minutes=30,
        billing_unit=BillingUnit.CONTACT,
        prices=[
            schemas.PriceCreate(effective_from=date(2025, 1, 1), unit_price=Decimal("1.20")),
            schemas.PriceCreate(effective_from=date(2026, 1, 1), unit_price=Decimal("1.23")),
        ],
    ),
    schemas.ActivityCreate(
        name="E-mails",
        channel=schemas.Channel.EMAIL,
        interval_minutes=60,
        billing_unit=BillingUnit.CONTACT,
        volume_basis=VolumeBasis.HANDLED,
        prices=[schemas.PriceCreate(effective_from=date(2025, 1, 1), unit_price=Decimal("2.00"))],
    ),
    schemas.ActivityCreate(
        name="Back-office dossiers",
        channel=schemas.Channel.BACKOFFICE,
        interval_minutes=60,
        billing_unit=BillingUnit.HOUR,
        reference_aht_seconds=Decimal("720"),
        prices=[schemas.PriceCreate(effective_from=date(2025, 1, 1), unit_price=Decimal("28.50"))],
    ),
]


@dataclass(frozen=True)
class Demo:
    client_id: str
    contract_id: str
    activity_ids: list[str]
    intervals_loaded: int
    admin_key: IssuedKey


def load_demo(session: Session, today: date | None = None) -> Demo:
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
    loaded = _load_history(session, activities, today or date.today())
    key = issue_key(session, Role.ADMIN, label="demo")
    return Demo(client.id, contract.id, [activity.id for activity in activities], loaded, key)


def _load_history(session: Session, activities: Sequence[Activity], today: date) -> int:
    profiles = {profile.name: profile for profile in DEMO_PROFILES}
    first, last = today - timedelta(days=HISTORY_DAYS), today - timedelta(days=1)
    loaded = 0
    for activity in activities:
        history = generate_intervals(profiles[activity.name], first, last, seed=SEED)
        csv = history.to_csv(index=False, date_format="%Y-%m-%dT%H:%M:%S+00:00")
        summary = volumes.ingest_csv(session, SYSTEM, activity.id, io.BytesIO(csv.encode()))
        loaded += summary.total
    return loaded


def usage(demo: Demo, base_url: str = "http://127.0.0.1:8000") -> str:
    """What to try first, as copy-pasteable commands."""
    auth = f'-H "Authorization: Bearer {demo.admin_key.secret}"'
    return "\n".join(
        [
            f"demo client   {demo.client_id}",
            f"demo contract {demo.contract_id}",
            f"activities    {', '.join(demo.activity_ids)}",
            f"history       {demo.intervals_loaded} intervals over {HISTORY_DAYS} days",
            f"admin key     {demo.admin_key.secret}   (shown once)",
            "",
            "Try:",
            f"  curl {auth} {base_url}/v1/contracts/{demo.contract_id}",
            f"  curl {auth} {base_url}/v1/contracts/{demo.contract_id}/activities",
            f"  curl {auth} {base_url}/v1/activities/{demo.activity_ids[0]}/prices",
            f"  curl {auth} '{base_url}/v1/activities/{demo.activity_ids[0]}/volumes"
            f"?start={date.today() - timedelta(days=7)}&end={date.today()}&granularity=day'",
            f"  open {base_url}/docs for the interactive API documentation",
        ]
    )
