"""Service configuration, read once from `PLANCHER_*` environment variables."""

from functools import lru_cache

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


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings; tests build their own `Settings` instead."""
    return Settings()
