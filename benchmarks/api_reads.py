"""Each read endpoint against a FastAPI hello-world served by the same uvicorn, alternating, on
SQLite and PostgreSQL.

For each database the script builds a fresh migrated database with the invoice-run benchmark's
portfolio (`invoice_run.populate`, `--contracts` contracts x 3 activities), runs the invoice
run of October 2026 (so that about half the contracts have an invoice), moves the commitments
and actuals to the current month with one stored month forecast per activity
(`overview.move_to`, as the engine stores them) and records a whole previous month of
half-hours for one activity. It then serves the API (`plancher serve`) and a hello-world with
the same uvicorn options (`app.cli.UVICORN_OPTIONS`), each in its own process, and loads them in
turn with `wrk` (Debian package `wrk`), `--connections` connections for `--seconds` seconds:
hello-world, endpoint, hello-world, endpoint... for `--rounds` rounds. It prints, per endpoint,
the median req/s, p50 and p99 of the rounds for both, and the ratio endpoint/hello-world.

    .venv/bin/python benchmarks/api_reads.py [--contracts 100] [--seconds 5] [--rounds 3]
        [--only sqlite] [--endpoint contract] [--quick] [--floor]

With `--floor` it also measures, first, the stack's floor (`floor_app`): one ORM get in a
worker thread under bare FastAPI, the most a single-object read of this stack can reach.
"""

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from invoice_run import populate  # noqa: E402
from overview import PARIS, current_month, move_to  # noqa: E402
from servers import served  # noqa: E402

from app.billing import service as billing  # noqa: E402
from app.billing.tables import Invoice  # noqa: E402
from app.cli import UVICORN_OPTIONS  # noqa: E402
from app.contracts.tables import Activity  # noqa: E402
from app.core.auth import SYSTEM, Role, issue_key  # noqa: E402
from app.core.db import Database, create_db_engine, session_scope  # noqa: E402
from app.core.migrations import upgrade_to_head  # noqa: E402
from app.core.periods import local_midnight  # noqa: E402
from app.volumes.tables import IntervalActual  # noqa: E402

from pg_server import PostgresServer  # noqa: E402

INVOICED = "2026-10"


@dataclass(frozen=True)
class Subjects:
    """The objects the endpoints read, and the key that reads them."""

    key: str
    contract_id: str
    activity_id: str
    invoice_id: str
    contracts: int


def prepare(url: str, contracts: int) -> Subjects:
    upgrade_to_head(url)
    database = Database(create_db_engine(url))
    populate(database, contracts)
    with session_scope(database) as session:
        billing.run(session, SYSTEM, INVOICED)
    month = current_month()
    move_to(database, month)
    previous = month.previous()
    start = local_midnight(previous.first_day, PARIS)
    end = local_midnight(month.first_day, PARIS)
    with session_scope(database) as session:
        invoice = session.scalars(select(Invoice).order_by(Invoice.id)).first()
        assert invoice is not None, "the invoice run created no invoice"
        activity_id = session.scalars(
            select(Activity.id).where(Activity.contract_id == invoice.contract_id)
        ).first()
        assert activity_id is not None
        half_hours = int((end - start) / timedelta(minutes=30))
        session.execute(
            insert(IntervalActual),
            [
                {
                    "activity_id": activity_id,
                    "interval_start": (start + timedelta(minutes=30 * n)).astimezone(UTC),
                    "offered": 40 + n % 17,
                    "handled": 38 + n % 13,
                    "aht_ms": 300_000 + 1000 * (n % 30),
                }
                for n in range(half_hours)
            ],
        )
        key = issue_key(session, Role.ADMIN).secret
        subjects = Subjects(key, invoice.contract_id, activity_id, invoice.id, contracts)
    database.engine.dispose()
    return subjects


def endpoints(subjects: Subjects) -> dict[str, str]:
    """Name -> path and query of each read endpoint measured."""
    month = current_month()
    previous = month.previous()
    volumes = (
        f"/v1/activities/{subjects.activity_id}/volumes?start={previous.first_day}"
        f"&end={month.first_day}"
    )
    return {
        "contract": f"/v1/contracts/{subjects.contract_id}",
        "invoice": f"/v1/invoices/{subjects.invoice_id}",
        "invoice list (50)": "/v1/invoices?limit=50",
        "volumes by day (month)": f"{volumes}&granularity=day",
        "volumes by interval (50)": f"{volumes}&granularity=interval&limit=50",
        "shortfall (3 activities)": f"/v1/contracts/{subjects.contract_id}/shortfall"
        f"?period={month}",
        "comparison (3 activities)": f"/v1/contracts/{subjects.contract_id}/comparison"
        f"?period={month}",
        f"overview ({subjects.contracts} contracts)": f"/v1/overview?period={month}"
        f"&limit={subjects.contracts}",
    }


def hello_world_app() -> Any:
    """The baseline: FastAPI's own hello-world, one async route returning a small dict."""
    from fastapi import FastAPI

    hello = FastAPI()

    @hello.get("/")
    async def root() -> dict[str, str]:
        return {"message": "Hello World"}

    return hello


def floor_app(url: str) -> Any:
    """The stack's floor for a single-object read: FastAPI alone (no middleware, one route)
    running one SQLAlchemy ORM get and its transaction in a worker thread, as every read of the
    API does at least. What this reaches against hello-world bounds what any read can."""
    from fastapi import FastAPI

    from app.contracts.tables import Contract

    database = Database(create_db_engine(url))
    floor = FastAPI()

    @floor.get("/contracts/{contract_id}")
    def one_get(contract_id: str) -> dict[str, str]:
        with database.session(write=False) as session:
            contract = session.get(Contract, contract_id)
            session.commit()
            assert contract is not None
            return {"id": contract.id, "reference": contract.reference}

    return floor


@dataclass(frozen=True)
class Load:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int


_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(number) * _UNIT_MS[unit]


def wrk(url: str, key: str, connections: int, seconds: int) -> Load:
    """One `wrk` load of `url`; refuses a run with any non-2xx answer."""
    output = subprocess.run(
        [
            "wrk",
            "--threads",
            "1",
            "--connections",
            str(connections),
            "--duration",
            f"{seconds}s",
            "--timeout",
            "30s",
            "--latency",
            "--header",
            f"Authorization: Bearer {key}",
            url,
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    if "Non-2xx" in output or "Socket errors" in output:
        raise RuntimeError(f"wrk saw errors on {url}:\n{output}")
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.MULTILINE).group(1)  # type: ignore[union-attr]
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.MULTILINE).group(1)  # type: ignore[union-attr]
    done = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    return Load(rate, _ms(p50), _ms(p99), done)


def _median(loads: list[Load]) -> Load:
    return Load(
        statistics.median(load.requests_per_second for load in loads),
        statistics.median(load.p50_ms for load in loads),
        statistics.median(load.p99_ms for load in loads),
        sum(load.requests for load in loads),
    )


def measure(name: str, url: str, args: argparse.Namespace) -> None:
    subjects = prepare(url, args.contracts)
    paths = endpoints(subjects)
    if args.endpoint:
        paths = {label: path for label, path in paths.items() if args.endpoint in label}
    env = {
        "PLANCHER_DATABASE_URL": url,
        "PLANCHER_LOG_LEVEL": "WARNING",
        "PLANCHER_FORECAST_WARM_UP": "false",
    }
    api_command = [str(ROOT / ".venv/bin/plancher"), "serve", "--port"]
    hello_command = [sys.executable, __file__, "--serve-hello-world"]
    with served(api_command, env) as (api, _), served(hello_command, {}) as (hello, _):
        if not args.floor:
            _compare(paths, api, hello, subjects.key, name, args)
            return
        with served([sys.executable, __file__, "--serve-floor"], env) as (floor, _):
            paths = {"floor: one ORM get": f"{floor}/contracts/{subjects.contract_id}", **paths}
            _compare(paths, api, hello, subjects.key, name, args)


def _compare(
    paths: dict[str, str], api: str, hello: str, key: str, name: str, args: argparse.Namespace
) -> None:
    """Each path (a full URL when it is not the API's) against hello-world, alternating."""
    for label, path in paths.items():
        url = path if path.startswith("http") else api + path
        response = httpx.get(url, headers={"Authorization": f"Bearer {key}"}, timeout=120)
        response.raise_for_status()  # and warms the path (first forecast read, caches)
        ours, theirs = [], []
        for _ in range(args.rounds):
            theirs.append(wrk(f"{hello}/", key, args.connections, args.seconds))
            ours.append(wrk(url, key, args.connections, args.seconds))
        endpoint, baseline = _median(ours), _median(theirs)
        ratio = endpoint.requests_per_second / baseline.requests_per_second
        print(
            f"{name:<10} {label:<28} {endpoint.requests_per_second:7.0f} req/s "
            f"p50 {endpoint.p50_ms:6.1f} ms p99 {endpoint.p99_ms:6.1f} ms   hello-world "
            f"{baseline.requests_per_second:6.0f} req/s p50 {baseline.p50_ms:5.1f} ms "
            f"p99 {baseline.p99_ms:5.1f} ms   ratio {ratio:5.2f}"
            + ("" if endpoint.requests >= 20 else f"   (only {endpoint.requests} requests)"),
            flush=True,
        )


def _serve(app: Any, port: int) -> None:
    """Serve `app` (plus the `/healthz` that `served` waits for) on the API's uvicorn settings."""
    import uvicorn

    app.get("/healthz")(lambda: {"status": "ok"})
    uvicorn.run(app, host="127.0.0.1", port=port, **UVICORN_OPTIONS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contracts", type=int, default=100)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    parser.add_argument("--endpoint", help="only the endpoints whose label contains this")
    parser.add_argument("--quick", action="store_true", help="1 round of 2 s")
    parser.add_argument(
        "--floor", action="store_true", help="also measure the stack's floor (`floor_app`)"
    )
    parser.add_argument("--serve-hello-world", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--serve-floor", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_floor:
        _serve(floor_app(os.environ["PLANCHER_DATABASE_URL"]), args.serve_floor)
        return
    if args.serve_hello_world:
        _serve(hello_world_app(), args.serve_hello_world)
        return
    if shutil.which("wrk") is None:
        sys.exit("This benchmark loads the servers with wrk: apt-get install wrk")
    if args.quick:
        args.rounds, args.seconds = 1, 2
    print(
        f"{args.connections} connections, {args.rounds} alternating round(s) of {args.seconds} s, "
        f"{args.contracts} contracts x 3 activities, current month {current_month()}"
    )
    if args.only in (None, "sqlite"):
        with tempfile.TemporaryDirectory() as tmp:
            measure("SQLite", f"sqlite:///{tmp}/reads.db", args)
    if args.only in (None, "postgresql"):
        with PostgresServer() as server:
            measure("PostgreSQL", server.create_database("reads"), args)


if __name__ == "__main__":
    main()
