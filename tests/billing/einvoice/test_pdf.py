"""The readable invoice: French figures, the mentions each case needs, and the credit note's
reference to the invoice it credits."""

import io
from decimal import Decimal

import pytest
from pypdf import PdfReader

from app.billing.einvoice import cii, pdf

from einvoice_samples import CREDIT_NOTE, PER_ACTIVITY, POOLED


def _text(document) -> str:
    reader = PdfReader(io.BytesIO(pdf.factur_x(document, cii.build(document))))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


@pytest.mark.parametrize(
    ("value", "places", "shown"),
    [
        ("1234567.5", 2, "1\u202f234\u202f567,50"),
        ("208.333333333", None, "208,3333"),
        ("5000", None, "5\u202f000"),
        ("-7200", 2, "-7\u202f200,00"),
    ],
)
def test_figures_are_written_the_french_way(value: str, places: int | None, shown: str) -> None:
    assert pdf.french_number(Decimal(value), places) == shown


def test_unit_prices_keep_every_decimal_they_have() -> None:
    assert pdf.french_price(Decimal("0.123456")) == "0,123456\u202f€"
    assert pdf.french_price(Decimal("1.2")) == "1,20\u202f€"


def test_vat_on_debits_is_stated_only_when_opted_for() -> None:
    assert "paiement de la taxe d'après les débits" in _text(PER_ACTIVITY)
    assert "d'après les débits" not in _text(POOLED)


def test_pooled_invoice_says_adjustments_are_inside_the_values() -> None:
    text = _text(POOLED)
    assert "évaluation globale" in text and "incluses" in text


def test_credit_note_names_the_invoice_it_credits() -> None:
    text = _text(CREDIT_NOTE)
    assert "AVOIR" in text and "Avoir sur la facture N° MB-2026-000042 du 03/11/2026" in text
