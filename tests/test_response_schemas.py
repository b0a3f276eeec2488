"""Response schemas built from attributes (`from_attributes`) instead of hand mappers.

A hand mapper lists every field twice (schema and mapper) and lets them drift. A schema built
from attributes reads its fields from the object it shows, so each must be an attribute of that
source: this test names the source of every such schema and fails on a field the source does
not have (which would otherwise surface as a 500 on the first response), and on a schema built
from attributes whose source nobody named.
"""

import dataclasses
import importlib
import inspect
import pkgutil

import pytest
from pydantic import BaseModel
from sqlalchemy import inspect as orm_inspect

import app
from app.billing import schemas as billing
from app.billing.shortfall import Shortfall, ShortfallLine
from app.billing.tables import Invoice
from app.commitments import schemas as commitments
from app.commitments.tables import Adjustment
from app.contracts import schemas as contracts
from app.contracts.tables import Activity, ActivityPrice, Client, Contract, ContractAmendment
from app.contracts.terms import Terms
from app.forecasts import schemas as forecasts
from app.forecasts.tables import ForecastJob, ForecastRun, SpecialDay
from app.outlook import schemas as outlook
from app.outlook.overview import PooledPosition

SOURCES: dict[type[BaseModel], type] = {
    billing.ShortfallOut: Shortfall,
    billing.ShortfallLineOut: ShortfallLine,
    commitments.AdjustmentOut: Adjustment,
    contracts.ActivityOut: Activity,
    contracts.AmendmentOut: ContractAmendment,
    contracts.ClientOut: Client,
    contracts.ContractOut: Contract,
    contracts.PriceOut: ActivityPrice,
    contracts.TermsOut: Terms,
    forecasts.ForecastJobOut: ForecastJob,
    forecasts.ForecastSummaryOut: ForecastRun,
    forecasts.SpecialDayOut: SpecialDay,
    outlook.OverviewInvoiceOut: Invoice,
    outlook.OverviewPooledOut: PooledPosition,
}
"""Each response schema built from attributes, and the type of the object it is built from."""
FROM_MAPPINGS = {contracts.ContractDetailOut, contracts.PriceResultOut}
"""Inherit `from_attributes` but are built from a mapping (a contract with its terms, a price
row with the invoices a back-dated one touches)."""


def _attributes(source: type) -> set[str]:
    """What an instance of `source` has: a dataclass's fields and properties, or an ORM
    class's mapped columns and relationships and its properties."""
    if dataclasses.is_dataclass(source):
        names = {field.name for field in dataclasses.fields(source)}
    else:
        names = set(orm_inspect(source).attrs.keys())
    return names | {
        name for name, _ in inspect.getmembers(source, lambda m: isinstance(m, property))
    }


def _from_attributes_schemas() -> set[type[BaseModel]]:
    found: set[type[BaseModel]] = set()
    for module in pkgutil.walk_packages(app.__path__, "app."):
        if not module.name.endswith(".schemas"):
            continue
        for _, value in inspect.getmembers(importlib.import_module(module.name), inspect.isclass):
            if (
                issubclass(value, BaseModel)
                and value.__module__ == module.name
                and value.model_config.get("from_attributes")
                and value.model_fields  # a base class that only sets the config
            ):
                found.add(value)
    return found


def test_every_schema_built_from_attributes_names_its_source() -> None:
    unnamed = {
        schema.__qualname__ for schema in _from_attributes_schemas() - set(SOURCES) - FROM_MAPPINGS
    }
    assert not unnamed, f"name the source of {sorted(unnamed)} in SOURCES"


@pytest.mark.parametrize("schema", SOURCES, ids=lambda schema: schema.__qualname__)
def test_a_schema_built_from_attributes_reads_only_attributes_of_its_source(
    schema: type[BaseModel],
) -> None:
    assert schema.model_config.get("from_attributes")
    missing = set(schema.model_fields) - _attributes(SOURCES[schema])
    assert not missing, f"{schema.__qualname__}: {SOURCES[schema].__name__} has no {missing}"
