"""The snapshot of an invoice at issue: its figures, the parties and the legal notes.

Reads the stored invoice (lines and computation as frozen when it was generated), never the
live shortfall: the documents must say exactly what the JSON invoice says.
"""

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from app.billing.einvoice.document import (
    UNIT_CODES,
    ChargeBasis,
    Document,
    Line,
    Note,
    Payment,
    quantity,
)
from app.billing.einvoice.parties import Parties
from app.billing.tables import Invoice
from app.core.periods import Period
from app.core.settings import Settings

RECOVERY_INDEMNITY = (
    "En cas de retard de paiement, indemnité forfaitaire pour frais de recouvrement de 40 EUR"
    " (Code de commerce, articles L441-10 et D441-5)."
)
NO_DISCOUNT = "Pas d'escompte pour paiement anticipé."
UNIT_LABELS = {"contact": "contacts", "hour": "heures"}


def _received(line: dict[str, Any]) -> str:
    commitment = line.get("binding_commitment_id")
    if not commitment:
        return "aucune prévision engageante"
    received = datetime.fromisoformat(line["binding_received_at"])
    return f"{commitment} reçue le {received:%d/%m/%Y %H:%M} UTC"


def _activity_line(number: int, line: dict[str, Any]) -> Line:
    return Line(
        number=number,
        name=f"Minimum de facturation - {line['activity_name']}",
        quantity=quantity(Decimal(line["shortfall_units"])),
        unit_code=UNIT_CODES[line["billing_unit"]],
        unit_price=Decimal(line["unit_price"]),
        net_amount=abs(Decimal(line["amount"])),
        basis=ChargeBasis(
            unit_label=UNIT_LABELS[line["billing_unit"]],
            committed=line["committed"],
            adjustments=line["adjustments"],
            actual=line["actual"],
            trigger=line["trigger"],
            floor=line["floor"],
            commitment=_received(line),
        ),
    )


def _pooled_line(line: dict[str, Any], computation: dict[str, Any]) -> Line:
    """Pooled evaluation bills one amount for the contract: quantity 1, priced at the amount;
    the figures are values (sum of quantities × prices) after adjustments."""
    amount = abs(Decimal(line["amount"]))
    versions = "; ".join(
        f"{activity['activity_name']} : {_received(activity)}"
        for activity in computation.get("lines", [])
    )
    return Line(
        number=1,
        name="Minimum de facturation - évaluation globale du contrat",
        quantity=Decimal(1),
        unit_code=UNIT_CODES["contact"],
        unit_price=amount,
        net_amount=amount,
        basis=ChargeBasis(
            unit_label="EUR (valeur)",
            committed=line["committed_value"],
            adjustments=None,
            actual=line["actual_value"],
            trigger=line["trigger_value"],
            floor=line["floor_value"],
            commitment=versions,
        ),
    )


def lines_of(invoice: Invoice) -> tuple[Line, ...]:
    if invoice.evaluation == "pooled":
        return tuple(_pooled_line(line, invoice.computation) for line in invoice.lines)
    return tuple(_activity_line(n, line) for n, line in enumerate(invoice.lines, start=1))


def notes(settings: Settings) -> tuple[Note, ...]:
    """The notes BR-FR-05 requires (PMT, PMD, AAB), and `BAR` `B2B`, which makes the buyer
    SIREN mandatory (BR-FR-11)."""
    return (
        Note("PMT", RECOVERY_INDEMNITY),
        Note(
            "PMD",
            f"Pénalités de retard : {settings.late_payment_rate}, exigibles dès le lendemain"
            " de la date d'échéance.",
        ),
        Note("AAB", NO_DISCOUNT),
        Note("BAR", "B2B"),
    )


def snapshot(
    invoice: Invoice,
    contract_reference: str,
    parties: Parties,
    settings: Settings,
    credited: Invoice | None,
    payment_terms_days: int,
) -> Document:
    """The document of an issued invoice (a draft's preview uses placeholders for what it
    does not have yet: number, issue date)."""
    period = Period.parse(invoice.period)
    credit = invoice.kind == "credit_note"
    terms = (
        "Avoir : remboursement par virement ou imputation sur la prochaine facture."
        if credit
        else f"Paiement par virement à {payment_terms_days} jours date de facture."
    )
    return Document(
        kind="credit_note" if credit else "invoice",
        number=invoice.number or "",
        issue_date=invoice.issue_date or date.today(),
        due_date=invoice.due_date,
        currency=invoice.currency,
        period_start=period.first_day,
        period_end=period.next().first_day - timedelta(days=1),
        contract_reference=contract_reference,
        seller=parties.seller,
        buyer=parties.buyer,
        payment=Payment(settings.seller_iban, settings.seller_bic, terms),
        vat_on_debits=settings.seller_vat_on_debits,
        vat_rate=invoice.vat_rate,
        net_amount=abs(invoice.net_amount),
        vat_amount=abs(invoice.vat_amount),
        total_amount=abs(invoice.total_amount),
        lines=lines_of(invoice),
        notes=notes(settings),
        credited_number=credited.number if credited is not None else None,
        credited_date=credited.issue_date if credited is not None else None,
    )
