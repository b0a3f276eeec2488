"""Every ORM table of the service, imported in one place so the metadata is complete for
Alembic and for the test that compares the ORM with the migrations."""

from app.billing import tables as billing_tables
from app.billing.einvoice import tables as einvoice_tables
from app.billing.runs import tables as invoice_runs_tables
from app.commitments import tables as commitments_tables
from app.contracts import tables as contracts_tables
from app.core import tables as core_tables
from app.core.orm import Base
from app.forecasts import tables as forecasts_tables
from app.volumes import tables as volumes_tables

metadata = Base.metadata

__all__ = [
    "billing_tables",
    "commitments_tables",
    "contracts_tables",
    "core_tables",
    "einvoice_tables",
    "forecasts_tables",
    "invoice_runs_tables",
    "metadata",
    "volumes_tables",
]
