"""The CII and UBL builders against the official validators: the Factur-X EN 16931 XSD and
schematron, the EN 16931 UBL schematron and the French BR-FR ones, for each case of the
acceptance; and proof that each validator rejects a broken invoice naming the rule."""

from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from app.billing.einvoice import cii, ubl
from app.billing.einvoice.document import Document

import einvoice_validation as v
from einvoice_samples import CREDIT_NOTE, PER_ACTIVITY, POOLED

CASES = {"per_activity": PER_ACTIVITY, "pooled": POOLED, "credit_note": CREDIT_NOTE}


def _ubl_xsd(document: Document) -> Path:
    return v.UBL_CREDIT_NOTE_XSD if document.kind == "credit_note" else v.UBL_INVOICE_XSD


@pytest.mark.parametrize("case", CASES)
def test_cii_passes_the_factur_x_xsd(case: str) -> None:
    assert v.xsd_errors(cii.build(CASES[case]), v.CII_XSD) == []


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("stylesheet", [v.CII_EN16931, v.CII_BR_FR], ids=["en16931", "br-fr"])
def test_cii_has_no_fatal_assertion(case: str, stylesheet: Path, tmp_path: Path) -> None:
    assert v.fatal(v.schematron(cii.build(CASES[case]), stylesheet, tmp_path)) == []


@pytest.mark.parametrize("case", CASES)
def test_ubl_passes_the_ubl_xsd(case: str) -> None:
    document = CASES[case]
    assert v.xsd_errors(ubl.build(document), _ubl_xsd(document)) == []


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("stylesheet", [v.UBL_EN16931, v.UBL_BR_FR], ids=["en16931", "br-fr"])
def test_ubl_has_no_fatal_assertion(case: str, stylesheet: Path, tmp_path: Path) -> None:
    assert v.fatal(v.schematron(ubl.build(CASES[case]), stylesheet, tmp_path)) == []


def test_hour_lines_carry_fractional_quantities_in_hours() -> None:
    tree = etree.fromstring(cii.build(PER_ACTIVITY))
    quantities = tree.findall(".//{*}BilledQuantity")
    assert [(q.text, q.get("unitCode")) for q in quantities] == [
        ("5000", "C62"),
        ("208.3333", "HUR"),
        ("1234", "C62"),
    ]


def test_vat_on_debits_is_written_as_bt_8_in_both_syntaxes() -> None:
    assert etree.fromstring(cii.build(PER_ACTIVITY)).findtext(".//{*}DueDateTypeCode") == "5"
    ubl_tree = etree.fromstring(ubl.build(PER_ACTIVITY))
    assert ubl_tree.findtext("{*}InvoicePeriod/{*}DescriptionCode") == "3"
    assert etree.fromstring(cii.build(POOLED)).find(".//{*}DueDateTypeCode") is None


def test_credit_note_is_type_381_referencing_the_credited_invoice() -> None:
    tree = etree.fromstring(cii.build(CREDIT_NOTE))
    assert tree.findtext("{*}ExchangedDocument/{*}TypeCode") == "381"
    reference = tree.find(".//{*}InvoiceReferencedDocument")
    assert reference.findtext("{*}IssuerAssignedID") == "MB-2026-000042"
    assert reference.findtext(".//{*}DateTimeString") == "20261103"


# Negative samples: a validation is only trusted if it can fail.


def _broken(xml: bytes, path: str, change: str) -> bytes:
    """`xml` with the element at `path` removed (`change="remove"`) or its text replaced."""
    tree = etree.fromstring(xml)
    [element] = tree.xpath(path, namespaces={**cii.NSMAP, "cbc": ubl.CBC, "cac": ubl.CAC})
    if change == "remove":
        element.getparent().remove(element)
    else:
        element.text = change
    return etree.tostring(tree)


def _rules(xml: bytes, stylesheet: Path, tmp_path: Path) -> set[str]:
    return {failure.rule for failure in v.fatal(v.schematron(xml, stylesheet, tmp_path))}


def test_wrong_vat_total_breaks_br_co_14_and_15(tmp_path: Path) -> None:
    wrong = str(PER_ACTIVITY.vat_amount + Decimal("0.01"))
    xml = _broken(cii.build(PER_ACTIVITY), "//ram:TaxTotalAmount", wrong)
    assert {"BR-CO-14", "BR-CO-15"} <= _rules(xml, v.CII_EN16931, tmp_path)


def test_wrong_vat_total_in_ubl_breaks_br_co_15(tmp_path: Path) -> None:
    wrong = str(PER_ACTIVITY.vat_amount + Decimal("0.01"))
    xml = _broken(ubl.build(PER_ACTIVITY), "/*/cac:TaxTotal/cbc:TaxAmount", wrong)
    assert "BR-CO-15" in _rules(xml, v.UBL_EN16931, tmp_path)


def test_missing_bt_23_breaks_br_fr_08(tmp_path: Path) -> None:
    xml = _broken(
        cii.build(PER_ACTIVITY), "//ram:BusinessProcessSpecifiedDocumentContextParameter", "remove"
    )
    assert "BR-FR-08_BT-23" in _rules(xml, v.CII_BR_FR, tmp_path)
    ubl_xml = _broken(ubl.build(PER_ACTIVITY), "/*/cbc:ProfileID", "remove")
    assert "BR-FR-08_BT-23" in _rules(ubl_xml, v.UBL_BR_FR, tmp_path)


def test_missing_buyer_siren_breaks_br_fr_11(tmp_path: Path) -> None:
    xml = _broken(
        cii.build(PER_ACTIVITY), "//ram:BuyerTradeParty/ram:SpecifiedLegalOrganization", "remove"
    )
    assert any(rule.startswith("BR-FR-11") for rule in _rules(xml, v.CII_BR_FR, tmp_path))
    ubl_xml = _broken(
        ubl.build(PER_ACTIVITY),
        "//cac:AccountingCustomerParty//cac:PartyLegalEntity/cbc:CompanyID",
        "remove",
    )
    assert "BR-FR-11_BT-47" in _rules(ubl_xml, v.UBL_BR_FR, tmp_path)


def test_credit_note_without_its_invoice_reference_is_rejected(tmp_path: Path) -> None:
    xml = _broken(cii.build(CREDIT_NOTE), "//ram:InvoiceReferencedDocument", "remove")
    assert "BR-FR-CO-05_BT-3" in _rules(xml, v.CII_BR_FR, tmp_path)
    ubl_xml = _broken(ubl.build(CREDIT_NOTE), "/*/cac:BillingReference", "remove")
    assert any(rule.startswith("BR-FR-CO-05") for rule in _rules(ubl_xml, v.UBL_BR_FR, tmp_path))
