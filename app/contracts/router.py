"""HTTP layer of the reference data: clients, contracts, activities and their prices."""

from typing import Annotated

from fastapi import Query

from app.contracts import schemas, service
from app.core import checks
from app.core.auth import AdminKey, ReaderKey
from app.core.db import SessionDep
from app.core.domain_router import DomainRouter
from app.core.errors import READ_ERRORS, WRITE_ERRORS
from app.core.pagination import Page, PageDep
from app.core.routing import quick_read

router = DomainRouter(tags=["reference data"])


@router.post("/clients", status_code=201, response_model=schemas.ClientOut, responses=WRITE_ERRORS)
def create_client(body: schemas.ClientCreate, session: SessionDep, actor: AdminKey) -> object:
    """Create a client (donneur d'ordre)."""
    return service.create_client(session, actor, body)


@router.get("/clients", response_model=Page[schemas.ClientOut], responses=READ_ERRORS)
@quick_read
def list_clients(session: SessionDep, actor: ReaderKey, page: PageDep) -> object:
    """List clients; a client key sees only its own."""
    items, next_cursor = service.list_clients(session, actor, page)
    return {"items": items, "next_cursor": next_cursor}


@router.get("/clients/{client_id}", response_model=schemas.ClientOut, responses=READ_ERRORS)
@quick_read
def get_client(client_id: str, session: SessionDep, actor: ReaderKey) -> object:
    """Get one client."""
    return service.get_client(session, actor, client_id)


@router.patch("/clients/{client_id}", response_model=schemas.ClientOut, responses=WRITE_ERRORS)
def update_client(
    client_id: str, body: schemas.ClientUpdate, session: SessionDep, actor: AdminKey
) -> object:
    """Change a client's identity, address or electronic address (audited); documents
    already issued keep what they froze."""
    return service.update_client(session, actor, client_id, body)


def _detail(detail: service.ContractDetail) -> schemas.ContractDetailOut:
    """The contract's fields, its terms in force and its amendments, validated once (built
    from a `ContractOut` first, they were validated three times: 15 us, against 10)."""
    values = {name: getattr(detail.contract, name) for name in schemas.ContractOut.model_fields}
    values["terms_in_force"] = detail.terms_in_force
    values["amendments"] = detail.amendments
    return schemas.ContractDetailOut.model_validate(values, from_attributes=True)


@router.post(
    "/contracts",
    status_code=201,
    response_model=schemas.ContractDetailOut,
    responses=WRITE_ERRORS,
)
@checks.checked_by(service.check_new_contract)
def create_contract(body: schemas.ContractCreate, session: SessionDep, actor: AdminKey) -> object:
    """Create a contract with its charter axis 1 terms (defaults from the charter), which
    become its first amendment, from the period of `starts_on`."""
    contract = service.create_contract(session, actor, body)
    return _detail(service.get_contract_detail(session, actor, contract.id))


@router.get("/contracts", response_model=Page[schemas.ContractOut], responses=READ_ERRORS)
@quick_read
def list_contracts(
    session: SessionDep,
    actor: ReaderKey,
    page: PageDep,
    client_id: Annotated[str | None, Query(description="Only this client's contracts.")] = None,
) -> object:
    """List contracts; a client key sees only its own."""
    items, next_cursor = service.list_contracts(session, actor, page, client_id)
    return {"items": items, "next_cursor": next_cursor}


@router.get(
    "/contracts/{contract_id}", response_model=schemas.ContractDetailOut, responses=READ_ERRORS
)
@quick_read
def get_contract(contract_id: str, session: SessionDep, actor: ReaderKey) -> object:
    """Get one contract: its latest terms, the terms in force now and every amendment."""
    return _detail(service.get_contract_detail(session, actor, contract_id))


@router.patch(
    "/contracts/{contract_id}", response_model=schemas.ContractDetailOut, responses=WRITE_ERRORS
)
@checks.checked_by(service.check_contract_update)
def update_contract(
    contract_id: str, body: schemas.ContractUpdate, session: SessionDep, actor: AdminKey
) -> object:
    """Change the contract (audited). The charter terms (ratios, tolerance, evaluation, VAT,
    deadline and payment days) change by an amendment from the next open period, never in
    the periods already settled; currency, time zone and dates refuse a change (409) that
    would rewrite what was recorded or invoiced."""
    contract = service.update_contract(session, actor, contract_id, body)
    return _detail(service.get_contract_detail(session, actor, contract.id))


@router.post(
    "/contracts/{contract_id}/amendments",
    status_code=201,
    response_model=schemas.AmendmentResultOut,
    responses=WRITE_ERRORS,
)
def amend_contract(
    contract_id: str, body: schemas.AmendmentCreate, session: SessionDep, actor: AdminKey
) -> object:
    """Amend the charter terms from a period on; a settled period only with `backdate`."""
    amended = service.amend(session, actor, contract_id, body)
    return {"amendment": amended.amendment, "invoices_to_correct": amended.invoices_to_correct}


@router.post(
    "/contracts/{contract_id}/activities",
    status_code=201,
    response_model=schemas.ActivityOut,
    responses=WRITE_ERRORS,
)
def create_activity(
    contract_id: str, body: schemas.ActivityCreate, session: SessionDep, actor: AdminKey
) -> object:
    """Create an activity (a queue or channel billed separately) with its first prices."""
    return service.create_activity(session, actor, contract_id, body)


@router.get(
    "/contracts/{contract_id}/activities",
    response_model=Page[schemas.ActivityOut],
    responses=READ_ERRORS,
)
@quick_read
def list_activities(
    contract_id: str, session: SessionDep, actor: ReaderKey, page: PageDep
) -> object:
    """List a contract's activities."""
    items, next_cursor = service.list_activities(session, actor, contract_id, page)
    return {"items": items, "next_cursor": next_cursor}


@router.get("/activities/{activity_id}", response_model=schemas.ActivityOut, responses=READ_ERRORS)
@quick_read
def get_activity(activity_id: str, session: SessionDep, actor: ReaderKey) -> object:
    """Get one activity with its price history."""
    return service.get_activity(session, actor, activity_id)


@router.patch(
    "/activities/{activity_id}", response_model=schemas.ActivityOut, responses=WRITE_ERRORS
)
def update_activity(
    activity_id: str, body: schemas.ActivityUpdate, session: SessionDep, actor: AdminKey
) -> object:
    """Rename an activity or change its channel, volume basis, reference AHT or interval
    grid; the grid only while no volumes or interval forecasts are recorded on it (409
    naming them)."""
    return service.update_activity(session, actor, activity_id, body)


@router.post(
    "/activities/{activity_id}/prices",
    status_code=201,
    response_model=schemas.PriceResultOut,
    responses=WRITE_ERRORS,
)
def add_price(
    activity_id: str, body: schemas.PriceAdd, session: SessionDep, actor: AdminKey
) -> object:
    """Add a price row from a date on (indexation); existing rows are never edited. Inside an
    invoiced period only with `backdate` (409 otherwise), listing the invoices to correct."""
    added = service.add_price(session, actor, activity_id, body)
    return {
        **schemas.PriceOut.model_validate(added.price).model_dump(),
        "invoices_to_correct": added.invoices_to_correct,
    }


@router.get(
    "/activities/{activity_id}/prices", response_model=list[schemas.PriceOut], responses=READ_ERRORS
)
@quick_read
def list_prices(activity_id: str, session: SessionDep, actor: ReaderKey) -> object:
    """The activity's price rows, oldest first."""
    return service.list_prices(session, actor, activity_id)
