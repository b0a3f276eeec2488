"""A provider forecast in the terms of the charter: which contacts it must count to be set
beside a commitment and the actuals, and how many billing units those contacts are. The
outlook compares with it and billing projects an open month with it."""

from collections.abc import Sequence
from decimal import Decimal

import numpy as np

from app.contracts.service import ActivityFacts
from app.core import charter
from app.forecasts.samples import FloatArray
from app.forecasts.schemas import Volume

_SECONDS_PER_HOUR = Decimal(3600)


def forecast_volume(activity: ActivityFacts) -> Volume:
    """The contacts a provider forecast must count to be compared with the commitment and the
    actuals: handled ones when the contract bills handled contacts, or production hours (which
    only handled contacts consume); offered ones otherwise."""
    if (
        activity.billing_unit == charter.BillingUnit.HOUR
        or activity.volume_basis == charter.VolumeBasis.HANDLED
    ):
        return "handled"
    return "offered"


def forecast_units(
    activity: ActivityFacts, contacts: Decimal, aht_seconds: Decimal | None
) -> Decimal:
    """A forecast of contacts in the activity's billing unit: hours use the forecast AHT (or
    the reference AHT when the forecast has none)."""
    if activity.billing_unit == charter.BillingUnit.CONTACT:
        return contacts
    aht = aht_seconds or activity.reference_aht_seconds or Decimal(0)
    return contacts * aht / _SECONDS_PER_HOUR


def sample_units(
    activity: ActivityFacts, samples: Sequence[float] | FloatArray, aht_seconds: Decimal | None
) -> FloatArray:
    """`forecast_units` of the simulated totals, as floats, at once: they only feed
    probabilities, and a Decimal per sample would cost seconds over a portfolio."""
    totals = np.asarray(samples, dtype=np.float64)
    if activity.billing_unit == charter.BillingUnit.CONTACT:
        return totals
    aht = aht_seconds or activity.reference_aht_seconds or Decimal(0)
    return totals * float(aht / _SECONDS_PER_HOUR)
