"""Seller and buyer identities for an e-invoice, and what is missing from them.

An e-invoice that lacks a SIREN, an address or an IBAN is rejected by the plateforme agréée
after it was numbered; refusing to issue it (409, naming every missing item) keeps the gapless
sequence free of invoices that can never be delivered. A draft preview renders what there is.
"""

from dataclasses import dataclass

from app.billing.einvoice.document import Address, Party, valid_number
from app.contracts.service import Client
from app.core.errors import FieldError
from app.core.settings import Settings

_SELLER_REQUIRED = (
    "seller_name",
    "seller_legal_form",
    "seller_share_capital",
    "seller_siren",
    "seller_rcs",
    "seller_vat_number",
    "seller_address_line1",
    "seller_postcode",
    "seller_city",
    "seller_country",
    "seller_iban",
    "seller_bic",
)


@dataclass(frozen=True)
class Parties:
    seller: Party
    buyer: Party
    missing: tuple[FieldError, ...]


def _missing_setting(name: str) -> FieldError:
    return FieldError("settings", f"PLANCHER_{name.upper()}", "missing: required on an e-invoice")


def seller_party(settings: Settings) -> Party:
    siren = settings.seller_siren
    return Party(
        name=settings.seller_name,
        siren=siren,
        vat_number=settings.seller_vat_number or None,
        address=Address(
            settings.seller_address_line1,
            settings.seller_address_line2 or None,
            settings.seller_postcode,
            settings.seller_city,
            settings.seller_country,
        ),
        electronic_address=settings.seller_electronic_address or siren,
        legal_information=(
            f"{settings.seller_legal_form} au capital de {settings.seller_share_capital}"
            f" - {settings.seller_rcs} {' '.join([siren[:3], siren[3:6], siren[6:]])}"
        ),
    )


def buyer_party(client: Client) -> Party:
    return Party(
        name=client.name,
        siren=client.siren or "",
        vat_number=client.vat_number,
        address=Address(
            client.address_line1 or "",
            client.address_line2,
            client.address_postcode or "",
            client.address_city or "",
            client.address_country or "",
        ),
        electronic_address=client.effective_electronic_address or "",
    )


def _buyer_missing(client: Client) -> list[FieldError]:
    where = f"client {client.id}"
    missing = []
    if not client.siren:
        missing.append(FieldError(where, "siren", "missing: the buyer's SIREN (BT-47)"))
    if client.address_line1 is None:
        missing.append(FieldError(where, "address", "missing: the buyer's address (BG-8)"))
    return missing


def parties(settings: Settings, client: Client) -> Parties:
    missing = [_missing_setting(name) for name in _SELLER_REQUIRED if not getattr(settings, name)]
    for name in ("invoice_prefix", "credit_note_prefix"):
        # The shape of every number the gapless sequence gives: PREFIX-YYYY-NNNNNN.
        if not valid_number(f"{getattr(settings, name)}-0000-000000"):
            missing.append(
                FieldError(
                    "settings",
                    f"PLANCHER_{name.upper()}",
                    "invalid: invoice numbers allow at most 35 letters, digits and -+_/",
                )
            )
    return Parties(
        seller_party(settings), buyer_party(client), tuple(missing + _buyer_missing(client))
    )
