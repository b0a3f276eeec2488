"""Forecast jobs on the PostgreSQL task queue with 1 and with 2 `plancher worker` processes, in
the same run: wall time, seconds per activity, speed-up, and the queue's own overhead per task.

A fresh migrated database on a throwaway PostgreSQL server gets N activities with the same
synthetic history. Each round queues two jobs over every activity (day and interval
granularity: 2 x N tasks), starts its workers (`--concurrency 1` each: one fit per process, one
process per core) and waits for both jobs to finish. Times come from procrastinate's own event
log, from the first task started to the last one finished, so that process start-up is not
counted. The queue's overhead per task is measured on the one-worker round, where tasks run one
after the other: the wall time not spent inside a task (fetching it, recording its status,
waking up on NOTIFY), divided by the number of tasks. The baseline of the speed-up is the
one-worker round of the same run.

What is serial shows in two more figures per round: the tasks' own seconds added up (from
procrastinate's events), and the parallelism, that sum over the wall time. Two workers that
never wait for each other reach a parallelism near 2; if they do and the wall time still does
not halve, each task took longer: the cores were busy with something else (the load average
is printed at each round's start and end). With `--rounds N`, the 1- and 2-worker rounds
alternate N times, so that a change of the machine's load hits both alike, and each 2-worker
round is compared with the 1-worker round just before it.

Linux shares the CPU between sessions first (`kernel.sched_autogroup_enabled`), then between
the processes of a session: on a machine that other sessions keep busy, two workers started
from this script's session share one session's part of the CPU, and cannot run faster than one.
`--own-sessions` starts each worker in a session of its own, as separate services (systemd
units, containers) are: the speed-up then shows whether the workers wait for each other, while
the machine's two cores can only be shown on an idle machine.

    .venv/bin/python benchmarks/forecast_scale.py [--activities 200] [--method auto]
        [--rounds 1] [--quick]
"""

import argparse
import io
import os
import signal
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from app.core.auth import SYSTEM  # noqa: E402
from app.core.db import Database, create_db_engine, session_scope  # noqa: E402
from app.core.migrations import upgrade_to_head  # noqa: E402
from app.core.queue import ProcrastinateQueue  # noqa: E402
from app.core.settings import Settings  # noqa: E402
from app.forecasts import jobs, schemas  # noqa: E402
from app.volumes import service as volumes  # noqa: E402
from models.synthetic import DEMO_PROFILES, generate_intervals  # noqa: E402

from factories import make_activity, make_client, make_contract  # noqa: E402
from pg_server import PostgresServer  # noqa: E402

PLANCHER = str(Path(sys.executable).with_name("plancher"))


def populate(database: Database, activities: int, weeks: int) -> str:
    """One contract with `activities` activities of `weeks` of history; its id."""
    today = date.today()
    history = generate_intervals(
        DEMO_PROFILES[0], today - timedelta(weeks=weeks), today - timedelta(days=1), seed=2
    ).to_csv(index=False, date_format="%Y-%m-%dT%H:%M:%S+00:00")
    with session_scope(database) as session:
        contract = make_contract(session, make_client(session))
        for number in range(activities):
            activity = make_activity(session, contract, name=f"File {number}")
            volumes.ingest_csv(session, SYSTEM, activity.id, io.BytesIO(history.encode()))
        return contract.id


def round_of(
    database: Database, url: str, contract_id: str, method: str, workers: int, sessions: bool
) -> dict:
    """Start `workers` worker processes (each in a session of its own with `sessions`), queue
    a day job and an interval job over every activity once they are ready, and time them from
    procrastinate's events."""
    env = {
        **os.environ,
        "PLANCHER_DATABASE_URL": url,
        "PLANCHER_LOG_LEVEL": "WARNING",
        "PLANCHER_SCHEDULE_FORECAST_REFRESH": "",
        "PLANCHER_SCHEDULE_INVOICE_RUN": "",
        "PLANCHER_SCHEDULE_IDEMPOTENCY_PURGE": "",
    }
    processes = [
        subprocess.Popen(
            [PLANCHER, "worker", "--concurrency", "1"], env=env, start_new_session=sessions
        )
        for _ in range(workers)
    ]
    try:
        while _registered(database) < workers:  # after their models are loaded
            time.sleep(0.2)
        job_ids = _queue_jobs(database, url, contract_id, method)
        while not _finished(database, job_ids):
            time.sleep(0.5)
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            process.wait(timeout=120)
    return _timing(database, job_ids)


def _registered(database: Database) -> int:
    with database.engine.connect() as connection:
        return int(connection.scalar(text("SELECT count(*) FROM procrastinate_workers")) or 0)


def _queue_jobs(database: Database, url: str, contract_id: str, method: str) -> list[str]:
    tasks = ProcrastinateQueue(Settings(database_url=url))
    start = date.today() + timedelta(days=1)
    job_ids = []
    with session_scope(database) as session:
        for granularity in ("day", "interval"):
            request = schemas.ForecastJobCreate.model_validate(
                {
                    "contract_id": contract_id,
                    "granularity": granularity,
                    "method": method,
                    "start": str(start),
                    "end": str(start + timedelta(days=6)),
                }
            )
            job_ids.append(jobs.create_job(session, tasks, SYSTEM, request).id)
    return job_ids


def _finished(database: Database, job_ids: list[str]) -> bool:
    with database.engine.connect() as connection:
        statuses = connection.execute(
            text("SELECT status FROM forecast_jobs WHERE id = ANY(:ids)"), {"ids": job_ids}
        ).scalars()
        return all(status in jobs.FINISHED for status in statuses)


def _timing(database: Database, job_ids: list[str]) -> dict:
    query = text(
        """
        SELECT min(s.at) AS started, max(e.at) AS ended,
               sum(extract(epoch FROM e.at - s.at)) AS inside, count(*) AS tasks
          FROM procrastinate_jobs j
          JOIN procrastinate_events s ON s.job_id = j.id AND s.type = 'started'
          JOIN procrastinate_events e ON e.job_id = j.id AND e.type = 'succeeded'
         WHERE j.args->>'job_id' = ANY(:ids)
        """
    )
    with database.engine.connect() as connection:
        row = connection.execute(query, {"ids": job_ids}).one()
        failures = connection.execute(
            text("SELECT sum(total - done) FROM forecast_jobs WHERE id = ANY(:ids)"),
            {"ids": job_ids},
        ).scalar()
    wall = (row.ended - row.started).total_seconds()
    return {
        "wall": wall,
        "inside": float(row.inside),
        "tasks": int(row.tasks),
        "unfinished": int(failures or 0),
    }


def _load() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--activities", type=int, default=200)
    parser.add_argument("--weeks", type=int, default=10, help="Weeks of history.")
    parser.add_argument(
        "--method", default="auto", help="Forecast method of both jobs (auto: CPU-bound fits)."
    )
    parser.add_argument("--rounds", type=int, default=1, help="Pairs of 1- and 2-worker rounds.")
    parser.add_argument("--quick", action="store_true", help="20 activities, for a first look.")
    parser.add_argument(
        "--own-sessions",
        action="store_true",
        help="Start each worker in a session of its own, as separate services are deployed.",
    )
    args = parser.parse_args()
    activities = 20 if args.quick else args.activities
    with PostgresServer() as server:
        url = server.create_database("forecast_scale")
        upgrade_to_head(url)
        database = Database(create_db_engine(url))
        began = time.perf_counter()
        contract_id = populate(database, activities, args.weeks)
        print(
            f"{activities} activities, {args.weeks} weeks of history each, method "
            f"{args.method}, day + interval jobs ({2 * activities} tasks per round); "
            f"set up in {time.perf_counter() - began:.0f} s"
        )
        speedups, overheads = [], []
        for _ in range(args.rounds):
            rounds = {}
            for workers in (1, 2):
                before = _load()
                rounds[workers] = result = round_of(
                    database, url, contract_id, args.method, workers, args.own_sessions
                )
                print(
                    f"{workers} worker process(es): {result['wall']:.1f} s for "
                    f"{result['tasks']} tasks, {result['wall'] / activities:.3f} s per activity "
                    f"(day + interval); tasks' own seconds {result['inside']:.1f}, parallelism "
                    f"{result['inside'] / result['wall']:.2f}; {result['unfinished']} not done; "
                    f"load average {before} -> {_load()}"
                )
            one = rounds[1]
            speedups.append(one["wall"] / rounds[2]["wall"])
            overheads.append((one["wall"] - one["inside"]) / one["tasks"])
            print(
                f"speed-up with 2 workers: {speedups[-1]:.2f} x (baseline: the 1-worker round "
                "just before; target >= 1.8 x)"
            )
        print(
            "queue overhead per task (1 worker, outside the task): "
            + ", ".join(f"{1000 * overhead:.1f}" for overhead in overheads)
            + " ms (target < 20 ms)"
        )
        if args.rounds > 1:
            print(f"median speed-up: {statistics.median(speedups):.2f} x over {args.rounds} pairs")
        database.engine.dispose()


if __name__ == "__main__":
    main()
