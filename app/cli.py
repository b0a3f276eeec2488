"""`plancher`: run the service and administer it from the command line."""

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from app.core import idempotency
from app.core.auth import SYSTEM, Role, issue_key, list_keys, revoke_key
from app.core.db import Database, create_db_engine, session_scope
from app.core.migrations import PROJECT_ROOT, upgrade_to_head
from app.core.settings import get_settings
from app.core.wording import counted

if TYPE_CHECKING:
    from app.forecasts.pool import ForecastPool

cli = typer.Typer(
    help="Plancher: SP2C charter axis 1 forecasting and minimum billing.", no_args_is_help=True
)
db_cli = typer.Typer(help="Database schema.", no_args_is_help=True)
keys_cli = typer.Typer(help="API keys.", no_args_is_help=True)
cli.add_typer(db_cli, name="db")
cli.add_typer(keys_cli, name="keys")

OPENAPI_PATH = PROJECT_ROOT / "openapi" / "openapi.json"
UVICORN_OPTIONS: dict[str, Any] = {"proxy_headers": True}
"""How `serve` runs uvicorn (beyond host and port); `benchmarks/api_reads.py` serves its
hello-world baseline with the same options."""


def _database() -> Database:
    return Database(create_db_engine(get_settings().database_url))


Host = Annotated[str, typer.Option(envvar="PLANCHER_HOST", help="Interface to listen on.")]
Port = Annotated[int, typer.Option(envvar="PLANCHER_PORT", help="TCP port.")]
"""`serve` and `demo` read the same options (and variables), so that the demo's example URLs
name the address actually served."""


@cli.command()
def serve(host: Host = "127.0.0.1", port: Port = 8000) -> None:
    """Apply pending migrations, then serve the API with uvicorn."""
    import uvicorn

    from app.main import create_app

    upgrade_to_head(get_settings().database_url)
    app = create_app()
    if app.state.settings.forecast_warm_up:
        app.state.forecast_pool.warm_up()  # the first forecast should not wait for Stan
    uvicorn.run(app, host=host, port=port, **UVICORN_OPTIONS)


@db_cli.command("purge-idempotency")
def db_purge_idempotency() -> None:
    """Delete the idempotency records older than the retention (the server also does it at
    start-up); for a daily cron on a long-running server."""
    settings = get_settings()
    purged = idempotency.purge(_database(), settings.idempotency_retention_hours)
    typer.echo(f"{counted(purged, 'expired idempotency record')} purged")


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration."""
    upgrade_to_head(get_settings().database_url)
    typer.echo("database at the latest migration")


@keys_cli.command("create")
def keys_create(
    role: Annotated[Role, typer.Option(help="What the key may do.")],
    client_id: Annotated[
        str | None, typer.Option(help="The client a client key (or a feed key, optionally) serves.")
    ] = None,
    label: Annotated[str | None, typer.Option(help="A note on who holds the key.")] = None,
) -> None:
    """Create an API key and print it: it is shown this once and stored only hashed."""
    from app.contracts import service as contracts
    from app.core.errors import NotFound

    with session_scope(_database()) as session:
        try:
            if client_id is not None:
                contracts.get_client(session, SYSTEM, client_id)
        except NotFound:
            raise typer.BadParameter(
                f"no client with id {client_id}", param_hint="--client-id"
            ) from None
        try:
            issued = issue_key(session, role, client_id, label)
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--client-id") from None
    typer.echo(f"key id: {issued.id}")
    typer.echo(f"role:   {issued.role}" + (f" (client {client_id})" if client_id else ""))
    typer.echo(f"secret: {issued.secret}")
    typer.echo("Store the secret now: it cannot be shown again.", err=True)


@keys_cli.command("revoke")
def keys_revoke(key_id: Annotated[str, typer.Argument(help="The key's id (key_…).")]) -> None:
    """Revoke a key: requests with it get 401 from now on."""
    with session_scope(_database()) as session:
        if not revoke_key(session, key_id):
            typer.echo(f"no active key with id {key_id}", err=True)
            raise typer.Exit(code=1)
    typer.echo(f"revoked {key_id}")


@keys_cli.command("list")
def keys_list() -> None:
    """List keys (ids, roles, prefixes; never the secrets)."""
    with session_scope(_database()) as session:
        for key in list_keys(session):
            state = "revoked" if key.revoked_at else "active"
            typer.echo(f"{key.id}\t{key.role}\t{key.client_id or '-'}\t{key.prefix}…\t{state}")


@cli.command("import-volumes")
def import_volumes(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV of actuals.")],
    activity: Annotated[str, typer.Option("--activity", help="The activity's id (act_…).")],
) -> None:
    """Upsert a CSV file of interval actuals (interval_start,offered,handled,aht_seconds),
    all or nothing, as the API does."""
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

    from app.core.errors import ValidationFailed
    from app.volumes.service import ingest_csv

    with (
        Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            DownloadColumn(),
            TimeRemainingColumn(),
        ) as bar,
        file.open("rb") as stream,
    ):
        task = bar.add_task(f"importing {file.name}", total=file.stat().st_size)
        try:
            with session_scope(_database()) as session:
                summary = ingest_csv(
                    session,
                    SYSTEM,
                    activity,
                    stream,
                    progress=lambda _rows: bar.update(task, completed=stream.tell()),
                )
        except ValidationFailed as problem:
            bar.stop()
            typer.echo(f"rejected, nothing written: {problem.detail}", err=True)
            for error in problem.errors[:20]:
                typer.echo(f"  line {error.row}: {error.field}: {error.reason}", err=True)
            raise typer.Exit(code=1) from None
    typer.echo(f"{summary.inserted} inserted, {summary.updated} updated")


@cli.command("forecast")
def forecast_command(
    start: Annotated[str, typer.Option(help="First local day, YYYY-MM-DD.")],
    end: Annotated[str, typer.Option(help="Last local day, YYYY-MM-DD.")],
    activity: Annotated[str | None, typer.Option(help="One activity (act_…).")] = None,
    contract: Annotated[
        str | None, typer.Option(help="Every activity of a contract, as a job.")
    ] = None,
    granularity: Annotated[str, typer.Option(help="day, interval or month.")] = "day",
    method: Annotated[
        str, typer.Option(help="auto, snaive, ets, arima, prophet, ensemble, direct.")
    ] = ("auto"),
    volume: Annotated[str, typer.Option(help="offered or handled contacts.")] = "offered",
) -> None:
    """Forecast one activity (printing its points) or a contract's activities (a job with a
    progress bar); the runs are stored as through the API."""
    from app.forecasts.pool import ForecastPool

    if (activity is None) == (contract is None):
        raise typer.BadParameter("give exactly one of --activity and --contract")
    settings = get_settings()
    database = _database()
    fields = {
        "granularity": granularity,
        "start": start,
        "end": end,
        "method": method,
        "volume": volume,
    }
    pool = ForecastPool(1 if activity is not None else settings.forecast_workers, float("inf"))
    try:
        if activity is not None:
            _forecast_activity(database, pool, activity, fields)
        else:
            _forecast_contract(database, pool, contract, fields)
    finally:
        pool.shutdown()


def _forecast_activity(
    database: Database, pool: "ForecastPool", activity_id: str, fields: dict[str, Any]
) -> None:
    import asyncio

    from app.core.transactions import DatabaseTransactions
    from app.forecasts import schemas, service

    request = schemas.ForecastCreate.model_validate(fields)
    stored = asyncio.run(
        service.create_forecast(DatabaseTransactions(database), pool, SYSTEM, activity_id, request)
    )
    typer.echo(f"forecast {stored.run.id}: method {stored.run.method}")
    for point in stored.points:
        local = point.period_start.astimezone(stored.timezone)
        typer.echo(f"{local.isoformat()}\t{point.volume}\t{point.bounds}")


def _forecast_contract(
    database: Database, pool: "ForecastPool", contract_id: str | None, fields: dict[str, Any]
) -> None:
    """A job whose tasks run in this process (as on the embedded server), with a progress bar."""
    from rich.progress import Progress

    from app.core.queue import LocalQueue, Runtime
    from app.core.transactions import DatabaseTransactions
    from app.forecasts import jobs, schemas

    settings = get_settings()
    tasks = LocalQueue(
        lambda local: Runtime(
            DatabaseTransactions(database, turn=local.turn), pool, settings, local
        ),
        pool.workers,
    )
    job_request = schemas.ForecastJobCreate.model_validate({**fields, "contract_id": contract_id})
    with session_scope(database) as session:
        job = jobs.create_job(session, tasks, SYSTEM, job_request)
    with Progress() as bar:
        progress = bar.add_task(f"job {job.id}", total=job.total)
        while not tasks.drain(timeout=0.5):
            with database.session(write=False) as session:
                bar.update(progress, completed=jobs.get_job(session, SYSTEM, job.id).done)
        bar.update(progress, completed=job.total)
    tasks.shutdown(timeout=1)
    with database.session(write=False) as session:
        status = jobs.get_job(session, SYSTEM, job.id).status
    typer.echo(f"job {job.id} {status}: {counted(job.total, 'activity', 'activities')}")


@cli.command()
def worker(
    concurrency: Annotated[
        int | None,
        typer.Option(
            help="Tasks at a time, each fitting in a process of its own; default: one per core."
        ),
    ] = None,
    name: Annotated[str, typer.Option(help="Name in the logs.")] = "worker",
) -> None:
    """Run background tasks from the PostgreSQL queue (forecast jobs, schedules), on this
    machine or on any other that reaches the database; SIGTERM finishes the running tasks."""
    import os

    from app.worker import run_worker

    settings = get_settings()
    logging.basicConfig(level=settings.log_level)
    try:
        run_worker(settings, concurrency or os.cpu_count() or 1, name)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


@cli.command()
def demo(host: Host = "127.0.0.1", port: Port = 8000) -> None:
    """Create a demo client, contract and activities, and print an admin key and examples
    for the API served at `--host` and `--port` (those of `plancher serve`)."""
    from app.demo import base_url, load_demo, usage

    with session_scope(_database()) as session:
        loaded = load_demo(session)
    typer.echo(usage(loaded, base_url(host, port)))


def openapi_document() -> str:
    """The OpenAPI document exactly as committed in `openapi/openapi.json`."""
    from app.main import create_app

    return json.dumps(create_app().openapi(), indent=2, ensure_ascii=False) + "\n"


@cli.command()
def openapi(
    output: Annotated[Path, typer.Option(help="Where to write the document.")] = OPENAPI_PATH,
) -> None:
    """Write the OpenAPI document of the running code (commit it with the change)."""
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(openapi_document(), encoding="utf-8")
    typer.echo(f"wrote {output}")


def main() -> None:
    cli()
