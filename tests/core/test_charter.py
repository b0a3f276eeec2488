"""The charter's quantity rules: C, the committed quantity, and A, the actual quantity, in the
activity's billing unit."""

from decimal import Decimal

import pytest

from app.core.charter import BillingUnit, VolumeBasis, actual_quantity, committed_quantity


def d(text: str) -> Decimal:
    return Decimal(text)


def test_contact_commitment_is_the_volume() -> None:
    assert committed_quantity(BillingUnit.CONTACT, d("100000"), d("300"), None) == d("100000")


def test_hour_commitment_uses_the_line_aht_before_the_reference_aht() -> None:
    assert committed_quantity(BillingUnit.HOUR, d("3600"), d("300"), d("600")) == d("300")


def test_hour_commitment_falls_back_to_the_reference_aht() -> None:
    assert committed_quantity(BillingUnit.HOUR, d("3600"), None, d("600")) == d("600")


def test_hour_commitment_without_any_aht_is_refused() -> None:
    with pytest.raises(ValueError, match="aht_seconds"):
        committed_quantity(BillingUnit.HOUR, d("3600"), None, None)


def test_contact_commitment_needs_no_aht() -> None:
    assert committed_quantity(BillingUnit.CONTACT, d("5"), None, None) == d("5")


def test_contact_actual_counts_offered_contacts_on_offered_basis() -> None:
    assert actual_quantity(BillingUnit.CONTACT, VolumeBasis.OFFERED, 120, 100, d("0")) == 120


def test_contact_actual_counts_handled_contacts_on_handled_basis() -> None:
    assert actual_quantity(BillingUnit.CONTACT, VolumeBasis.HANDLED, 120, 100, d("0")) == 100


def test_hour_actual_is_handled_seconds_in_hours_whatever_the_basis() -> None:
    assert actual_quantity(BillingUnit.HOUR, VolumeBasis.OFFERED, 120, 100, d("5400")) == d("1.5")
    assert actual_quantity(BillingUnit.HOUR, VolumeBasis.HANDLED, 120, 100, d("5400")) == d("1.5")
