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
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from app.commitments import service as commitments
from app.commitments.schemas import CommitmentCreate, CommitmentLineIn
from app.commitments.submission import Received
from app.contracts import schemas, service
from app.contracts.service import Activity
from app.core.auth import SYSTEM, IssuedKey, Principal, Role, issue_key
from app.core.charter import BillingUnit, VolumeBasis
from app.core.orm import utc_now
from app.core.pagination import MAX_LIMIT, PageParams
from app.core.periods import Period, local_midnight
from app.volumes import service as volumes
from models.synthetic import DEMO_PROFILES, generate_intervals

PARIS = ZoneInfo("Europe/Paris")
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
    client = service.client_by_siren(session, DEMO_SIREN) or service.create_client(
        session,
        SYSTEM,
        schemas.ClientCreate(
            name="Énergie Demo SA",
            siren=DEMO_SIREN,
            address=schemas.Address(line1="8 place Bellecour", postcode="69002", city="Lyon"),
        ),
    )
    contract = service.contract_by_reference(session, client.id, DEMO_CONTRACT)
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
    today = today or date.today()
    histories = _load_history(session, activities, today)
    first_version = PageParams(limit=1, after=None)
    if not commitments.list_commitments(session, SYSTEM, activities[0].id, first_version)[0]:
        _import_commitments(session, activities, histories, today)
    key = issue_key(session, Role.ADMIN, label="demo")
    loaded = sum(len(history) for history in histories.values())
    return Demo(client.id, contract.id, [activity.id for activity in activities], loaded, key)


def _load_history(
    session: Session, activities: Sequence[Activity], today: date
) -> dict[str, pd.DataFrame]:
    profiles = {profile.name: profile for profile in DEMO_PROFILES}
    first, last = today - timedelta(days=HISTORY_DAYS), today - timedelta(days=1)
    histories = {}
    for activity in activities:
        history = generate_intervals(profiles[activity.name], first, last, seed=SEED)
        csv = history.to_csv(index=False, date_format="%Y-%m-%dT%H:%M:%S+00:00")
        volumes.ingest_csv(session, SYSTEM, activity.id, io.BytesIO(csv.encode()))
        histories[activity.id] = history
    return histories


COMMITMENT_BIAS = {"Service client voix": 1.05, "E-mails": 0.98, "Back-office dossiers": 1.12}
"""How much each demo client's WFM over-commits on average: voice and back-office commitments
run high enough that some months fall under the trigger and bill a shortfall."""


def _import_commitments(
    session: Session,
    activities: Sequence[Activity],
    histories: dict[str, pd.DataFrame],
    today: date,
) -> None:
    """Committed forecasts for the last six closed months, this month and the next two (from
    last year's volumes), imported as a legacy WFM system's versions received five weeks
    before each month (or just now, for a month whose deadline is still ahead)."""
    rng = np.random.default_rng(SEED)
    current = Period(today.year, today.month)
    closed = [current]
    for _ in range(6):
        closed.insert(0, closed[0].previous())
    closed.pop()
    upcoming = [current, current.next(), current.next().next()]
    importer = Principal(key_id=None, role=Role.ADMIN.value)
    for activity in activities:
        monthly = _monthly_totals(histories[activity.id])
        references = {m: monthly.get(str(m)) for m in closed} | {
            m: monthly.get(str(Period(m.year - 1, m.month))) for m in upcoming
        }
        for month, reference in references.items():
            if not reference:
                continue
            volume = Decimal(
                round(reference * COMMITMENT_BIAS[activity.name] * rng.normal(1.0, 0.05))
            )
            commitments.create_commitment(
                session,
                importer,
                activity.id,
                Received.of(
                    CommitmentCreate(
                        label=f"WFM {month}",
                        received_at=min(
                            local_midnight(month.first_day - timedelta(days=35), PARIS),
                            utc_now() - timedelta(minutes=1),
                        ),
                        lines=[CommitmentLineIn(period=str(month), volume=volume)],
                    )
                ),
            )


def _monthly_totals(history: pd.DataFrame) -> dict[str, int]:
    """Offered contacts per local month of a generated history."""
    local = history["interval_start"].dt.tz_convert(PARIS)
    totals = history.groupby(local.dt.strftime("%Y-%m"))["offered"].sum()
    return {month: int(total) for month, total in totals.items()}


_ANY_INTERFACE = {"0.0.0.0", "::", ""}


def base_url(host: str, port: int) -> str:
    """The URL a browser on this machine reaches the server at: a server listening on every
    interface is reached on the loopback one; an IPv6 address is bracketed."""
    name = "127.0.0.1" if host in _ANY_INTERFACE else host
    if ":" in name:
        name = f"[{name}]"
    return f"http://{name}:{port}"


def usage(demo: Demo, base_url: str) -> str:
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
            f"  curl {auth} '{base_url}/v1/contracts/{demo.contract_id}/shortfall"
            f"?period={_last_closed_month()}'",
            f"  curl {auth} '{base_url}/v1/activities/{demo.activity_ids[0]}/comparison"
            f"?from={_last_closed_month()}&to={_last_closed_month().next().next()}'",
            f"  open {base_url}/docs for the interactive API documentation",
        ]
    )


def _last_closed_month() -> Period:
    today = date.today()
    return Period(today.year, today.month).previous()
