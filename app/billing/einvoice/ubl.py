"""The invoice as UBL 2.1 (`Invoice` or `CreditNote`), EN 16931 core, for a plateforme agréée
that takes UBL. Element order follows the UBL 2.1 XSD sequences."""

from decimal import Decimal

from lxml import etree

from app.billing.einvoice.document import (
    ELECTRONIC_ADDRESS_SCHEME,
    SERVICES_PROCESS,
    SIREN_SCHEME,
    Document,
    Line,
    Party,
    decimal_text,
    money,
)
from app.billing.einvoice.xmltree import child

UBL_INVOICE = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
UBL_CREDIT_NOTE = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
EN16931_CUSTOMIZATION = "urn:cen.eu:en16931:2017"
SEPA_CREDIT_TRANSFER = "58"
VAT_ON_DEBITS_CODE = "3"  # BT-8 in UBL (UNTDID 2005: invoice document issue date)


def _el(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    return child(parent, {"cac": CAC, "cbc": CBC}, tag, text, **attrs)


def _amount(parent: etree._Element, tag: str, value: Decimal, currency: str) -> None:
    _el(parent, tag, str(money(value)), currencyID=currency)


def build(document: Document) -> bytes:
    credit = document.kind == "credit_note"
    root_name = "CreditNote" if credit else "Invoice"
    root = etree.Element(
        f"{{{UBL_CREDIT_NOTE if credit else UBL_INVOICE}}}{root_name}",
        nsmap={None: UBL_CREDIT_NOTE if credit else UBL_INVOICE, "cac": CAC, "cbc": CBC},
    )
    _el(root, "cbc:CustomizationID", EN16931_CUSTOMIZATION)
    _el(root, "cbc:ProfileID", SERVICES_PROCESS)
    _el(root, "cbc:ID", document.number)
    _el(root, "cbc:IssueDate", document.issue_date.isoformat())
    if not credit and document.due_date is not None:
        _el(root, "cbc:DueDate", document.due_date.isoformat())
    _el(root, "cbc:CreditNoteTypeCode" if credit else "cbc:InvoiceTypeCode", document.type_code)
    for note in document.notes:
        _el(root, "cbc:Note", f"#{note.subject}#{note.text}" if note.subject else note.text)
    _el(root, "cbc:DocumentCurrencyCode", document.currency)
    period = _el(root, "cac:InvoicePeriod")
    _el(period, "cbc:StartDate", document.period_start.isoformat())
    _el(period, "cbc:EndDate", document.period_end.isoformat())
    if document.vat_on_debits:
        _el(period, "cbc:DescriptionCode", VAT_ON_DEBITS_CODE)
    if document.credited_number is not None:
        reference = _el(_el(root, "cac:BillingReference"), "cac:InvoiceDocumentReference")
        _el(reference, "cbc:ID", document.credited_number)
        if document.credited_date is not None:
            _el(reference, "cbc:IssueDate", document.credited_date.isoformat())
    _el(_el(root, "cac:ContractDocumentReference"), "cbc:ID", document.contract_reference)
    _party(_el(root, "cac:AccountingSupplierParty"), document.seller)
    _party(_el(root, "cac:AccountingCustomerParty"), document.buyer)
    _el(_el(root, "cac:Delivery"), "cbc:ActualDeliveryDate", document.period_end.isoformat())
    _payment(root, document, credit)
    tax_total = _el(root, "cac:TaxTotal")
    _amount(tax_total, "cbc:TaxAmount", document.vat_amount, document.currency)
    subtotal = _el(tax_total, "cac:TaxSubtotal")
    _amount(subtotal, "cbc:TaxableAmount", document.net_amount, document.currency)
    _amount(subtotal, "cbc:TaxAmount", document.vat_amount, document.currency)
    _tax_category(subtotal, "cac:TaxCategory", document)
    totals = _el(root, "cac:LegalMonetaryTotal")
    _amount(totals, "cbc:LineExtensionAmount", document.net_amount, document.currency)
    _amount(totals, "cbc:TaxExclusiveAmount", document.net_amount, document.currency)
    _amount(totals, "cbc:TaxInclusiveAmount", document.total_amount, document.currency)
    _amount(totals, "cbc:PayableAmount", document.total_amount, document.currency)
    for line in document.lines:
        _line(root, line, document, credit)
    xml: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return xml


def _party(parent: etree._Element, party: Party) -> None:
    element = _el(parent, "cac:Party")
    _el(element, "cbc:EndpointID", party.electronic_address, schemeID=ELECTRONIC_ADDRESS_SCHEME)
    address = _el(element, "cac:PostalAddress")
    _el(address, "cbc:StreetName", party.address.line1)
    if party.address.line2:
        _el(address, "cbc:AdditionalStreetName", party.address.line2)
    _el(address, "cbc:CityName", party.address.city)
    _el(address, "cbc:PostalZone", party.address.postcode)
    _el(_el(address, "cac:Country"), "cbc:IdentificationCode", party.address.country)
    if party.vat_number:
        scheme = _el(element, "cac:PartyTaxScheme")
        _el(scheme, "cbc:CompanyID", party.vat_number)
        _el(_el(scheme, "cac:TaxScheme"), "cbc:ID", "VAT")
    legal = _el(element, "cac:PartyLegalEntity")
    _el(legal, "cbc:RegistrationName", party.name)
    _el(legal, "cbc:CompanyID", party.siren, schemeID=SIREN_SCHEME)
    if party.legal_information:
        _el(legal, "cbc:CompanyLegalForm", party.legal_information)


def _payment(root: etree._Element, document: Document, credit: bool) -> None:
    means = _el(root, "cac:PaymentMeans")
    _el(means, "cbc:PaymentMeansCode", SEPA_CREDIT_TRANSFER)
    if credit and document.due_date is not None:
        _el(means, "cbc:PaymentDueDate", document.due_date.isoformat())
    account = _el(means, "cac:PayeeFinancialAccount")
    _el(account, "cbc:ID", document.payment.iban)
    _el(_el(account, "cac:FinancialInstitutionBranch"), "cbc:ID", document.payment.bic)
    _el(_el(root, "cac:PaymentTerms"), "cbc:Note", document.payment.terms)


def _tax_category(parent: etree._Element, tag: str, document: Document) -> None:
    category = _el(parent, tag)
    _el(category, "cbc:ID", "S")
    _el(category, "cbc:Percent", document.vat_percent)
    _el(_el(category, "cac:TaxScheme"), "cbc:ID", "VAT")


def _line(root: etree._Element, line: Line, document: Document, credit: bool) -> None:
    element = _el(root, "cac:CreditNoteLine" if credit else "cac:InvoiceLine")
    _el(element, "cbc:ID", str(line.number))
    _el(
        element,
        "cbc:CreditedQuantity" if credit else "cbc:InvoicedQuantity",
        decimal_text(line.quantity),
        unitCode=line.unit_code,
    )
    _amount(element, "cbc:LineExtensionAmount", line.net_amount, document.currency)
    item = _el(element, "cac:Item")
    _el(item, "cbc:Name", line.name)
    _tax_category(item, "cac:ClassifiedTaxCategory", document)
    _el(
        _el(element, "cac:Price"),
        "cbc:PriceAmount",
        decimal_text(line.unit_price),
        currencyID=document.currency,
    )
