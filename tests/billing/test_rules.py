import math
from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from app.billing.rules import (
    ActivityFigures,
    BandStatus,
    ContractTerms,
    ShortfallReason,
    band_limits,
    evaluate_activity,
    evaluate_pooled,
    invoice_totals,
    price_in_force,
    round_half_up,
)
from app.core.charter import (
    BillingUnit,
    Evaluation,
    VolumeBasis,
    actual_quantity,
    committed_quantity,
)

DEFAULTS = ContractTerms()
NOTHING = Decimal(0)
PRICE = Decimal("1.20")


def d(text: str) -> Decimal:
    return Decimal(text)


def hours(volume: int, aht_seconds: int) -> Decimal:
    return committed_quantity(BillingUnit.HOUR, Decimal(volume), Decimal(aht_seconds), None)


def worked_hours(handled_seconds: int) -> Decimal:
    return actual_quantity(BillingUnit.HOUR, VolumeBasis.OFFERED, 0, 0, Decimal(handled_seconds))


# Worked examples of charter-axis-1.md


def test_example_1_bills_the_5000_units_below_the_trigger_for_6000_00() -> None:
    result = evaluate_activity(DEFAULTS, d("100000"), NOTHING, d("85000"), PRICE)
    assert result.trigger == d("90000")
    assert result.shortfall_units == d("5000")
    assert result.amount == d("6000.00")
    assert result.status is BandStatus.UNDER_BAND


def test_example_1_invoice_has_vat_1200_00_and_total_7200_00() -> None:
    totals = invoice_totals([d("6000.00")], DEFAULTS.vat_rate)
    assert (totals.net, totals.vat, totals.total) == (d("6000.00"), d("1200.00"), d("7200.00"))


def test_example_2_actual_within_the_band_bills_nothing() -> None:
    result = evaluate_activity(DEFAULTS, d("100000"), NOTHING, d("92000"), PRICE)
    assert result.shortfall_units == 0
    assert result.amount == d("0.00")
    assert result.status is BandStatus.WITHIN_BAND


def test_example_3_floor_above_trigger_bills_up_to_the_floor() -> None:
    terms = ContractTerms(trigger_ratio=d("0.90"), floor_ratio=d("0.95"))
    result = evaluate_activity(terms, d("100000"), NOTHING, d("85000"), PRICE)
    assert result.shortfall_units == d("10000")
    assert result.amount == d("12000.00")


def test_example_3_actual_above_the_trigger_bills_nothing_even_below_the_floor() -> None:
    terms = ContractTerms(trigger_ratio=d("0.90"), floor_ratio=d("0.95"))
    result = evaluate_activity(terms, d("100000"), NOTHING, d("91000"), PRICE)
    assert result.amount == d("0.00")
    assert result.status is BandStatus.WITHIN_BAND


def test_example_4_hour_billing_bills_5937_50() -> None:
    committed = committed_quantity(BillingUnit.HOUR, d("20000"), d("300"), None)
    actual = actual_quantity(BillingUnit.HOUR, VolumeBasis.OFFERED, 16000, 15000, 15000 * d("310"))
    result = evaluate_activity(DEFAULTS, committed, NOTHING, actual, d("28.50"))
    assert result.trigger == d("1500")
    assert str(result.committed).startswith("1666.666666")
    assert str(result.actual).startswith("1291.666666")
    assert str(result.shortfall_units).startswith("208.333333")
    assert result.amount == d("5937.50")


def test_example_6_over_forecast_is_flagged_over_band_without_amount() -> None:
    result = evaluate_activity(DEFAULTS, d("100000"), NOTHING, d("112000"), PRICE)
    assert result.status is BandStatus.OVER_BAND
    assert result.amount == d("0.00")


EXAMPLE_7 = [
    ActivityFigures(
        committed=d("50000"), adjustments=NOTHING, actual=d("40000"), unit_price=d("1.20")
    ),
    ActivityFigures(
        committed=d("10000"), adjustments=NOTHING, actual=d("12000"), unit_price=d("2.00")
    ),
]


def test_example_7_pooled_surplus_on_email_offsets_the_voice_shortfall() -> None:
    result = evaluate_pooled(ContractTerms(evaluation=Evaluation.POOLED), EXAMPLE_7)
    assert result.committed_value == d("80000.00")
    assert result.actual_value == d("72000.00")
    assert result.trigger_value == d("72000.00")
    assert result.amount == d("0.00")
    assert result.status is BandStatus.WITHIN_BAND


def test_example_7_per_activity_evaluation_would_bill_voice_6000_00() -> None:
    result = evaluate_pooled(ContractTerms(evaluation=Evaluation.POOLED), EXAMPLE_7)
    assert [line.amount for line in result.activities] == [d("6000.00"), d("0.00")]


def test_example_8_adjustment_reduces_the_commitment_before_the_trigger() -> None:
    result = evaluate_activity(DEFAULTS, d("100000"), d("20000"), d("70000"), PRICE)
    assert result.committed_effective == d("80000")
    assert result.trigger == d("72000")
    assert result.shortfall_units == d("2000")
    assert result.amount == d("2400.00")


# Shortfall edge cases


def test_actual_exactly_at_the_trigger_is_not_a_shortfall() -> None:
    result = evaluate_activity(DEFAULTS, d("100000"), NOTHING, d("90000"), PRICE)
    assert result.amount == d("0.00")
    assert result.status is BandStatus.WITHIN_BAND


def test_actual_exactly_at_the_upper_tolerance_is_within_the_band() -> None:
    result = evaluate_activity(DEFAULTS, d("100000"), NOTHING, d("110000"), PRICE)
    assert result.status is BandStatus.WITHIN_BAND


def test_actual_just_above_the_upper_tolerance_is_over_the_band() -> None:
    result = evaluate_activity(DEFAULTS, d("100000"), NOTHING, d("110000.001"), PRICE)
    assert result.status is BandStatus.OVER_BAND


def test_adjustment_larger_than_the_commitment_gives_a_zero_effective_commitment() -> None:
    result = evaluate_activity(DEFAULTS, d("100000"), d("120000"), d("0"), PRICE)
    assert result.committed_effective == 0
    assert result.amount == d("0.00")


def test_zero_effective_commitment_with_actual_activity_is_over_the_band() -> None:
    result = evaluate_activity(DEFAULTS, d("100000"), d("100000"), d("5"), PRICE)
    assert result.status is BandStatus.OVER_BAND
    assert result.amount == d("0.00")
    assert result.reason is None


def test_zero_effective_commitment_without_activity_is_within_the_band() -> None:
    result = evaluate_activity(DEFAULTS, d("0"), NOTHING, d("0"), PRICE)
    assert result.status is BandStatus.WITHIN_BAND
    assert result.amount == d("0.00")


def test_floor_below_trigger_bills_only_the_gap_to_the_floor() -> None:
    terms = ContractTerms(trigger_ratio=d("0.90"), floor_ratio=d("0.80"))
    result = evaluate_activity(terms, d("100000"), NOTHING, d("75000"), PRICE)
    assert result.shortfall_units == d("5000")


def test_floor_below_trigger_leaves_actuals_between_them_under_band_but_unbilled() -> None:
    terms = ContractTerms(trigger_ratio=d("0.90"), floor_ratio=d("0.80"))
    result = evaluate_activity(terms, d("100000"), NOTHING, d("85000"), PRICE)
    assert result.status is BandStatus.UNDER_BAND
    assert result.shortfall_units == 0
    assert result.amount == d("0.00")


def test_no_binding_commitment_gives_zero_with_reason() -> None:
    result = evaluate_activity(DEFAULTS, None, NOTHING, d("85000"), PRICE)
    assert result.reason is ShortfallReason.NO_BINDING_COMMITMENT
    assert result.committed is None
    assert (result.committed_effective, result.trigger, result.shortfall_units) == (NOTHING,) * 3
    assert result.amount == d("0.00")


def test_no_price_in_force_reports_units_but_no_amount() -> None:
    result = evaluate_activity(DEFAULTS, d("100000"), NOTHING, d("85000"), None)
    assert result.reason is ShortfallReason.NO_PRICE_IN_FORCE
    assert result.shortfall_units == d("5000")
    assert result.amount == d("0.00")


def test_negative_actual_is_refused() -> None:
    with pytest.raises(ValueError, match="actual must be >= 0"):
        evaluate_activity(DEFAULTS, d("100"), NOTHING, d("-1"), PRICE)


@pytest.mark.parametrize("ratio", ["0", "1.01", "-0.5"])
def test_ratios_outside_zero_to_one_are_refused(ratio: str) -> None:
    with pytest.raises(ValueError, match=r"trigger_ratio must be in \(0, 1\]"):
        ContractTerms(trigger_ratio=d(ratio))


def test_units_are_reported_unrounded() -> None:
    result = evaluate_activity(DEFAULTS, d("100000"), NOTHING, d("89999.997"), PRICE)
    assert result.shortfall_units == d("0.003")
    assert result.amount == d("0.00")


# Exactness with hour quantities that do not terminate


def test_half_cent_reached_through_repeating_hours_rounds_up() -> None:
    # 12 s short of a 900 h floor at 28.50 EUR/h is exactly 0.095 EUR.
    result = evaluate_activity(
        DEFAULTS, hours(12000, 300), NOTHING, worked_hours(900 * 3600 - 12), d("28.50")
    )
    assert result.amount == d("0.10")


def test_actual_equal_to_a_trigger_reached_through_repeating_hours_is_not_a_shortfall() -> None:
    # C = 12 000 x 302 s = 1 006.666... h; trigger = 906 h exactly.
    terms = ContractTerms(trigger_ratio=d("0.90"), floor_ratio=d("0.95"))
    result = evaluate_activity(
        terms, hours(12000, 302), NOTHING, worked_hours(906 * 3600), d("28.50")
    )
    assert result.trigger == d("906")
    assert result.status is BandStatus.WITHIN_BAND
    assert result.amount == d("0.00")


def _exact_hour_amount(volume: int, aht: int, handled_seconds: int, price: Decimal) -> Decimal:
    """The amount under default terms in exact rational arithmetic, as an auditor would get it."""
    committed = Fraction(volume * aht, 3600)
    actual = Fraction(handled_seconds, 3600)
    trigger = floor = committed * Fraction(9, 10)
    if actual >= trigger:
        return Decimal("0.00")
    cents = (floor - actual) * Fraction(price) * 100
    return Decimal(math.floor(cents + Fraction(1, 2))) / 100


@given(
    volume=st.integers(min_value=0, max_value=200_000),
    aht=st.integers(min_value=1, max_value=1800),
    handled_seconds=st.integers(min_value=0, max_value=400_000_000),
    price=st.decimals(min_value=0, max_value=200, places=2),
)
@example(volume=12000, aht=300, handled_seconds=900 * 3600 - 12, price=d("28.50"))
@example(volume=12000, aht=302, handled_seconds=906 * 3600, price=d("28.50"))
def test_hour_amount_equals_exact_rational_arithmetic(
    volume: int, aht: int, handled_seconds: int, price: Decimal
) -> None:
    result = evaluate_activity(
        DEFAULTS, hours(volume, aht), NOTHING, worked_hours(handled_seconds), price
    )
    assert result.amount == _exact_hour_amount(volume, aht, handled_seconds, price)


# Properties

quantities = st.decimals(min_value=0, max_value=10_000_000, places=3)
prices = st.decimals(min_value=0, max_value=1000, places=4)
ratios = st.decimals(min_value=d("0.01"), max_value=1, places=2)
tolerances = st.decimals(min_value=0, max_value=1, places=2)


@st.composite
def contract_terms(draw: st.DrawFn) -> ContractTerms:
    return ContractTerms(
        trigger_ratio=draw(ratios), floor_ratio=draw(ratios), upper_tolerance=draw(tolerances)
    )


@given(
    terms=contract_terms(),
    committed=quantities,
    adjustments=quantities,
    actual=quantities,
    price=prices,
)
def test_shortfall_is_never_negative(
    terms: ContractTerms, committed: Decimal, adjustments: Decimal, actual: Decimal, price: Decimal
) -> None:
    result = evaluate_activity(terms, committed, adjustments, actual, price)
    assert result.shortfall_units >= 0
    assert result.amount >= 0


@given(
    terms=contract_terms(),
    committed=quantities,
    adjustments=quantities,
    actual=quantities,
)
def test_band_limits_are_the_trigger_and_floor_the_rule_reports(
    terms: ContractTerms, committed: Decimal, adjustments: Decimal, actual: Decimal
) -> None:
    result = evaluate_activity(terms, committed, adjustments, actual, PRICE)
    assert band_limits(terms, committed, adjustments) == (result.trigger, result.floor)


@given(
    terms=contract_terms(),
    committed=quantities,
    adjustments=quantities,
    above=quantities,
    price=prices,
)
def test_shortfall_is_zero_whenever_actual_reaches_the_trigger(
    terms: ContractTerms, committed: Decimal, adjustments: Decimal, above: Decimal, price: Decimal
) -> None:
    trigger = max(NOTHING, committed - adjustments) * terms.trigger_ratio
    result = evaluate_activity(terms, committed, adjustments, trigger + above, price)
    assert result.shortfall_units == 0
    assert result.amount == 0


@given(
    terms=contract_terms(),
    committed=quantities,
    adjustments=quantities,
    actual=quantities,
    increase=quantities,
    price=prices,
)
def test_shortfall_never_increases_when_actual_increases(
    terms: ContractTerms,
    committed: Decimal,
    adjustments: Decimal,
    actual: Decimal,
    increase: Decimal,
    price: Decimal,
) -> None:
    lower = evaluate_activity(terms, committed, adjustments, actual, price)
    higher = evaluate_activity(terms, committed, adjustments, actual + increase, price)
    assert higher.shortfall_units <= lower.shortfall_units
    assert higher.amount <= lower.amount


@given(
    terms=contract_terms(),
    committed=quantities,
    adjustments=quantities,
    actual=quantities,
    price=prices,
)
def test_pooled_amount_equals_per_activity_amount_for_a_single_activity(
    terms: ContractTerms, committed: Decimal, adjustments: Decimal, actual: Decimal, price: Decimal
) -> None:
    per_activity = evaluate_activity(terms, committed, adjustments, actual, price)
    pooled = evaluate_pooled(terms, [ActivityFigures(committed, adjustments, actual, price)])
    assert pooled.amount == per_activity.amount


# Pooled evaluation


def test_pooled_activity_without_binding_commitment_contributes_neither_side() -> None:
    voice = ActivityFigures(
        committed=d("50000"), adjustments=NOTHING, actual=d("40000"), unit_price=PRICE
    )
    uncommitted_chat = ActivityFigures(
        committed=None, adjustments=NOTHING, actual=d("90000"), unit_price=PRICE
    )
    result = evaluate_pooled(DEFAULTS, [voice, uncommitted_chat])
    assert result.actual_value == d("48000")
    assert result.amount == d("6000.00")


def test_pooled_without_any_binding_commitment_gives_zero_with_reason() -> None:
    chat = ActivityFigures(committed=None, adjustments=NOTHING, actual=d("90000"), unit_price=PRICE)
    result = evaluate_pooled(DEFAULTS, [chat])
    assert result.reason is ShortfallReason.NO_BINDING_COMMITMENT
    assert result.amount == d("0.00")


def test_pooled_with_a_committed_activity_without_price_cannot_be_valued() -> None:
    voice = ActivityFigures(
        committed=d("50000"), adjustments=NOTHING, actual=d("40000"), unit_price=PRICE
    )
    unpriced = ActivityFigures(
        committed=d("10000"), adjustments=NOTHING, actual=d("0"), unit_price=None
    )
    result = evaluate_pooled(DEFAULTS, [voice, unpriced])
    assert result.reason is ShortfallReason.NO_PRICE_IN_FORCE
    assert result.amount == d("0.00")


def test_pooled_uses_effective_commitments() -> None:
    voice = ActivityFigures(
        committed=d("100000"), adjustments=d("20000"), actual=d("70000"), unit_price=PRICE
    )
    assert evaluate_pooled(DEFAULTS, [voice]).committed_value == d("96000")


def test_pooled_far_above_the_committed_value_is_over_the_band() -> None:
    voice = ActivityFigures(
        committed=d("1000"), adjustments=NOTHING, actual=d("2000"), unit_price=PRICE
    )
    assert evaluate_pooled(DEFAULTS, [voice]).status is BandStatus.OVER_BAND


def test_pooled_keeps_the_per_activity_lines_in_input_order() -> None:
    result = evaluate_pooled(DEFAULTS, list(reversed(EXAMPLE_7)))
    assert [line.committed for line in result.activities] == [d("10000"), d("50000")]


# Prices


PRICES = [
    (date(2026, 1, 1), d("1.20")),
    (date(2026, 12, 1), d("1.25")),
    (date(2025, 1, 1), d("1.15")),
]


def test_price_in_force_is_the_latest_row_effective_on_or_before_the_day() -> None:
    assert price_in_force(PRICES, date(2026, 11, 1)) == d("1.20")


def test_price_effective_exactly_on_the_first_day_of_the_period_applies() -> None:
    assert price_in_force(PRICES, date(2026, 12, 1)) == d("1.25")


def test_price_effective_the_day_after_does_not_apply() -> None:
    assert price_in_force(PRICES, date(2026, 11, 30)) == d("1.20")


def test_no_price_row_effective_yet_gives_none() -> None:
    assert price_in_force(PRICES, date(2024, 12, 31)) is None


def test_two_prices_effective_the_same_day_are_refused() -> None:
    with pytest.raises(ValueError, match="two prices are effective from 2026-01-01"):
        price_in_force([*PRICES, (date(2026, 1, 1), d("1.30"))], date(2026, 6, 1))


# Rounding and invoices


@pytest.mark.parametrize(
    ("raw", "rounded"), [("2.675", "2.68"), ("0.125", "0.13"), ("0.124999", "0.12")]
)
def test_round_half_up_rounds_half_cents_up(raw: str, rounded: str) -> None:
    assert round_half_up(d(raw)) == d(rounded)


def test_vat_is_rounded_once_on_the_net_not_per_line() -> None:
    totals = invoice_totals([d("0.03"), d("0.03"), d("0.03")], d("0.20"))
    assert totals.vat == d("0.02")


def test_invoice_total_is_net_plus_vat() -> None:
    totals = invoice_totals([d("6000.00"), d("2400.00")], d("0.20"))
    assert totals.total == totals.net + totals.vat == d("10080.00")
