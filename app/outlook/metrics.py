"""Business metrics for Prometheus, read from the database at each scrape.

Per contract (never per activity or interval, so the series stay as many as the contracts):
the expected shortfall and the probability below trigger of its current period, from stored
forecasts as in the overview. Then the invoices by status and the time of the newest stored
forecast. The counters of work done (forecast and job durations and failures, ingested rows)
are kept by the domains that do the work, in the default registry.
"""

import logging
from collections import defaultdict
from collections.abc import Iterator
from datetime import timedelta
from zoneinfo import ZoneInfo

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from app.billing.reporting import service as invoices
from app.contracts import service as contracts
from app.core.db import Database
from app.core.orm import utc_now
from app.core.periods import Period, period_of
from app.forecasts import service as forecasts
from app.outlook import overview


def business_metrics(database: Database) -> bytes:
    """The business metrics in the text exposition format, read in one short transaction;
    with the database out of reach, only `plancher_business_metrics_up 0`, so that the
    process's own metrics are still scraped (and the outage is visible)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_BusinessCollector(database))
    try:
        return generate_latest(registry) + _up(1)
    except SQLAlchemyError as error:
        logging.getLogger("plancher").warning("business metrics unavailable: %s", error)
        return _up(0)


def _up(value: int) -> bytes:
    return (
        "# HELP plancher_business_metrics_up Whether the business metrics could be read.\n"
        "# TYPE plancher_business_metrics_up gauge\n"
        f"plancher_business_metrics_up {value}\n"
    ).encode()


class _BusinessCollector(Collector):
    def __init__(self, database: Database) -> None:
        self.database = database

    def describe(self) -> list[Metric]:
        """Nothing to describe up front: describing would read the database at registration."""
        return []

    def collect(self) -> Iterator[Metric]:
        with self.database.session(write=False) as session:
            yield from _contract_metrics(session)
            yield _invoice_metric(session)
            newest = forecasts.last_forecast_at(session)
            refreshed = GaugeMetricFamily(
                "plancher_last_forecast_timestamp_seconds",
                "When the newest forecast was stored (Unix time).",
            )
            if newest is not None:
                refreshed.add_metric([], newest.timestamp())
            yield refreshed


def _contract_metrics(session: Session) -> Iterator[Metric]:
    now = utc_now()
    today = now.date()
    by_period: dict[Period, list[contracts.Contract]] = defaultdict(list)
    for contract in contracts.contracts_in_force(session, today, today + timedelta(days=1)):
        by_period[period_of(now, ZoneInfo(contract.timezone))].append(contract)
    shortfall = GaugeMetricFamily(
        "plancher_contract_expected_shortfall_amount",
        "Expected shortfall amount of the contract's current period, in its currency.",
        labels=["contract_id", "reference", "currency"],
    )
    probability = GaugeMetricFamily(
        "plancher_contract_probability_below_trigger",
        "Probability that the contract's current period ends below its trigger.",
        labels=["contract_id", "reference"],
    )
    for period, contract_list in by_period.items():
        for position in overview.positions(session, contract_list, period, now):
            contract = position.contract
            if position.expected_shortfall_amount is not None:
                shortfall.add_metric(
                    [contract.id, contract.reference, contract.currency],
                    float(position.expected_shortfall_amount),
                )
            if position.probability_below_trigger is not None:
                probability.add_metric(
                    [contract.id, contract.reference], position.probability_below_trigger
                )
    yield shortfall
    yield probability


def _invoice_metric(session: Session) -> Metric:
    counts = GaugeMetricFamily(
        "plancher_invoices", "Invoices and credit notes by status.", labels=["status", "kind"]
    )
    for (status, kind), count in sorted(invoices.status_counts(session).items()):
        counts.add_metric([status, kind], count)
    return counts
