"""Hand-made e-invoice snapshots for the pure builders' tests: the cases the acceptance names."""

from dataclasses import replace
from datetime import date
from decimal import Decimal

from app.billing.einvoice.document import (
    Address,
    ChargeBasis,
    Document,
    Line,
    Note,
    Party,
    Payment,
    money,
)

SELLER = Party(
    name="Plancher Demo Prestataire SAS",
    siren="900000001",
    vat_number="FR68900000001",
    address=Address("1 rue de la Paix", None, "75002", "Paris", "FR"),
    electronic_address="900000001",
    legal_information="SAS au capital de 100 000 EUR - RCS Paris 900 000 001",
)
BUYER = Party(
    name="Acme Énergie",
    siren="552081317",
    vat_number="FR03552081317",
    address=Address("12 avenue des Champs", "Bâtiment B", "69002", "Lyon", "FR"),
    electronic_address="552081317",
)
NOTES = (
    Note("PMT", "Indemnité forfaitaire pour frais de recouvrement : 40 EUR."),
    Note("PMD", "Pénalités de retard : taux BCE majoré de 10 points."),
    Note("AAB", "Pas d'escompte pour paiement anticipé."),
    Note("BAR", "B2B"),
)
BASIS = ChargeBasis("contacts", "100000", "0", "85000", "90000", "90000", "cmt_1 (2026-08-20)")


def _line(number: int, name: str, units: str, unit: str, price: str, amount: str) -> Line:
    return Line(number, name, Decimal(units), unit, Decimal(price), Decimal(amount), BASIS)


def _document(lines: tuple[Line, ...], **overrides: object) -> Document:
    net = sum((line.net_amount for line in lines), Decimal(0))
    vat = money(net * Decimal("0.20"))
    values: dict[str, object] = {
        "kind": "invoice",
        "number": "MB-2026-000042",
        "issue_date": date(2026, 11, 3),
        "due_date": date(2026, 12, 3),
        "currency": "EUR",
        "period_start": date(2026, 10, 1),
        "period_end": date(2026, 10, 31),
        "contract_reference": "CTR-ACME-2025",
        "seller": SELLER,
        "buyer": BUYER,
        "payment": Payment("FR7630006000011234567890189", "AGRIFRPP", "Virement à 30 jours."),
        "vat_on_debits": False,
        "vat_rate": Decimal("0.20"),
        "net_amount": net,
        "vat_amount": vat,
        "total_amount": net + vat,
        "lines": lines,
        "notes": NOTES,
    }
    return Document(**{**values, **overrides})  # type: ignore[arg-type]


PER_ACTIVITY = _document(
    (
        _line(1, "Minimum de facturation - Service client voix", "5000", "C62", "1.20", "6000.00"),
        _line(2, "Minimum de facturation - Back-office", "208.3333", "HUR", "28.50", "5937.50"),
        _line(3, "Minimum de facturation - E-mail", "1234", "C62", "0.37", "456.58"),
    ),
    vat_on_debits=True,
)
POOLED_BASIS = ChargeBasis(
    "EUR (valeur)", "80000.00", None, "70000.00", "72000.00", "72000.00", "voix : cmt_1"
)
POOLED = _document(
    (
        replace(
            _line(1, "Minimum de facturation - évaluation globale", "1", "C62", "2000", "2000.00"),
            basis=POOLED_BASIS,
        ),
    )
)
CREDIT_NOTE = replace(
    _document(PER_ACTIVITY.lines[:1], kind="credit_note", number="AV-2026-000007", due_date=None),
    credited_number="MB-2026-000042",
    credited_date=date(2026, 11, 3),
)
