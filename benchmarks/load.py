"""Mixed traffic for 2 minutes on PostgreSQL while 2 workers run a forecast job: 0 responses
5xx expected, p50 and p99 per endpoint printed (locust, headless).

Run as a script, it starts a throwaway PostgreSQL server, migrates a database, loads a small
portfolio (contracts with hourly history and commitments), starts `plancher serve` and two
`plancher worker` processes, queues a forecast job over every activity (the load the workers
carry meanwhile), then runs locust headless against the server with the users defined below:
reads of every kind (clients, contracts, volumes, comparisons, scorecards, the overview,
invoices and their summary, forecasts, jobs), CSV ingests, forecasts and invoice generation.
The baseline is the same script's idle read: `GET /healthz` under the same load, which touches
no database.

    .venv/bin/python benchmarks/load.py [--minutes 2] [--users 20] [--quick]
"""

import csv
import io
import os
import random
import re
import subprocess
import sys
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from locust import HttpUser, between, task

ROOT = Path(__file__).resolve().parents[1]
PLANCHER = str(Path(sys.executable).with_name("plancher"))
PORTFOLIO = Path(os.environ.get("PLANCHER_LOAD_PORTFOLIO", "/nonexistent"))
"""The ids the users pick from, written by the set-up (one `kind,id` a line)."""


def _portfolio() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    if PORTFOLIO.exists():
        for kind, value in csv.reader(io.StringIO(PORTFOLIO.read_text())):
            found.setdefault(kind, []).append(value)
    return found


class Planner(HttpUser):
    """An integrator and an ops dashboard at once, with the admin key of the set-up."""

    wait_time = between(0.2, 1.0)

    def on_start(self) -> None:
        self.ids = _portfolio()
        self.client.headers["Authorization"] = f"Bearer {self.ids['key'][0]}"

    def _activity(self) -> str:
        return random.choice(self.ids["activity"])

    @task(4)
    def read_lists(self) -> None:
        self.client.get("/v1/clients", name="GET /v1/clients")
        self.client.get("/v1/contracts", name="GET /v1/contracts")
        self.client.get("/v1/invoices", name="GET /v1/invoices")

    @task(3)
    def read_volumes(self) -> None:
        since, until = date.today() - timedelta(days=28), date.today()
        self.client.get(
            f"/v1/activities/{self._activity()}/volumes?start={since}&end={until}",
            name="GET /v1/activities/{id}/volumes",
        )

    @task(3)
    def read_outlook(self) -> None:
        month = date.today().strftime("%Y-%m")
        last = (date.today().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
        activity = self._activity()
        self.client.get(
            f"/v1/activities/{activity}/comparison?from={month}&to={month}",
            name="GET /v1/activities/{id}/comparison",
        )
        self.client.get(
            f"/v1/activities/{activity}/scorecard?from={last}&to={last}",
            name="GET /v1/activities/{id}/scorecard",
        )
        self.client.get(f"/v1/overview?period={month}", name="GET /v1/overview")
        self.client.get(
            f"/v1/invoices/summary?from={last}&to={month}", name="GET /v1/invoices/summary"
        )

    @task(2)
    def read_jobs_and_forecasts(self) -> None:
        self.client.get(
            f"/v1/forecast-jobs/{self.ids['job'][0]}", name="GET /v1/forecast-jobs/{id}"
        )
        for forecast_id in self.ids.get("forecast", [])[:1]:
            self.client.get(f"/v1/forecasts/{forecast_id}", name="GET /v1/forecasts/{id}")

    @task(1)
    def ingest_csv(self) -> None:
        hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=1)
        body = "interval_start,offered,handled,aht_seconds\n" + "".join(
            f"{(hour - timedelta(hours=h)).isoformat()},{random.randint(80, 120)},"
            f"{random.randint(70, 80)},300\n"
            for h in range(24)
        )
        self.client.post(
            f"/v1/activities/{self._activity()}/volumes",
            data=body,
            headers={"Content-Type": "text/csv"},
            name="POST /v1/activities/{id}/volumes (CSV)",
        )

    @task(1)
    def forecast(self) -> None:
        start = date.today() + timedelta(days=1)
        self.client.post(
            f"/v1/activities/{self._activity()}/forecasts",
            json={"granularity": "day", "method": "snaive", "start": str(start), "end": str(start)},
            name="POST /v1/activities/{id}/forecasts",
        )

    @task(1)
    def generate_invoice(self) -> None:
        last = (date.today().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
        self.client.post(
            "/v1/invoices",
            json={"contract_id": random.choice(self.ids["contract"]), "period": last},
            name="POST /v1/invoices",
        )

    @task(2)
    def health(self) -> None:
        self.client.get("/healthz", name="GET /healthz (baseline)")


# The set-up, when run as a script (locust imports this module for the users only).


def _load_portfolio(url: str, contracts: int, path: Path) -> None:
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "tests"))
    from outlook_scenarios import stable_history

    from app.commitments import schemas as commitment_schemas
    from app.commitments import service as commitments
    from app.commitments.submission import Received
    from app.core.auth import SYSTEM, Principal, Role, issue_key
    from app.core.db import Database, create_db_engine, session_scope
    from app.core.periods import Period
    from app.core.queue import ProcrastinateQueue
    from app.core.settings import Settings
    from app.forecasts import jobs, schemas
    from app.volumes import service as volumes

    from factories import make_activity, make_client, make_contract

    database = Database(create_db_engine(url))
    rows: list[tuple[str, str]] = []
    admin = Principal(key_id=None, role=Role.ADMIN.value)
    this_month = Period.of(date.today())
    with session_scope(database) as session:
        rows.append(("key", issue_key(session, Role.ADMIN).secret))
        for number in range(contracts):
            contract = make_contract(
                session,
                make_client(session, name=f"Client {number}"),
                starts_on=date(2020, 1, 1),
            )
            rows.append(("contract", contract.id))
            for name in ("voix", "mail"):
                activity = make_activity(session, contract, name=name, interval_minutes=60)
                volumes.ingest_csv(session, SYSTEM, activity.id, io.BytesIO(stable_history(240)))
                lines = [
                    commitment_schemas.CommitmentLineIn(period=str(period), volume=30_000)
                    for period in (this_month.previous(), this_month, this_month.next())
                ]
                commitments.create_commitment(
                    session,
                    admin,
                    activity.id,
                    Received.of(
                        commitment_schemas.CommitmentCreate(
                            received_at=datetime.now(UTC) - timedelta(days=120), lines=lines
                        )
                    ),
                )
                rows.append(("activity", activity.id))
    start = date.today() + timedelta(days=1)
    request = schemas.ForecastJobCreate.model_validate(
        {"granularity": "interval", "method": "auto", "start": str(start), "end": str(start)}
    )
    with session_scope(database) as session:
        job = jobs.create_job(
            session, ProcrastinateQueue(Settings(database_url=url)), SYSTEM, request
        )
        rows.append(("job", job.id))
    database.engine.dispose()
    with path.open("w", newline="") as out:
        csv.writer(out).writerows(rows)


def main() -> None:
    import argparse

    sys.path.insert(0, str(ROOT / "tests"))
    from servers import served

    from pg_server import PostgresServer

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=2)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--contracts", type=int, default=10)
    parser.add_argument("--quick", action="store_true", help="20 s, 5 users, 3 contracts.")
    args = parser.parse_args()
    seconds = 20 if args.quick else int(args.minutes * 60)
    users = 5 if args.quick else args.users
    contracts = 3 if args.quick else args.contracts
    with PostgresServer() as server, tempfile.TemporaryDirectory() as scratch:
        url = server.create_database("load")
        env = {**os.environ, "PLANCHER_DATABASE_URL": url, "PLANCHER_LOG_LEVEL": "WARNING"}
        subprocess.run([PLANCHER, "db", "upgrade"], env=env, check=True, capture_output=True)
        portfolio = Path(scratch) / "portfolio.csv"
        _load_portfolio(url, contracts, portfolio)
        workers = [
            subprocess.Popen([PLANCHER, "worker", "--concurrency", "1"], env=env) for _ in range(2)
        ]
        server_env = {**env, "PLANCHER_FORECAST_WORKERS": "1"}
        try:
            with served([PLANCHER, "serve", "--port"], server_env, "/readyz") as (base, _):
                stats = Path(scratch) / "stats"
                subprocess.run(
                    [
                        str(Path(sys.executable).with_name("locust")),
                        "-f",
                        __file__,
                        "--headless",
                        "--users",
                        str(users),
                        "--spawn-rate",
                        str(users),
                        "--run-time",
                        f"{seconds}s",
                        "--host",
                        base,
                        "--csv",
                        str(stats),
                        "--only-summary",
                        "--loglevel",
                        "ERROR",
                    ],
                    env={**os.environ, "PLANCHER_LOAD_PORTFOLIO": str(portfolio)},
                    check=False,
                    capture_output=True,
                )
                _report(stats, users, seconds)
        finally:
            for process in workers:
                process.terminate()
            for process in workers:
                process.wait(timeout=120)


def _report(stats: Path, users: int, seconds: int) -> None:
    rows = list(csv.DictReader(io.StringIO(Path(f"{stats}_stats.csv").read_text())))
    failures = list(csv.DictReader(io.StringIO(Path(f"{stats}_failures.csv").read_text())))
    server_errors = sum(
        int(row["Occurrences"]) for row in failures if re.search(r"\b5\d\d\b", row["Error"])
    )
    print(f"{users} users for {seconds} s on PostgreSQL, 2 workers running a forecast job")
    print(f"{'endpoint':48} {'requests':>9} {'failures':>9} {'p50 ms':>8} {'p99 ms':>8}")
    for row in rows:
        print(
            f"{row['Name'][:48]:48} {row['Request Count']:>9} {row['Failure Count']:>9} "
            f"{row['50%']:>8} {row['99%']:>8}"
        )
    print(f"responses 5xx: {server_errors}")
    for row in failures:
        print(f"  failure: {row['Method']} {row['Name']}: {row['Error']} x{row['Occurrences']}")


if __name__ == "__main__":
    main()
