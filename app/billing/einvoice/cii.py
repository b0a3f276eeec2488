"""The invoice as UN/CEFACT Cross Industry Invoice (D16B), Factur-X profile EN 16931.

This is the XML embedded in the Factur-X PDF and served at `/xml?syntax=cii`. Element order
follows the Factur-X EN 16931 XSD, which validates sequences strictly.
"""

from datetime import date
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

RSM = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
UDT = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
QDT = "urn:un:unece:uncefact:data:standard:QualifiedDataType:100"
NSMAP = {"rsm": RSM, "ram": RAM, "udt": UDT, "qdt": QDT}
EN16931_GUIDELINE = "urn:cen.eu:en16931:2017"
SEPA_CREDIT_TRANSFER = "58"
VAT_ON_DEBITS_CODE = "5"  # BT-8 in CII (UNTDID 2475)


def _el(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    return child(parent, NSMAP, tag, text, **attrs)


def _date(parent: etree._Element, tag: str, day: date, kind: str = "udt") -> None:
    _el(_el(parent, tag), f"{kind}:DateTimeString", day.strftime("%Y%m%d"), format="102")


def _amount(value: Decimal) -> str:
    return str(money(value))


def build(document: Document) -> bytes:
    root = etree.Element(f"{{{RSM}}}CrossIndustryInvoice", nsmap=NSMAP)
    context = _el(root, "rsm:ExchangedDocumentContext")
    _el(
        _el(context, "ram:BusinessProcessSpecifiedDocumentContextParameter"),
        "ram:ID",
        SERVICES_PROCESS,
    )
    _el(_el(context, "ram:GuidelineSpecifiedDocumentContextParameter"), "ram:ID", EN16931_GUIDELINE)
    header = _el(root, "rsm:ExchangedDocument")
    _el(header, "ram:ID", document.number)
    _el(header, "ram:TypeCode", document.type_code)
    _date(header, "ram:IssueDateTime", document.issue_date)
    for note in document.notes:
        included = _el(header, "ram:IncludedNote")
        _el(included, "ram:Content", note.text)
        if note.subject:
            _el(included, "ram:SubjectCode", note.subject)
    transaction = _el(root, "rsm:SupplyChainTradeTransaction")
    for line in document.lines:
        _line(transaction, line, document)
    _agreement(_el(transaction, "ram:ApplicableHeaderTradeAgreement"), document)
    delivery = _el(transaction, "ram:ApplicableHeaderTradeDelivery")
    _date(
        _el(delivery, "ram:ActualDeliverySupplyChainEvent"),
        "ram:OccurrenceDateTime",
        document.period_end,
    )
    _settlement(_el(transaction, "ram:ApplicableHeaderTradeSettlement"), document)
    xml: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return xml


def _line(parent: etree._Element, line: Line, document: Document) -> None:
    item = _el(parent, "ram:IncludedSupplyChainTradeLineItem")
    _el(_el(item, "ram:AssociatedDocumentLineDocument"), "ram:LineID", str(line.number))
    _el(_el(item, "ram:SpecifiedTradeProduct"), "ram:Name", line.name)
    agreement = _el(item, "ram:SpecifiedLineTradeAgreement")
    _el(
        _el(agreement, "ram:NetPriceProductTradePrice"),
        "ram:ChargeAmount",
        decimal_text(line.unit_price),
    )
    _el(
        _el(item, "ram:SpecifiedLineTradeDelivery"),
        "ram:BilledQuantity",
        decimal_text(line.quantity),
        unitCode=line.unit_code,
    )
    settlement = _el(item, "ram:SpecifiedLineTradeSettlement")
    tax = _el(settlement, "ram:ApplicableTradeTax")
    _el(tax, "ram:TypeCode", "VAT")
    _el(tax, "ram:CategoryCode", "S")
    _el(tax, "ram:RateApplicablePercent", document.vat_percent)
    _el(
        _el(settlement, "ram:SpecifiedTradeSettlementLineMonetarySummation"),
        "ram:LineTotalAmount",
        _amount(line.net_amount),
    )


def _party(parent: etree._Element, tag: str, party: Party) -> None:
    element = _el(parent, tag)
    _el(element, "ram:Name", party.name)
    if party.legal_information:
        _el(element, "ram:Description", party.legal_information)
    _el(
        _el(element, "ram:SpecifiedLegalOrganization"), "ram:ID", party.siren, schemeID=SIREN_SCHEME
    )
    address = _el(element, "ram:PostalTradeAddress")
    _el(address, "ram:PostcodeCode", party.address.postcode)
    _el(address, "ram:LineOne", party.address.line1)
    if party.address.line2:
        _el(address, "ram:LineTwo", party.address.line2)
    _el(address, "ram:CityName", party.address.city)
    _el(address, "ram:CountryID", party.address.country)
    _el(
        _el(element, "ram:URIUniversalCommunication"),
        "ram:URIID",
        party.electronic_address,
        schemeID=ELECTRONIC_ADDRESS_SCHEME,
    )
    if party.vat_number:
        _el(_el(element, "ram:SpecifiedTaxRegistration"), "ram:ID", party.vat_number, schemeID="VA")


def _agreement(agreement: etree._Element, document: Document) -> None:
    _party(agreement, "ram:SellerTradeParty", document.seller)
    _party(agreement, "ram:BuyerTradeParty", document.buyer)
    _el(
        _el(agreement, "ram:ContractReferencedDocument"),
        "ram:IssuerAssignedID",
        document.contract_reference,
    )


def _settlement(settlement: etree._Element, document: Document) -> None:
    _el(settlement, "ram:InvoiceCurrencyCode", document.currency)
    means = _el(settlement, "ram:SpecifiedTradeSettlementPaymentMeans")
    _el(means, "ram:TypeCode", SEPA_CREDIT_TRANSFER)
    _el(_el(means, "ram:PayeePartyCreditorFinancialAccount"), "ram:IBANID", document.payment.iban)
    _el(
        _el(means, "ram:PayeeSpecifiedCreditorFinancialInstitution"),
        "ram:BICID",
        document.payment.bic,
    )
    tax = _el(settlement, "ram:ApplicableTradeTax")
    _el(tax, "ram:CalculatedAmount", _amount(document.vat_amount))
    _el(tax, "ram:TypeCode", "VAT")
    _el(tax, "ram:BasisAmount", _amount(document.net_amount))
    _el(tax, "ram:CategoryCode", "S")
    if document.vat_on_debits:
        _el(tax, "ram:DueDateTypeCode", VAT_ON_DEBITS_CODE)
    _el(tax, "ram:RateApplicablePercent", document.vat_percent)
    period = _el(settlement, "ram:BillingSpecifiedPeriod")
    _date(period, "ram:StartDateTime", document.period_start)
    _date(period, "ram:EndDateTime", document.period_end)
    terms = _el(settlement, "ram:SpecifiedTradePaymentTerms")
    _el(terms, "ram:Description", document.payment.terms)
    if document.due_date is not None:
        _date(terms, "ram:DueDateDateTime", document.due_date)
    totals = _el(settlement, "ram:SpecifiedTradeSettlementHeaderMonetarySummation")
    _el(totals, "ram:LineTotalAmount", _amount(document.net_amount))
    _el(totals, "ram:TaxBasisTotalAmount", _amount(document.net_amount))
    _el(totals, "ram:TaxTotalAmount", _amount(document.vat_amount), currencyID=document.currency)
    _el(totals, "ram:GrandTotalAmount", _amount(document.total_amount))
    _el(totals, "ram:DuePayableAmount", _amount(document.total_amount))
    if document.credited_number is not None:
        referenced = _el(settlement, "ram:InvoiceReferencedDocument")
        _el(referenced, "ram:IssuerAssignedID", document.credited_number)
        if document.credited_date is not None:
            _date(referenced, "ram:FormattedIssueDateTime", document.credited_date, kind="qdt")
