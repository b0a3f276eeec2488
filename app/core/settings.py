"""Service configuration, read once from `PLANCHER_*` environment variables."""

import secrets
from functools import lru_cache
from typing import Annotated, Literal

from fastapi import Depends, Request
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything an operator may tune; the defaults run an embedded service with no set-up."""

    model_config = SettingsConfigDict(env_prefix="PLANCHER_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default="sqlite:///./plancher.db",
        description="SQLAlchemy URL: a SQLite file, or postgresql+psycopg://user@host/db.",
    )
    database_echo: bool = Field(default=False, description="Log every SQL statement.")
    max_request_bytes: int = Field(
        default=200 * 1024 * 1024,
        gt=0,
        description="Largest request body accepted; larger ones get a 413 problem.",
    )
    log_level: str = Field(default="INFO", description="Python logging level.")
    seller_name: str = Field(default="Plancher Demo Prestataire SAS", description="Invoice issuer.")
    seller_legal_form: str = Field(default="SAS", description="The issuer's legal form.")
    seller_share_capital: str = Field(
        default="100 000 EUR", description="Share capital as printed on invoices."
    )
    seller_siren: str = Field(default="900000001", description="The issuer's SIREN.")
    seller_rcs: str = Field(default="RCS Paris", description="Trade register (RCS) and city.")
    seller_vat_number: str = Field(default="FR68900000001", description="Intra-EU VAT number.")
    seller_address_line1: str = Field(default="1 rue de la Paix", description="Street.")
    seller_address_line2: str = Field(default="", description="Second address line, if any.")
    seller_postcode: str = Field(default="75002", description="Postcode.")
    seller_city: str = Field(default="Paris", description="City.")
    seller_country: str = Field(default="FR", description="ISO 3166-1 alpha-2 country code.")
    seller_iban: str = Field(
        default="FR7630006000011234567890189", description="IBAN that invoices ask payment to."
    )
    seller_bic: str = Field(default="AGRIFRPP", description="BIC of that account.")
    seller_electronic_address: str = Field(
        default="",
        description="Electronic address (scheme 0225) in the annuaire; empty: the SIREN.",
    )
    seller_vat_on_debits: bool = Field(
        default=False,
        description="The issuer opted to pay VAT on debits (BT-8 and a mention on the PDF).",
    )
    late_payment_rate: str = Field(
        default="taux de refinancement de la BCE majoré de 10 points",
        description="Late-payment penalty rate printed on invoices (Code de commerce L441-10).",
    )
    forecast_workers: int = Field(default=2, ge=1, description="Forecasting processes.")
    forecast_warm_up: bool = Field(
        default=True, description="Start the forecasting workers with `plancher serve`."
    )
    forecast_timeout_seconds: float = Field(
        default=120, gt=0, description="Time limit of a forecast request (jobs have none)."
    )
    task_queue: Literal["auto", "procrastinate", "local"] = Field(
        default="auto",
        description="Where background tasks run: `procrastinate` (PostgreSQL only: a durable "
        "queue that `plancher worker` processes run, on any machine), `local` (in the server "
        "process), or `auto`: procrastinate on PostgreSQL, local on SQLite.",
    )
    task_max_attempts: int = Field(
        default=3, ge=0, description="Retries of a task after a transient error."
    )
    task_retry_base_seconds: int = Field(
        default=2, ge=1, description="Back-off of retries: base ** attempt seconds."
    )
    worker_heartbeat_seconds: float = Field(
        default=10, gt=0, description="How often a worker tells the database it is alive."
    )
    worker_stalled_seconds: float = Field(
        default=60,
        gt=0,
        description="A worker silent for this long is taken for dead: its tasks run again "
        "elsewhere (keep it several heartbeats long).",
    )
    worker_stalled_check_cron: str = Field(
        default="* * * * * */15",
        description="When workers look for the tasks of dead workers (cron, seconds last).",
    )
    worker_shutdown_seconds: float = Field(
        default=600,
        gt=0,
        description="On SIGTERM, how long a worker (or the server's own task runner) lets "
        "running tasks finish; a task cut short runs again later.",
    )
    schedule_forecast_refresh: str = Field(
        default="30 2 * * *",
        description="Cron of the refresh of the month forecasts the comparison and the "
        "overview read (every contract in force); empty: off.",
    )
    schedule_forecast_refresh_months: int = Field(
        default=3, ge=1, le=24, description="Months the nightly refresh forecasts, this one on."
    )
    schedule_invoice_run: str = Field(
        default="0 5 3 * *",
        description="Cron of the monthly invoice run (drafts of the month before); by default "
        "the 3rd of each month at 05:00, once the period has closed; empty: off.",
    )
    schedule_idempotency_purge: str = Field(
        default="15 3 * * *",
        description="Cron of the purge of expired idempotency records; empty: off.",
    )
    idempotency_retention_hours: int = Field(
        default=24,
        ge=1,
        description="How long an Idempotency-Key is remembered; after that it may be used afresh.",
    )
    dashboard_secret: str = Field(
        default_factory=lambda: secrets.token_urlsafe(32),
        description="Key that signs the dashboard's session cookies; by default a new one at "
        "each start, which signs everybody out. Set it when several processes serve the app.",
    )
    dashboard_session_hours: int = Field(
        default=12, ge=1, description="How long a dashboard sign-in lasts."
    )
    api_key_cache_seconds: float = Field(
        default=5,
        ge=0,
        description="How long a process trusts an API key it found active without asking the "
        "database again; a key revoked in another process works there until then. 0: no cache.",
    )
    invoice_prefix: str = Field(default="MB", description="Number prefix of shortfall invoices.")
    credit_note_prefix: str = Field(default="AV", description="Number prefix of credit notes.")

    def local_tasks(self) -> bool:
        """True when background tasks run in the server process (see `task_queue`)."""
        if self.task_queue == "auto":
            return not self.database_url.startswith("postgresql")
        return self.task_queue == "local"


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings; tests build their own `Settings` instead."""
    return Settings()


async def app_settings(request: Request) -> Settings:
    """The settings the running app was built with (tests build apps with their own); async,
    since a sync dependency costs a thread hop."""
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(app_settings)]
