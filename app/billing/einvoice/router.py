"""HTTP layer of e-invoices: the Factur-X PDF and the CII or UBL XML of an invoice."""

from typing import Annotated

from fastapi import Query, Response

from app.billing import service as billing
from app.billing.einvoice import service
from app.core.auth import ReaderKey
from app.core.db import SessionDep
from app.core.domain_router import DomainRouter
from app.core.errors import READ_ERRORS, problem_responses
from app.core.settings import SettingsDep

router = DomainRouter(tags=["minimum billing"])


@router.get(
    "/invoices/{invoice_id}/pdf",
    response_class=Response,
    responses={
        200: {
            "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
            "description": "The Factur-X PDF/A-3 (EN 16931) stored at issue; a draft's preview.",
        },
        **READ_ERRORS,
        **problem_responses(409),
    },
)
def get_invoice_pdf(
    invoice_id: str, session: SessionDep, actor: ReaderKey, settings: SettingsDep
) -> Response:
    """The invoice as Factur-X PDF (CII embedded); a draft gives a preview that is no invoice."""
    invoice = billing.get_invoice(session, actor, invoice_id)
    if invoice.status == "draft":
        content = service.preview(session, actor, invoice, settings)
        return Response(content, media_type="application/pdf")
    document = service.stored(session, invoice, "pdf")
    return Response(
        document.content,
        media_type=document.media_type,
        headers={"Content-Disposition": f'inline; filename="{invoice.number}.pdf"'},
    )


@router.get(
    "/invoices/{invoice_id}/xml",
    response_class=Response,
    responses={
        200: {
            "content": {"application/xml": {"schema": {"type": "string"}}},
            "description": "The EN 16931 invoice stored at issue, as CII or UBL 2.1.",
        },
        **READ_ERRORS,
        **problem_responses(409, 422),
    },
)
def get_invoice_xml(
    invoice_id: str,
    session: SessionDep,
    actor: ReaderKey,
    syntax: Annotated[
        service.Syntax, Query(description="`cii` (UN/CEFACT CII, default) or `ubl` (UBL 2.1).")
    ] = "cii",
) -> Response:
    """The invoice as EN 16931 XML for a plateforme agréée: CII (default) or UBL."""
    invoice = billing.get_invoice(session, actor, invoice_id)
    document = service.stored(session, invoice, syntax)
    return Response(document.content, media_type=document.media_type)
