"""E-invoices through the API: generated once at issue, stored, served byte for byte; the money
in the XML is the JSON invoice's; the PDF is a Factur-X PDF/A-3 with the served CII inside."""

import hashlib
import io
import os
import subprocess
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from pypdf import PdfReader
from pypdf.generic import IndirectObject
from sqlalchemy import delete, select

from app.billing.einvoice.tables import InvoiceDocument
from app.core.tables import AuditEntry

import einvoice_validation as v
from billing_scenarios import VOICE_100K, Stream, arrange, generate, issue_and_correct

HOURS = Stream(
    "Back-office", "28.50", 20_000, 15_000, unit="hour", committed_aht=300, actual_aht=310
)
EMAIL = Stream("E-mail", "0.37", 7_777, 1_234)
POOLED = [Stream("voice", "1.20", 50_000, 30_000), Stream("email", "2.00", 10_000, 9_000)]
ARTIFACTS = Path(os.environ.get("PLANCHER_TEST_ARTIFACTS", "build/test-artifacts"))


def issued(client, db, admin, billing, streams, **terms) -> dict:
    contract_id, _ = arrange(client, db, admin, streams, **terms)
    draft = generate(client, contract_id, billing).json()
    response = client.post(f"/v1/invoices/{draft['id']}/issue", headers=billing)
    assert response.status_code == 200, response.text
    return response.json()


def credit_note(client, db, admin, billing) -> tuple[dict, dict]:
    """An issued invoice and the issued credit note that cancels it."""
    _, original, correction = issue_and_correct(client, db, admin, billing)
    credit_id = correction["credit_note"]["id"]
    credit = client.post(f"/v1/invoices/{credit_id}/issue", headers=billing).json()
    return original, credit


def xml(client, invoice: dict, headers, syntax: str = "cii") -> bytes:
    response = client.get(
        f"/v1/invoices/{invoice['id']}/xml", params={"syntax": syntax}, headers=headers
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/xml")
    return response.content


def pdf(client, invoice: dict, headers) -> bytes:
    response = client.get(f"/v1/invoices/{invoice['id']}/pdf", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    return response.content


def _texts(tree: etree._Element, path: str) -> list[str]:
    return [element.text for element in tree.iterfind(path)]


def _money_of_cii(document: bytes) -> dict[str, list[str]]:
    tree = etree.fromstring(document)
    return {
        "lines": _texts(
            tree, ".//{*}SpecifiedTradeSettlementLineMonetarySummation/{*}LineTotalAmount"
        ),
        "net": _texts(tree, ".//{*}TaxBasisTotalAmount"),
        "vat": _texts(tree, ".//{*}TaxTotalAmount"),
        "total": _texts(tree, ".//{*}GrandTotalAmount"),
    }


def _money_of_ubl(document: bytes) -> dict[str, list[str]]:
    tree = etree.fromstring(document)
    return {
        "lines": _texts(tree, "{*}InvoiceLine/{*}LineExtensionAmount")
        + _texts(tree, "{*}CreditNoteLine/{*}LineExtensionAmount"),
        "net": _texts(tree, "{*}LegalMonetaryTotal/{*}TaxExclusiveAmount"),
        "vat": _texts(tree, "{*}TaxTotal/{*}TaxAmount"),
        "total": _texts(tree, "{*}LegalMonetaryTotal/{*}TaxInclusiveAmount"),
    }


def _money_of_json(invoice: dict) -> dict[str, list[str]]:
    """The JSON's money as the XML states it: positive on a credit note (type 381 says so)."""

    def positive(text: str) -> str:
        return str(abs(Decimal(text)))

    return {
        "lines": [positive(line["amount"]) for line in invoice["lines"]],
        "net": [positive(invoice["net_amount"])],
        "vat": [positive(invoice["vat_amount"])],
        "total": [positive(invoice["total_amount"])],
    }


@pytest.fixture
def per_activity(client, db, admin, billing) -> dict:
    return issued(client, db, admin, billing, [VOICE_100K, HOURS, EMAIL])


def test_several_lines_one_in_fractional_hours(client, per_activity, billing) -> None:
    tree = etree.fromstring(xml(client, per_activity, billing))
    quantities = [(q.text, q.get("unitCode")) for q in tree.iterfind(".//{*}BilledQuantity")]
    assert quantities == [("5000", "C62"), ("208.3333", "HUR"), ("5765.3", "C62")]


@pytest.mark.parametrize("syntax", ["cii", "ubl"])
def test_money_in_the_xml_equals_the_json_to_the_cent(
    client, db, admin, billing, per_activity, syntax
) -> None:
    pooled = issued(client, db, admin, billing, POOLED, evaluation="pooled")
    _, credit = credit_note(client, db, admin, billing)
    read = _money_of_cii if syntax == "cii" else _money_of_ubl
    for invoice in (per_activity, pooled, credit):
        assert read(xml(client, invoice, billing, syntax)) == _money_of_json(invoice)


def test_served_documents_pass_the_validators(client, db, admin, billing, per_activity, tmp_path):
    pooled = issued(client, db, admin, billing, POOLED, evaluation="pooled")
    original, credit = credit_note(client, db, admin, billing)
    for invoice in (per_activity, pooled, credit):
        cii_xml, ubl_xml = xml(client, invoice, billing), xml(client, invoice, billing, "ubl")
        assert v.xsd_errors(cii_xml, v.CII_XSD) == []
        for stylesheet, document in (
            (v.CII_EN16931, cii_xml),
            (v.CII_BR_FR, cii_xml),
            (v.UBL_EN16931, ubl_xml),
            (v.UBL_BR_FR, ubl_xml),
        ):
            assert v.fatal(v.schematron(document, stylesheet, tmp_path)) == [], invoice["kind"]
    reference = etree.fromstring(xml(client, credit, billing)).find(
        ".//{*}InvoiceReferencedDocument"
    )
    assert reference.findtext("{*}IssuerAssignedID") == original["number"]


def test_documents_are_served_byte_identical_and_audited(client, db, per_activity, billing) -> None:
    first = {s: xml(client, per_activity, billing, s) for s in ("cii", "ubl")} | {
        "pdf": pdf(client, per_activity, billing)
    }
    again = {s: xml(client, per_activity, billing, s) for s in ("cii", "ubl")} | {
        "pdf": pdf(client, per_activity, billing)
    }
    assert first == again
    [changes] = db.scalars(
        select(AuditEntry.changes).where(
            AuditEntry.entity_id == per_activity["id"], AuditEntry.action == "invoice.issued"
        )
    )
    assert changes["documents_sha256"] == {
        name: hashlib.sha256(content).hexdigest() for name, content in first.items()
    }


def test_changing_the_client_after_issue_changes_no_document(
    client, per_activity, admin, billing
) -> None:
    before = xml(client, per_activity, billing)
    response = client.patch(
        f"/v1/clients/{per_activity['client_id']}",
        json={
            "name": "Acme Renommée",
            "address": {"line1": "1 quai", "postcode": "13002", "city": "Marseille"},
        },
        headers=admin,
    )
    assert response.status_code == 200, response.text
    assert xml(client, per_activity, billing) == before


def _catalog_attachments(reader: PdfReader) -> list[tuple[str, str, bytes]]:
    found = []
    catalog: Any = reader.trailer["/Root"]  # pypdf types its objects as the PdfObject base
    for spec in catalog.get("/AF", []):
        entry: Any = spec.get_object() if isinstance(spec, IndirectObject) else spec
        content = entry["/EF"]["/F"].get_object().get_data()
        found.append((str(entry["/F"]), str(entry["/AFRelationship"]), content))
    return found


def _fonts(reader: PdfReader) -> list[dict]:
    fonts = []
    for page in reader.pages:
        resources: Any = page["/Resources"]
        for font in resources["/Font"].values():
            font = font.get_object()
            descendants = font.get("/DescendantFonts")
            fonts.append(descendants[0].get_object() if descendants else font)
    return fonts


def test_pdf_is_factur_x_pdf_a_3_with_the_served_cii(client, per_activity, billing) -> None:
    reader = PdfReader(io.BytesIO(pdf(client, per_activity, billing)))
    root: Any = reader.trailer["/Root"]
    xmp = root["/Metadata"].get_object().get_data().decode()
    assert "<pdfaid:part>3</pdfaid:part>" in xmp or 'pdfaid:part="3"' in xmp
    assert "EN 16931" in xmp and "factur-x.xml" in xmp
    [intent] = [i.get_object() for i in root["/OutputIntents"]]
    assert intent["/S"] == "/GTS_PDFA1" and "sRGB" in str(intent.get("/OutputConditionIdentifier"))
    fonts = _fonts(reader)
    assert fonts and all(
        any(key in font["/FontDescriptor"] for key in ("/FontFile", "/FontFile2", "/FontFile3"))
        for font in fonts
    )
    [(name, relationship, content)] = _catalog_attachments(reader)
    assert name == "factur-x.xml" and relationship in ("/Data", "/Alternative")
    assert content == xml(client, per_activity, billing)


def test_first_page_renders_to_png(client, per_activity, billing) -> None:
    """The artifact a reviewer looks at (README's `docs/invoice-example.png` comes from it)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    source = ARTIFACTS / "invoice.pdf"
    source.write_bytes(pdf(client, per_activity, billing))
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            "110",
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            str(source),
            str(ARTIFACTS / "invoice-page-1"),
        ],
        check=True,
    )
    assert (ARTIFACTS / "invoice-page-1.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_draft_pdf_is_a_preview_without_xml(client, db, admin, billing) -> None:
    contract_id, _ = arrange(client, db, admin, [VOICE_100K])
    draft = generate(client, contract_id, billing).json()
    reader = PdfReader(io.BytesIO(pdf(client, draft, billing)))
    assert "NE VAUT PAS FACTURE" in reader.pages[0].extract_text()
    catalog: Any = reader.trailer["/Root"]
    assert "/AF" not in catalog
    response = client.get(f"/v1/invoices/{draft['id']}/xml", headers=billing)
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"


def test_unknown_syntax_is_a_422_naming_it(client, per_activity, billing) -> None:
    response = client.get(
        f"/v1/invoices/{per_activity['id']}/xml", params={"syntax": "edifact"}, headers=billing
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "syntax"


def test_issuing_for_an_incomplete_buyer_is_a_409_naming_each_item(
    client, db, admin, billing
) -> None:
    contract_id, _ = arrange(client, db, admin, [VOICE_100K])
    draft = generate(client, contract_id, billing).json()
    client.patch(
        f"/v1/clients/{draft['client_id']}", json={"siren": None, "address": None}, headers=admin
    )
    response = client.post(f"/v1/invoices/{draft['id']}/issue", headers=billing)
    assert response.status_code == 409
    assert {e["field"] for e in response.json()["errors"]} == {"siren", "address"}
    after = client.get(f"/v1/invoices/{draft['id']}", headers=billing).json()
    assert (after["status"], after["number"]) == ("draft", None)


def test_issuing_with_incomplete_seller_settings_is_a_409_naming_them(
    client, db, admin, billing
) -> None:
    contract_id, _ = arrange(client, db, admin, [VOICE_100K])
    draft = generate(client, contract_id, billing).json()
    complete = client.app.state.settings
    client.app.state.settings = complete.model_copy(update={"seller_iban": "", "seller_rcs": ""})
    try:
        response = client.post(f"/v1/invoices/{draft['id']}/issue", headers=billing)
    finally:
        client.app.state.settings = complete
    assert response.status_code == 409
    assert {e["field"] for e in response.json()["errors"]} == {
        "PLANCHER_SELLER_IBAN",
        "PLANCHER_SELLER_RCS",
    }


def test_draft_preview_lists_what_is_missing_before_issue(client, db, admin, billing) -> None:
    contract_id, _ = arrange(client, db, admin, [VOICE_100K])
    draft = generate(client, contract_id, billing).json()
    client.patch(f"/v1/clients/{draft['client_id']}", json={"address": None}, headers=admin)
    text = " ".join(
        PdfReader(io.BytesIO(pdf(client, draft, billing))).pages[0].extract_text().split()
    )
    assert "À compléter avant émission" in text and "address" in text


def test_invoice_issued_without_stored_documents_is_a_409_not_a_rerendering(
    client, db, per_activity, billing
) -> None:
    """As for invoices issued before e-invoices existed: rendering one now would not be what
    was issued."""
    db.execute(delete(InvoiceDocument).where(InvoiceDocument.invoice_id == per_activity["id"]))
    db.flush()
    response = client.get(f"/v1/invoices/{per_activity['id']}/pdf", headers=billing)
    assert response.status_code == 409
    assert "no pdf document" in response.json()["detail"]
