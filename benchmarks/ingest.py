"""Ingestion speed of the volumes API against the raw database driver, measured in one run.

For each database (SQLite, and a throwaway PostgreSQL started on loopback), the script:
1. builds a fresh migrated database with 20 activities of 30-minute intervals;
2. starts `plancher serve` in its own process and posts 20 CSV bodies of 50,000 half-hours each
   (1,000,000 rows) through HTTP, as the ACD feed would;
3. loads the same rows into a second fresh database with the raw driver's bulk path
   (sqlite3 `executemany`, psycopg `COPY`) — the baseline;
and prints rows/s for both, their ratio, and the server's peak resident memory (VmHWM), the
median of `--runs` runs (3 by default; each on fresh databases, API and raw alternating), since
one run swings with the machine's load.
Then it posts all the rows in ONE request (15-minute intervals of one activity) to show that a
large body is streamed: the server's peak memory must stay at a few hundred MB.

    .venv/bin/python benchmarks/ingest.py [--activities 20] [--rows 50000] [--runs 3]
        [--only sqlite]
"""

import argparse
import io
import sqlite3
import statistics
import sys
import tempfile
import time
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))

import servers  # noqa: E402

from app.contracts import schemas  # noqa: E402
from app.contracts import service as contracts  # noqa: E402
from app.core.auth import SYSTEM, Role, issue_key  # noqa: E402
from app.core.charter import BillingUnit  # noqa: E402
from app.core.db import Database, create_db_engine, session_scope  # noqa: E402
from app.core.migrations import upgrade_to_head  # noqa: E402

from pg_server import PostgresServer  # noqa: E402

FIRST_INTERVAL = datetime(2022, 1, 3, tzinfo=UTC)
FIRST_QUARTER_HOUR = datetime(1995, 1, 2, tzinfo=UTC)


def csv_body(rows: int, seed: int, minutes: int = 30) -> bytes:
    """`rows` consecutive intervals with plausible counts, as the CSV the API takes."""
    rng = np.random.default_rng(seed)
    first = FIRST_INTERVAL if minutes == 30 else FIRST_QUARTER_HOUR
    starts = pd.date_range(first, periods=rows, freq=f"{minutes}min")
    offered = rng.poisson(40, rows)
    handled = np.minimum(offered, rng.poisson(38, rows))
    aht = np.round(rng.normal(300, 30, rows), 1)
    frame = pd.DataFrame(
        {"interval_start": starts, "offered": offered, "handled": handled, "aht_seconds": aht}
    )
    return frame.to_csv(index=False, date_format="%Y-%m-%dT%H:%M:%S+00:00").encode()


def prepare(url: str, activities: int, minutes: int = 30) -> tuple[list[str], str]:
    """A migrated database with `activities` activities; their ids and an admin key."""
    upgrade_to_head(url)
    database = Database(create_db_engine(url))
    with session_scope(database) as session:
        client = contracts.create_client(session, SYSTEM, schemas.ClientCreate(name="Bench"))
        contract = contracts.create_contract(
            session,
            SYSTEM,
            schemas.ContractCreate(
                client_id=client.id, reference="BENCH", starts_on=FIRST_QUARTER_HOUR.date()
            ),
        )
        ids = [
            contracts.create_activity(
                session,
                SYSTEM,
                contract.id,
                schemas.ActivityCreate(
                    name=f"activity {n}",
                    channel=schemas.Channel.VOICE,
                    interval_minutes=minutes,
                    billing_unit=BillingUnit.CONTACT,
                ),
            ).id
            for n in range(activities)
        ]
        secret = issue_key(session, Role.ADMIN).secret
    database.engine.dispose()
    return ids, secret


def served(url: str) -> AbstractContextManager[tuple[str, int]]:
    """`plancher serve` on a free loopback port; yields its base URL and pid."""
    # No forecasting workers: their start-up (loading Stan and statsmodels) would compete with
    # the ingestion being measured for this machine's two cores.
    env = {
        "PLANCHER_DATABASE_URL": url,
        "PLANCHER_LOG_LEVEL": "WARNING",
        "PLANCHER_FORECAST_WARM_UP": "false",
    }
    return servers.served([str(ROOT / ".venv/bin/plancher"), "serve", "--port"], env)


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def through_api(
    url: str, bodies: list[bytes], activities: int, minutes: int = 30
) -> tuple[float, float]:
    ids, secret = prepare(url, activities, minutes)
    headers = {"Authorization": f"Bearer {secret}", "Content-Type": "text/csv"}
    with served(url) as (base, pid), httpx.Client(timeout=600) as http:
        started = time.perf_counter()
        for activity_id, body in zip(ids, bodies, strict=True):
            response = http.post(
                f"{base}/v1/activities/{activity_id}/volumes", content=body, headers=headers
            )
            response.raise_for_status()
        elapsed = time.perf_counter() - started
        rss = peak_rss_mb(pid)
    return elapsed, rss


def _rows(activity_id: str, body: bytes) -> pd.DataFrame:
    frame = pd.read_csv(io.BytesIO(body))
    frame.insert(0, "activity_id", activity_id)
    frame["aht_ms"] = (frame.pop("aht_seconds") * 1000).round().astype("int64")
    return frame


def raw_sqlite(url: str, bodies: list[bytes], activities: int) -> float:
    ids, _ = prepare(url, activities)
    frames = [_rows(a, b) for a, b in zip(ids, bodies, strict=True)]
    for frame in frames:
        frame["interval_start"] = pd.to_datetime(frame["interval_start"]).dt.strftime(
            "%Y-%m-%d %H:%M:%S.%f"
        )
    connection = sqlite3.connect(url.removeprefix("sqlite:///"))
    started = time.perf_counter()
    for frame in frames:
        connection.executemany(
            "INSERT INTO interval_actuals (activity_id, interval_start, offered, handled, aht_ms)"
            " VALUES (?, ?, ?, ?, ?)",
            frame.itertuples(index=False, name=None),
        )
        connection.commit()
    elapsed = time.perf_counter() - started
    connection.close()
    return elapsed


def raw_postgresql(url: str, bodies: list[bytes], activities: int) -> float:
    ids, _ = prepare(url, activities)
    frames = [_rows(a, b) for a, b in zip(ids, bodies, strict=True)]
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn) as connection:
        started = time.perf_counter()
        for frame in frames:
            with (
                connection.cursor() as cursor,
                cursor.copy(
                    "COPY interval_actuals (activity_id, interval_start, offered, handled, aht_ms) "
                    "FROM STDIN WITH (FORMAT csv)"
                ) as copy,
            ):
                copy.write(frame.to_csv(header=False, index=False))
            connection.commit()
        return time.perf_counter() - started


def report(name: str, rows: int, runs: list[tuple[float, float, float]]) -> None:
    """The median run of (API seconds, raw seconds, server peak RSS) triples."""
    api_seconds = statistics.median(api for api, _, _ in runs)
    raw_seconds = statistics.median(raw for _, raw, _ in runs)
    rss = statistics.median(rss for _, _, rss in runs)
    ratios = ", ".join(f"{raw / api:.1%}" for api, raw, _ in runs)
    api_rate, raw_rate = rows / api_seconds, rows / raw_seconds
    print(
        f"{name:<10} API {api_rate:>10,.0f} rows/s ({api_seconds:6.1f} s)   "
        f"raw driver {raw_rate:>10,.0f} rows/s ({raw_seconds:6.1f} s)   "
        f"API/raw {api_rate / raw_rate:5.1%} (median of {len(runs)}; runs {ratios})   "
        f"server peak RSS {rss:6.0f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--activities", type=int, default=20)
    parser.add_argument("--rows", type=int, default=50_000, help="half-hours per activity")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    bodies = [csv_body(args.rows, seed) for seed in range(args.activities)]
    total = args.rows * args.activities
    print(
        f"{total:,} rows: {args.activities} activities x {args.rows:,} half-hours, "
        f"{sum(map(len, bodies)) / 1e6:.0f} MB of CSV"
    )
    single = [csv_body(total, 0, minutes=15)]
    if args.only in (None, "sqlite"):
        with tempfile.TemporaryDirectory() as tmp:
            runs = []
            for run in range(args.runs):
                api, rss = through_api(f"sqlite:///{tmp}/api{run}.db", bodies, args.activities)
                raw = raw_sqlite(f"sqlite:///{tmp}/raw{run}.db", bodies, args.activities)
                runs.append((api, raw, rss))
            report("SQLite", total, runs)
            seconds, rss = through_api(f"sqlite:///{tmp}/one.db", single, 1, minutes=15)
            print(
                f"{'SQLite':<10} one request of {total:,} rows: {seconds:6.1f} s, "
                f"server peak RSS {rss:6.0f} MB"
            )
    if args.only in (None, "postgresql"):
        with PostgresServer() as server:
            runs = []
            for run in range(args.runs):
                api, rss = through_api(server.create_database(f"api{run}"), bodies, args.activities)
                raw = raw_postgresql(server.create_database(f"raw{run}"), bodies, args.activities)
                runs.append((api, raw, rss))
            report("PostgreSQL", total, runs)
            seconds, rss = through_api(server.create_database("one"), single, 1, minutes=15)
            print(
                f"{'PostgreSQL':<10} one request of {total:,} rows: {seconds:6.1f} s, "
                f"server peak RSS {rss:6.0f} MB"
            )


if __name__ == "__main__":
    main()
