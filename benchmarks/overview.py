"""The portfolio overview (`GET /v1/overview`) over 300 contracts x 3 activities, on SQLite and
PostgreSQL, against a plain indexed read of the same rows in the same run.

For each database the script builds a fresh migrated database with the invoice-run benchmark's
portfolio (`invoice_run.populate`: contracts, activities, prices, one binding commitment
version, actuals), moved to the current month, plus one stored month forecast per activity
with its 1,000 simulated totals, as the forecasting engine stores them. It starts the API on
loopback and times `GET /v1/overview` for the current month (every contract on one page). The
baseline reads the rows the overview reads, with the driver and no computation: contracts,
activities and prices, commitment lines, forecast runs (their samples included) and points,
actual sums per activity, invoices. It prints the median of several calls of each, the CPU
time the process (server and client) spent per call, which the machine's load inflates less
than the wall time, and the load average; then the median time of the dashboard's portfolio
page, which renders the overview.

With `--profile`, it then profiles the overview in-process with pyinstrument (a bench extra):
the route's function and the rendering of its response, called a few times in this thread,
printed as a call tree (what to look at before changing the overview).

    .venv/bin/python benchmarks/overview.py [--contracts 300] [--repeat 5] [--only sqlite]
        [--profile]
"""

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import numpy as np
import uvicorn
from sqlalchemy import insert, select, text, update

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from invoice_run import populate  # noqa: E402

from app.commitments.tables import CommitmentLine, CommitmentVersion  # noqa: E402
from app.contracts.tables import Activity  # noqa: E402
from app.core.auth import SYSTEM, Role, issue_key  # noqa: E402
from app.core.db import Database, create_db_engine, session_scope  # noqa: E402
from app.core.ids import new_id  # noqa: E402
from app.core.migrations import upgrade_to_head  # noqa: E402
from app.core.pagination import PageParams  # noqa: E402
from app.core.periods import Period, local_midnight, period_of  # noqa: E402
from app.core.settings import Settings  # noqa: E402
from app.forecasts.tables import ForecastPoint, ForecastRun  # noqa: E402
from app.main import create_app  # noqa: E402
from app.outlook import router as outlook_router  # noqa: E402
from app.outlook import schemas as outlook_schemas  # noqa: E402
from app.volumes.tables import IntervalActual  # noqa: E402

from pg_server import PostgresServer  # noqa: E402

PARIS = ZoneInfo("Europe/Paris")
SAMPLES = 1_000


def current_month() -> Period:
    return period_of(datetime.now(UTC), PARIS)


def move_to(database: Database, month: Period) -> None:
    """Shift the populated portfolio to `month` (commitments, their receipt, the actuals) and
    store one month forecast per activity, as the engine would."""
    rng = np.random.default_rng(3)
    received = local_midnight(month.first_day, PARIS) - timedelta(days=60)
    instant = local_midnight(month.first_day, PARIS) + timedelta(hours=9)
    with session_scope(database) as session:
        session.execute(update(CommitmentLine).values(period=str(month)))
        session.execute(update(CommitmentVersion).values(received_at=received))
        session.execute(update(IntervalActual).values(interval_start=instant))
        activity_ids = list(session.scalars(select(Activity.id)))
        committed = {
            activity_id: volume
            for activity_id, volume in session.execute(
                select(CommitmentLine.activity_id, CommitmentLine.volume)
            )
        }
        runs, points = [], []
        last = month.next().first_day - timedelta(days=1)
        for activity_id in activity_ids:
            mean = float(committed[activity_id]) * rng.uniform(0.8, 1.1)
            totals = rng.normal(mean, mean * 0.05, SAMPLES)
            run_id = new_id("fct")
            runs.append(
                {
                    "id": run_id,
                    "activity_id": activity_id,
                    "granularity": "month",
                    "start": month.first_day,
                    "end": last,
                    "method_requested": "auto",
                    "method": "ets",
                    "levels": [80, 95],
                    "history_end": None,
                    "volume": "offered",
                    "backtest": [],
                    "selection": None,
                    "assumptions": None,
                    "samples": [totals.round(3).tolist()],
                    "created_by_key_id": None,
                    "created_at": datetime.now(UTC),
                }
            )
            low, high = np.quantile(totals, [0.1, 0.9])
            points.append(
                {
                    "run_id": run_id,
                    "period_start": local_midnight(month.first_day, PARIS),
                    "volume": Decimal(f"{mean:.3f}"),
                    "bounds": {"lower_80": f"{low:.3f}", "upper_80": f"{high:.3f}"},
                    "aht_seconds": None,
                }
            )
        session.execute(insert(ForecastRun), runs)
        session.execute(insert(ForecastPoint), points)


def baseline_seconds(database: Database, month: Period) -> float:
    """The rows the overview reads, with the driver: what no implementation can avoid."""
    start = local_midnight(month.first_day, PARIS).astimezone(UTC).replace(tzinfo=None)
    end = local_midnight(month.next().first_day, PARIS).astimezone(UTC).replace(tzinfo=None)
    started = time.perf_counter()
    with database.engine.connect() as connection:
        connection.exec_driver_sql("SELECT * FROM contracts").all()
        connection.exec_driver_sql(
            "SELECT a.*, p.* FROM activities a JOIN activity_prices p ON p.activity_id = a.id"
        ).all()
        connection.execute(
            text(
                "SELECT l.*, v.received_at FROM commitment_lines l "
                "JOIN commitment_versions v ON v.id = l.version_id WHERE l.period = :period"
            ),
            {"period": str(month)},
        ).all()
        connection.execute(
            text("SELECT * FROM forecast_runs WHERE granularity = 'month' AND start <= :last"),
            {"last": month.next().first_day},
        ).all()
        connection.exec_driver_sql("SELECT * FROM forecast_points").all()
        connection.execute(
            text(
                "SELECT activity_id, sum(offered), sum(handled), sum(handled * aht_ms) "
                "FROM interval_actuals WHERE interval_start >= :start "
                "AND interval_start < :end GROUP BY activity_id"
            ),
            {"start": start, "end": end},
        ).all()
        connection.execute(
            text("SELECT * FROM invoices WHERE period = :period"), {"period": str(month)}
        ).all()
    return time.perf_counter() - started


def timed_overview(
    url: str, database: Database, month: Period, contracts: int, repeat: int
) -> tuple[list[float], int]:
    with session_scope(database) as session:
        key = issue_key(session, Role.OPS).secret
    app = create_app(Settings(database_url=url, log_level="WARNING"), database=database)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    times, cpu, shown = [], [], 0
    try:
        with httpx.Client(headers={"Authorization": f"Bearer {key}"}, timeout=600) as client:
            for _ in range(repeat):
                started, cpu_started = time.perf_counter(), time.process_time()
                response = client.get(
                    f"http://127.0.0.1:{port}/v1/overview",
                    params={"period": str(month), "limit": max(contracts, 1)},
                )
                times.append(time.perf_counter() - started)
                cpu.append(time.process_time() - cpu_started)
                response.raise_for_status()
                shown = len(response.json()["items"])
            page = _dashboard_page_seconds(client, f"http://127.0.0.1:{port}", key, month, repeat)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
    return times, cpu, shown, page


def _dashboard_page_seconds(
    client: httpx.Client, base: str, key: str, month: Period, repeat: int
) -> float:
    """The median time of the dashboard's portfolio page, which renders the overview (its
    first page of contracts, totals over all), signed in with the same key."""
    signed_in = client.post(f"{base}/dashboard/signin", data={"api_key": key})
    if signed_in.status_code != 303:
        raise RuntimeError(f"the dashboard refused the key: {signed_in.status_code}")
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        client.get(f"{base}/dashboard", params={"period": str(month)}).raise_for_status()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def profile_overview(database: Database, month: Period, contracts: int, repeat: int) -> None:
    """The route's function and its JSON rendering under pyinstrument, in this thread (the
    server runs a sync route in a worker thread, out of a profiler's sight)."""
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.0005)
    with session_scope(database) as session:
        profiler.start()
        for _ in range(repeat):
            found = outlook_router.get_overview(
                session, SYSTEM, str(month), PageParams(limit=max(contracts, 1), after=None)
            )
            assert isinstance(found, outlook_schemas.OverviewOut)
            found.model_dump_json()
        profiler.stop()
    print(profiler.output_text(unicode=True, color=False, show_all=False))


def measure(name: str, url: str, contracts: int, repeat: int, profile: bool = False) -> None:
    month = current_month()
    upgrade_to_head(url)
    database = Database(create_db_engine(url))
    populate(database, contracts)
    move_to(database, month)
    baseline = statistics.median(baseline_seconds(database, month) for _ in range(repeat))
    times, cpu, shown, page = timed_overview(url, database, month, contracts, repeat)
    database.engine.dispose()
    overview = statistics.median(times)
    print(
        f"{name:<10} overview {overview * 1000:7.0f} ms (median of {repeat}; first call "
        f"{times[0] * 1000:.0f} ms; CPU of this process {statistics.median(cpu) * 1000:.0f} ms) "
        f"for {shown} contracts   plain indexed read of the same rows {baseline * 1000:6.0f} ms"
        f"   (overview/read {overview / baseline:4.1f}x)   dashboard portfolio page "
        f"{page * 1000:.0f} ms   load average {_load()}"
    )
    if profile:
        database = Database(create_db_engine(url))
        profile_overview(database, month, contracts, repeat)
        database.engine.dispose()


def _load() -> str:
    """The machine is shared: figures mean little without the load they were taken under."""
    return " ".join(f"{load:.1f}" for load in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contracts", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    parser.add_argument("--profile", action="store_true", help="then profile it (pyinstrument)")
    args = parser.parse_args()
    print(f"{args.contracts:,} contracts x 3 activities, period {current_month()}")
    if args.only in (None, "sqlite"):
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{tmp}/overview.db"
            measure("SQLite", url, args.contracts, args.repeat, args.profile)
    if args.only in (None, "postgresql"):
        with PostgresServer() as server:
            url = server.create_database("overview")
            measure("PostgreSQL", url, args.contracts, args.repeat, args.profile)


if __name__ == "__main__":
    main()
