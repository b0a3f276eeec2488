"""The readable invoice: HTML from a Jinja2 template, rendered to PDF/A-3b by WeasyPrint, with
the CII embedded as `factur-x.xml` by `factur-x` (profile EN 16931). A draft renders as a
preview marked as not an invoice, with no XML: it has no number and may still change."""

import threading
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from app.billing.einvoice.document import Document, money

TEMPLATES = Path(__file__).parent / "templates"
NARROW_NO_BREAK_SPACE = "\u202f"
# Requests run in a thread pool; Pango and fontconfig caches are not safe to share between
# concurrent renderings, so one PDF is rendered at a time per process.
_RENDERING = threading.Lock()


def french_number(value: Decimal | str, places: int | None = None) -> str:
    """`1234567.5` as `1 234 567,50` with `places` decimals (None: as many as it has, at most
    4), the way a French accountant reads figures."""
    number = Decimal(value)
    if places is None:
        number = number.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP).normalize()
        if number == number.to_integral():
            number = number.quantize(Decimal(1))
    else:
        number = number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    sign = "-" if number < 0 else ""
    whole, _, fraction = format(abs(number), "f").partition(".")
    groups = f"{int(whole):,}".replace(",", NARROW_NO_BREAK_SPACE)
    return f"{sign}{groups},{fraction}" if fraction else f"{sign}{groups}"


def french_price(value: Decimal) -> str:
    """A unit price with at least two decimals and every decimal it has (prices carry up to
    six: rounding one on the invoice would misstate it)."""
    exponent = value.normalize().as_tuple().exponent
    places = max(2, -exponent) if isinstance(exponent, int) else 2
    return f"{french_number(value, places)}{NARROW_NO_BREAK_SPACE}€"


def french_money(value: Decimal) -> str:
    return f"{french_number(money(value), 2)}{NARROW_NO_BREAK_SPACE}€"


_environment = Environment(
    loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2"])
)
_environment.filters["number"] = french_number
_environment.filters["euros"] = french_money
_environment.filters["price"] = french_price
_environment.filters["fr_date"] = lambda day: day.strftime("%d/%m/%Y")


def html(document: Document, *, preview: bool, missing: tuple[str, ...] = ()) -> str:
    return _environment.get_template("invoice.html.j2").render(
        doc=document, preview=preview, missing=missing
    )


def _pdf(markup: str) -> bytes:
    # WeasyPrint and factur-x (with fontTools, Pango's bindings and the XSDs) are imported on
    # the first rendering, not with the app: they are some 40 MB of resident memory and seconds
    # of start-up that a server which renders no PDF, or a worker, would carry for nothing.
    from weasyprint import HTML

    with _RENDERING:
        pdf: bytes = HTML(string=markup, base_url=str(TEMPLATES)).write_pdf(pdf_variant="pdf/a-3b")
    return pdf


def factur_x(document: Document, cii: bytes) -> bytes:
    """The Factur-X PDF of an issued invoice: PDF/A-3 with `cii` as `factur-x.xml`."""
    import facturx  # on first use, like WeasyPrint (see `_pdf`)

    title = "Avoir" if document.kind == "credit_note" else "Facture"
    result: bytes = facturx.generate_from_binary(
        _pdf(html(document, preview=False)),
        cii,
        flavor="factur-x",
        level="en16931",
        check_xsd=True,
        pdf_metadata={
            "author": document.seller.name,
            "keywords": "Factur-X, minimum de facturation",
            "title": f"{title} {document.number}",
            "subject": f"{title} {document.number} du {document.issue_date:%d/%m/%Y}",
        },
        lang="fr-FR",
        afrelationship="data",
    )
    return result


def preview(document: Document, missing: tuple[str, ...]) -> bytes:
    """A draft's preview: no number, no XML, and a banner that it is not an invoice."""
    return _pdf(html(document, preview=True, missing=missing))
