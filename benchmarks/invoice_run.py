"""An invoice run over 10,000 contracts x 3 activities for one month, on SQLite and PostgreSQL.

For each database the script builds a fresh migrated database (contracts, activities, prices,
one binding commitment version per contract, October 2026 actuals: about half the contracts
fall short), starts the API on loopback (`plancher serve`, in its own process) and times
`POST /v1/invoice-runs` for 2026-10 until the run has ended. As a
baseline measured in the same run, it times the raw driver reading the run's inputs (commitment
lines, adjustments, actual sums per activity, activities and prices) and inserting as many
invoice rows as the run created (copies of one of them, by SQLAlchemy Core's executemany with
no ORM, in one transaction then rolled back): the I/O the run cannot avoid. It prints seconds,
contracts/s and the ratio to the baseline.

    .venv/bin/python benchmarks/invoice_run.py [--contracts 10000] [--only postgresql]
"""

import argparse
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from sqlalchemy import insert, select, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from servers import served  # noqa: E402

from app.billing.tables import Invoice  # noqa: E402
from app.commitments.tables import CommitmentLine, CommitmentVersion  # noqa: E402
from app.contracts.tables import Activity, ActivityPrice, Client, Contract  # noqa: E402
from app.core.auth import Role, issue_key  # noqa: E402
from app.core.db import Database, create_db_engine, session_scope  # noqa: E402
from app.core.ids import new_id  # noqa: E402
from app.core.migrations import upgrade_to_head  # noqa: E402
from app.volumes.tables import IntervalActual  # noqa: E402

from pg_server import PostgresServer  # noqa: E402

ACTIVITIES_PER_CONTRACT = 3
OCTOBER_INTERVAL = datetime(2026, 10, 15, 8, 0, tzinfo=UTC)
RECEIVED = datetime(2026, 8, 1, tzinfo=UTC)


def populate(database: Database, contracts: int, seed: int = 7) -> None:
    """Bulk-insert the reference data, commitments and actuals through SQLAlchemy Core."""
    rng = np.random.default_rng(seed)
    now = datetime.now(UTC)
    rows: dict[Any, list[dict[str, Any]]] = {
        table: []
        for table in (
            Client,
            Contract,
            Activity,
            ActivityPrice,
            CommitmentVersion,
            CommitmentLine,
            IntervalActual,
        )
    }
    for n in range(contracts):
        client_id, contract_id, version_id = new_id("cli"), new_id("ctr"), new_id("cmt")
        stamps = {"created_at": now, "updated_at": now}
        rows[Client].append(
            {"id": client_id, "name": f"Client {n}", "siren": None, "country": "FR", **stamps}
        )
        rows[Contract].append(
            {
                "id": contract_id,
                "client_id": client_id,
                "reference": f"C{n}",
                "currency": "EUR",
                "timezone": "Europe/Paris",
                "starts_on": date(2025, 1, 1),
                "ends_on": None,
                "commitment_deadline_days": 30,
                "trigger_ratio": Decimal("0.90"),
                "floor_ratio": Decimal("0.90"),
                "upper_tolerance": Decimal("0.10"),
                "evaluation": "per_activity",
                "vat_rate": Decimal("0.20"),
                "holiday_country": "FR",
                "payment_terms_days": 30,
                **stamps,
            }
        )
        rows[CommitmentVersion].append(
            {
                "id": version_id,
                "contract_id": contract_id,
                "label": "bench",
                "received_at": RECEIVED,
                "source": "import",
                "created_by_key_id": None,
                "created_at": now,
            }
        )
        for k in range(ACTIVITIES_PER_CONTRACT):
            activity_id = new_id("act")
            committed = int(rng.integers(1_000, 100_000))
            actual = int(committed * rng.uniform(0.75, 1.05))
            rows[Activity].append(
                {
                    "id": activity_id,
                    "contract_id": contract_id,
                    "name": f"activity {k}",
                    "channel": "voice",
                    "interval_minutes": 30,
                    "billing_unit": "contact",
                    "volume_basis": "offered",
                    "reference_aht_seconds": None,
                    **stamps,
                }
            )
            rows[ActivityPrice].append(
                {
                    "id": new_id("prc"),
                    "activity_id": activity_id,
                    "effective_from": date(2025, 1, 1),
                    "unit_price": Decimal("1.20"),
                    "created_at": now,
                }
            )
            rows[CommitmentLine].append(
                {
                    "id": new_id("cml"),
                    "version_id": version_id,
                    "activity_id": activity_id,
                    "period": "2026-10",
                    "volume": Decimal(committed),
                    "aht_seconds": None,
                }
            )
            rows[IntervalActual].append(
                {
                    "activity_id": activity_id,
                    "interval_start": OCTOBER_INTERVAL,
                    "offered": actual,
                    "handled": actual,
                    "aht_ms": 300_000,
                }
            )
    with session_scope(database) as session:
        for table, values in rows.items():
            for first in range(0, len(values), 5_000):
                session.execute(insert(table), values[first : first + 5_000])


def baseline_seconds(database: Database, invoices: int) -> float:
    """The raw reads an invoice run needs and the insert of its `invoices` rows, with no
    computation (the rows are copies of a stored invoice, rolled back afterwards)."""
    start, end = "2026-09-30 22:00:00", "2026-10-31 23:00:00"
    table = Invoice.__table__
    with database.engine.connect() as connection:
        template = dict(connection.execute(select(table).limit(1)).mappings().one())
    rows = [
        {**template, "id": f"inv_baseline_{n}", "generation_key": f"baseline:{n}"}
        for n in range(invoices)
    ]
    started = time.perf_counter()
    with database.engine.connect() as connection:
        connection.exec_driver_sql(
            "SELECT l.activity_id, l.volume, v.received_at FROM commitment_lines l "
            "JOIN commitment_versions v ON v.id = l.version_id WHERE l.period = '2026-10'"
        ).all()
        connection.exec_driver_sql("SELECT * FROM adjustments WHERE period = '2026-10'").all()
        connection.execute(
            text(
                "SELECT activity_id, sum(offered), sum(handled), sum(handled * aht_ms) "
                "FROM interval_actuals WHERE interval_start >= :start "
                "AND interval_start < :end GROUP BY activity_id"
            ),
            {"start": start, "end": end},
        ).all()
        connection.exec_driver_sql(
            "SELECT a.*, p.* FROM activities a JOIN activity_prices p ON p.activity_id = a.id"
        ).all()
        connection.execute(insert(table), rows)
        elapsed = time.perf_counter() - started
        connection.rollback()
    return elapsed


def timed_run(url: str, database: Database) -> tuple[float, dict[str, Any]]:
    """`POST /v1/invoice-runs` to `plancher serve` in its own process, then its status polled
    every 50 ms until the run ends, all on one HTTP client. (The server once ran on a thread
    of this process: the polls' client work, decoding thousands of invoice ids twenty times a
    second, then competed with the run for this process's interpreter lock and added a quarter
    to the figure. Then each poll was an `httpx.get`, which builds a client and its TLS context
    first: 19 ms of CPU a poll, a third of a core taken from the server on a two-core machine,
    which added a fifth to the run on SQLite.)"""
    with session_scope(database) as session:
        key = issue_key(session, Role.BILLING).secret
    # The server's own task runner runs the batches (no worker processes to start).
    env = {
        "PLANCHER_DATABASE_URL": url,
        "PLANCHER_LOG_LEVEL": "WARNING",
        "PLANCHER_TASK_QUEUE": "local",
        "PLANCHER_FORECAST_WARM_UP": "false",
    }
    # The interpreter running this script, so that a worktree without its own `.venv` is
    # measured with the same environment (its code first on the path, `servers.served`).
    command = [sys.executable, "-m", "app", "serve", "--port"]
    headers = {"Authorization": f"Bearer {key}"}
    with served(command, env) as (server, _), httpx.Client(headers=headers) as client:
        base = f"{server}/v1/invoice-runs"
        started = time.perf_counter()
        response = client.post(base, json={"period": "2026-10"}, timeout=3600)
        response.raise_for_status()
        run = response.json()
        while run["status"] in ("queued", "running"):  # the run goes on in the background
            time.sleep(0.05)
            run = client.get(f"{base}/{run['id']}", timeout=60).json()
        return time.perf_counter() - started, run


def measure(name: str, url: str, contracts: int) -> None:
    upgrade_to_head(url)
    database = Database(create_db_engine(url))
    populate(database, contracts)
    seconds, summary = timed_run(url, database)
    with database.session(write=False) as session:
        invoices = session.query(Invoice).count()
    baseline = baseline_seconds(database, invoices)
    database.engine.dispose()
    print(
        f"{name:<10} invoice run {seconds:7.1f} s  {contracts / seconds:8.0f} contracts/s   "
        f"created {summary['created']}, no shortfall {summary['no_shortfall']}, "
        f"errors {len(summary['errors'])}, invoices stored {invoices}   "
        f"baseline raw reads + {invoices} inserts {baseline:5.2f} s "
        f"(run/baseline {seconds / baseline:5.1f}x)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contracts", type=int, default=10_000)
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    print(f"{args.contracts:,} contracts x {ACTIVITIES_PER_CONTRACT} activities, period 2026-10")
    if args.only in (None, "sqlite"):
        with tempfile.TemporaryDirectory() as tmp:
            measure("SQLite", f"sqlite:///{tmp}/run.db", args.contracts)
    if args.only in (None, "postgresql"):
        with PostgresServer() as server:
            measure("PostgreSQL", server.create_database("run"), args.contracts)


if __name__ == "__main__":
    main()
