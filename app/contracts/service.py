"""Use cases of the reference data: who may create, read and change clients, contracts,
activities and prices, and the invariants checked before anything is written."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from sqlalchemy.orm import Session

from app.contracts import dependents, schemas, terms
from app.contracts.facts import ActivityFacts as ActivityFacts
from app.contracts.facts import ActivityRow as ActivityRow
from app.contracts.facts import ContractFacts as ContractFacts
from app.contracts.facts import ContractRow as ContractRow
from app.contracts.repository import (
    ActivityRepository,
    AmendmentRepository,
    ClientRepository,
    ContractRepository,
    PriceRepository,
)

# The domain's read types: other domains receive them from the functions below and annotate
# with these names, never importing `tables.py` (see ARCHITECTURE.md, "Across domains").
from app.contracts.tables import Activity as Activity
from app.contracts.tables import ActivityPrice as ActivityPrice
from app.contracts.tables import Client as Client
from app.contracts.tables import Contract as Contract
from app.contracts.tables import ContractAmendment as ContractAmendment
from app.contracts.terms import Terms as Terms
from app.core import audit, checks
from app.core.auth import Principal
from app.core.errors import Conflict, FieldError, NotFound, failed, field_errors_from
from app.core.orm import utc_now
from app.core.pagination import PageParams
from app.core.periods import Period, commitment_deadline, period_of


def _json(model: Any) -> dict[str, Any]:
    data: dict[str, Any] = model.model_dump(mode="json")
    return data


# Clients


def create_client(session: Session, actor: Principal, data: schemas.ClientCreate) -> Client:
    clients = ClientRepository(session)
    if data.siren is not None and clients.by_siren(data.siren) is not None:
        raise Conflict(f"A client with SIREN {data.siren} already exists.")
    client = Client(name=data.name, country=data.country)
    _apply_client_fields(client, data.model_dump(exclude={"name", "country"}))
    clients.add(client)
    audit.record(session, actor, "client.created", "client", client.id, _json(data))
    return client


def update_client(
    session: Session, actor: Principal, client_id: str, patch: schemas.ClientUpdate
) -> Client:
    """Change a client's identity or billing address; the audit trail keeps the old values,
    and invoices already issued keep the identity they froze."""
    client = get_client(session, actor, client_id)
    changes = patch.model_dump(exclude_unset=True)
    if patch.address is not None:  # a new address replaces the old one whole, defaults too
        changes["address"] = patch.address.model_dump()
    siren = changes.get("siren")
    if siren is not None and siren != client.siren:
        other = ClientRepository(session).by_siren(siren)
        if other is not None:
            raise Conflict(f"A client with SIREN {siren} already exists.")
    before = {name: getattr(client, name) for name in changes}
    _apply_client_fields(client, changes)
    session.flush()
    audit.record(
        session,
        actor,
        "client.updated",
        "client",
        client.id,
        {"before": before, "after": changes},
    )
    return client


def _apply_client_fields(client: Client, values: dict[str, Any]) -> None:
    """Set fields from a validated body; the nested address spreads over its columns."""
    for name, value in values.items():
        if name == "address":
            address = value or {}
            for part in ("line1", "line2", "postcode", "city", "country"):
                setattr(client, f"address_{part}", address.get(part))
        else:
            setattr(client, name, value)


def get_client(session: Session, actor: Principal, client_id: str) -> Client:
    client = ClientRepository(session).get(client_id)
    if client is None:
        raise NotFound(f"No client with id {client_id}.")
    actor.ensure_can_see(client.id, "client", client_id)
    return client


def client_by_siren(session: Session, siren: str) -> Client | None:
    """The client with this SIREN, if any, for loaders acting as the system (the demo)."""
    return ClientRepository(session).by_siren(siren)


def list_clients(
    session: Session, actor: Principal, params: PageParams
) -> tuple[Sequence[Client], str | None]:
    return ClientRepository(session).list_page(params, actor.scoped_client_id)


# Contracts


def check_new_contract(
    session: Session, actor: Principal, raw: checks.RawRequest
) -> list[FieldError]:
    """What the stored data refuses in a new contract (an unknown client), for the schema's
    422 too."""
    return _client_problems(session, checks.salvage(schemas.ContractCreate, raw.body))


def _client_problems(session: Session, fields: dict[str, Any]) -> list[FieldError]:
    client_id = fields.get("client_id")
    if client_id is None or ClientRepository(session).get(client_id) is not None:
        return []
    return [FieldError("body", "client_id", f"no client with id {client_id}")]


def create_contract(session: Session, actor: Principal, data: schemas.ContractCreate) -> Contract:
    problems = _client_problems(session, data.model_dump())
    if problems:
        raise failed(problems)
    contracts = ContractRepository(session)
    _ensure_reference_free(contracts, data.client_id, data.reference)
    contract = contracts.add(Contract(**data.model_dump()))
    _amended_from_start(session, contract)
    audit.record(session, actor, "contract.created", "contract", contract.id, _json(data))
    return contract


def get_contract(session: Session, actor: Principal, contract_id: str) -> Contract:
    contract = ContractRepository(session).get(contract_id)
    if contract is None:
        raise NotFound(f"No contract with id {contract_id}.")
    actor.ensure_can_see(contract.client_id, "contract", contract_id)
    return contract


def contract_named(
    session: Session, actor: Principal, contract_id: str, location: str = "body"
) -> Contract:
    """The contract a request field `contract_id` names (in the body or the query). An unknown
    one, or another client's (which is not revealed), is a bad field like any other: a 422
    naming `contract_id`."""
    problems = contract_id_problems(session, actor, contract_id, location)
    if problems:
        raise failed(problems)
    return get_contract(session, actor, contract_id)


def contract_id_problems(
    session: Session, actor: Principal, contract_id: str | None, location: str = "body"
) -> list[FieldError]:
    """`contract_named`'s problem, for a check run on a request the schema refused too."""
    if contract_id is None:
        return []
    try:
        get_contract(session, actor, contract_id)
    except NotFound:
        return [FieldError(location, "contract_id", f"no contract with id {contract_id}")]
    return []


def list_contracts(
    session: Session, actor: Principal, params: PageParams, client_id: str | None
) -> tuple[Sequence[Contract], str | None]:
    scope = actor.scoped_client_id
    if scope is not None and client_id not in (None, scope):
        return [], None
    return ContractRepository(session).list_page(params, scope or client_id)


def contract_by_reference(session: Session, client_id: str, reference: str) -> Contract | None:
    """The client's contract with this reference, if any, for loaders acting as the system."""
    return ContractRepository(session).by_reference(client_id, reference)


def check_contract_update(
    session: Session, actor: Principal, raw: checks.RawRequest
) -> list[FieldError]:
    """The merged terms of a patch whose schema failed, checked on its valid fields (a new
    `ends_on` before the stored `starts_on` is named with the other bad fields)."""
    contract = get_contract(session, actor, raw.path["contract_id"])
    fields = checks.salvage(schemas.ContractUpdate, raw.body)
    nullable = schemas.ContractUpdate.NULLABLE
    changes = {k: v for k, v in fields.items() if v is not None or k in nullable}
    return _merged_terms_problems(contract, changes)


def _merged_terms_problems(contract: Contract, changes: dict[str, Any]) -> list[FieldError]:
    current = {name: getattr(contract, name) for name in schemas.ContractTermsFields.model_fields}
    try:
        schemas.ContractTermsFields.model_validate({**current, **_without_reference(changes)})
    except ValidationError as exc:
        return field_errors_from(exc.errors(), location="body")
    return []


def update_contract(
    session: Session, actor: Principal, contract_id: str, patch: schemas.ContractUpdate
) -> Contract:
    """Apply renegotiated terms after checking the merged terms as a whole (a new `ends_on`
    must still follow the existing `starts_on`, and so on)."""
    contract = get_contract(session, actor, contract_id)
    changes = patch.model_dump(exclude_unset=True)
    if "reference" in changes and changes["reference"] != contract.reference:
        _ensure_reference_free(
            ContractRepository(session), contract.client_id, changes["reference"]
        )
    problems = _merged_terms_problems(contract, changes)
    if problems:
        raise failed(problems)
    _ensure_history_kept(session, contract, changes)
    before = {name: getattr(contract, name) for name in changes}
    amended = {name: changes.pop(name) for name in terms.TERM_FIELDS if name in changes}
    for name, value in changes.items():
        setattr(contract, name, value)
    session.flush()
    amendment = None
    if any(getattr(contract, name) != value for name, value in amended.items()):
        period = next_open_period(session, contract, amended, utc_now())
        amendment = _amend(session, actor, contract, period, amended, backdate=False).amendment
    audit.record(
        session,
        actor,
        "contract.updated",
        "contract",
        contract.id,
        {
            "before": before,
            "after": {**changes, **amended},
            "amendment_id": amendment.id if amendment else None,
        },
    )
    return contract


# Amendments: the dated charter terms


def _amended_from_start(session: Session, contract: Contract) -> list[ContractAmendment]:
    """The contract's amendments, the first one (its terms from the start) made if missing."""
    history = AmendmentRepository(session).for_contracts([contract.id])[contract.id]
    if history:
        return history
    first = ContractAmendment(
        contract_id=contract.id,
        effective_from=Period.of(contract.starts_on).first_day,
        backdated=False,
        **{name: getattr(contract, name) for name in terms.TERM_FIELDS},
    )
    return [AmendmentRepository(session).add(first)]


def terms_for(
    session: Session, contract_list: Sequence[ContractFacts], period: Period
) -> dict[str, Terms]:
    """The terms in force in `period` for each contract, in one query."""
    history = AmendmentRepository(session).for_contracts([c.id for c in contract_list])
    return {c.id: terms.in_force(c, history[c.id], period.first_day) for c in contract_list}


def terms_of_period(session: Session, contract: Contract, period: Period) -> Terms:
    return terms_for(session, [contract], period)[contract.id]


@dataclass(frozen=True)
class ContractDetail:
    contract: Contract
    terms_in_force: Terms
    amendments: list[ContractAmendment]


def get_contract_detail(session: Session, actor: Principal, contract_id: str) -> ContractDetail:
    """A contract with the terms of the period under way and its amendment history."""
    contract = get_contract(session, actor, contract_id)
    history = AmendmentRepository(session).for_contracts([contract.id])[contract.id]
    today = period_of(utc_now(), ZoneInfo(contract.timezone))
    return ContractDetail(contract, terms.in_force(contract, history, today.first_day), history)


def next_open_period(
    session: Session, contract: Contract, amended: dict[str, Any], now: datetime
) -> Period:
    """The first period an amendment may still change: not started, and whose commitment
    deadline has not passed under the old terms or the new (whichever comes first)."""
    history = _amended_from_start(session, contract)
    zone = ZoneInfo(contract.timezone)
    period = max(period_of(now, zone).next(), Period.of(contract.starts_on))
    while _deadline(contract, history, period, amended) <= now:
        period = period.next()
    if contract.ends_on is not None and period.first_day >= contract.ends_on:
        raise Conflict(
            f"Contract {contract.id} ends on {contract.ends_on}: no period is left whose "
            "terms may still change; amend a past period explicitly (back-dated) instead."
        )
    return period


def _deadline(
    contract: Contract, history: list[ContractAmendment], period: Period, amended: dict[str, Any]
) -> datetime:
    current = terms.in_force(contract, history, period.first_day).commitment_deadline_days
    days = max(current, amended.get("commitment_deadline_days", current))
    return commitment_deadline(period, ZoneInfo(contract.timezone), days)


@dataclass(frozen=True)
class Amended:
    amendment: ContractAmendment
    invoices_to_correct: list[str]


def amend(
    session: Session, actor: Principal, contract_id: str, data: schemas.AmendmentCreate
) -> Amended:
    """Terms from a period on. A period already invoiced or past its commitment deadline is
    changed only with `backdate` (admin consent): audited, with the invoices to correct."""
    contract = get_contract(session, actor, contract_id)
    period = Period.parse(data.effective_from)
    changes = data.model_dump(exclude={"effective_from", "backdate"}, exclude_none=True)
    result = _amend(session, actor, contract, period, changes, data.backdate)
    audit.record(
        session,
        actor,
        "contract.amended",
        "contract",
        contract.id,
        {
            "amendment_id": result.amendment.id,
            "effective_from": str(period),
            "changes": _json(schemas.AmendedTerms(**changes)),
            "backdated": result.amendment.backdated,
            "invoices_to_correct": result.invoices_to_correct,
        },
    )
    return result


def _amend(
    session: Session,
    actor: Principal,
    contract: Contract,
    period: Period,
    changes: dict[str, Any],
    backdate: bool,
) -> Amended:
    history = _amended_from_start(session, contract)
    current = terms.in_force(contract, history, period.first_day)
    merged = {name: changes.get(name, getattr(current, name)) for name in terms.TERM_FIELDS}
    later = [row.effective_from for row in history if row.effective_from > period.first_day]
    touched = dependents.Scope(contract, [], since=period.first_day, until=min(later, default=None))
    invoices = dependents.find(session, touched, ("invoices",))
    blockers = list(invoices)
    deadline = _deadline(contract, history, period, changes)
    if deadline <= utc_now():
        blockers.append(f"the commitment deadline of {period} passed on {deadline.isoformat()}")
    dependents.refuse_unless_backdated(blockers, backdate, f"Terms from {period}")
    amendment = AmendmentRepository(session).add(
        ContractAmendment(
            contract_id=contract.id,
            effective_from=period.first_day,
            backdated=bool(blockers),
            created_by_key_id=actor.key_id,
            **merged,
        )
    )
    latest = max([*history, amendment], key=lambda row: (row.effective_from, row.created_at))
    for name in terms.TERM_FIELDS:
        setattr(contract, name, getattr(latest, name))
    session.flush()
    return Amended(amendment, invoices)


_EVERYTHING: tuple[dependents.Kind, ...] = ("volumes", "commitments", "invoices")
_ON_THE_GRID: tuple[dependents.Kind, ...] = ("volumes", "forecasts")
"""What an activity's interval grid shapes: its recorded intervals and its interval forecasts.
Commitments and invoices are monthly quantities, the same on any grid; whatever they were
derived from is among the recorded intervals."""


def _ensure_history_kept(session: Session, contract: Contract, changes: dict[str, Any]) -> None:
    """Refuse (409) a change that would reinterpret what was recorded or billed under the
    contract: its currency (the invoices' money), its time zone (the interval grid, the
    periods and deadlines), or dates that would leave records outside the contract."""
    activity_ids = [a.id for a in activities_of(session, [contract.id])]
    everything = dependents.Scope(contract, activity_ids)
    if changes.get("currency", contract.currency) != contract.currency:
        dependents.refuse_if_any(session, everything, ("invoices",), "Changing the currency")
    if changes.get("timezone", contract.timezone) != contract.timezone:
        dependents.refuse_if_any(session, everything, _EVERYTHING, "Changing the time zone")
    starts_on = changes.get("starts_on", contract.starts_on)
    if starts_on > contract.starts_on:
        dependents.refuse_if_any(
            session,
            dependents.Scope(contract, activity_ids, until=starts_on),
            _EVERYTHING,
            f"Starting the contract on {starts_on}",
        )
    ends_on = changes.get("ends_on", contract.ends_on)
    if ends_on is not None and (contract.ends_on is None or ends_on < contract.ends_on):
        dependents.refuse_if_any(
            session,
            dependents.Scope(contract, activity_ids, since=ends_on),
            _EVERYTHING,
            f"Ending the contract on {ends_on}",
        )


def _without_reference(changes: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in changes.items() if name != "reference"}


def _ensure_reference_free(contracts: ContractRepository, client_id: str, reference: str) -> None:
    if contracts.by_reference(client_id, reference) is not None:
        raise Conflict(f"The client already has a contract with reference {reference!r}.")


# Activities and prices


def create_activity(
    session: Session, actor: Principal, contract_id: str, data: schemas.ActivityCreate
) -> Activity:
    contract = get_contract(session, actor, contract_id)
    activities = ActivityRepository(session)
    if activities.by_name(contract.id, data.name) is not None:
        raise Conflict(f"The contract already has an activity named {data.name!r}.")
    activity = activities.add(
        Activity(contract_id=contract.id, **data.model_dump(exclude={"prices"}))
    )
    prices = PriceRepository(session)
    for price in data.prices:
        prices.add(ActivityPrice(activity_id=activity.id, **price.model_dump()))
    audit.record(session, actor, "activity.created", "activity", activity.id, _json(data))
    return get_activity(session, actor, activity.id)


def get_activity(session: Session, actor: Principal, activity_id: str) -> Activity:
    return get_activity_and_contract(session, actor, activity_id)[0]


def get_activity_and_contract(
    session: Session, actor: Principal, activity_id: str
) -> tuple[Activity, Contract]:
    """An activity with its contract (time zone, terms), as every downstream domain needs."""
    activity = ActivityRepository(session).get_with_prices(activity_id)
    if activity is None:
        raise NotFound(f"No activity with id {activity_id}.")
    contract = ContractRepository(session).get(activity.contract_id)
    assert contract is not None, "activities.contract_id is a foreign key"
    actor.ensure_can_see(contract.client_id, "activity", activity_id)
    return activity, contract


def list_activities(
    session: Session, actor: Principal, contract_id: str, params: PageParams
) -> tuple[Sequence[Activity], str | None]:
    contract = get_contract(session, actor, contract_id)
    return ActivityRepository(session).list_page(params, contract.id)


def all_activities(session: Session, actor: Principal, contract_id: str) -> Sequence[Activity]:
    """Every activity of a contract, unpaged (a contract has a handful)."""
    contract = get_contract(session, actor, contract_id)
    return activities_of(session, [contract.id])


def visible_activities(session: Session, actor: Principal) -> list[Activity]:
    """Every activity of every contract the key may see."""
    contract_ids = [
        contract.id for contract in ContractRepository(session).all_for(actor.scoped_client_id)
    ]
    return activities_of(session, contract_ids)


def activities_of(session: Session, contract_ids: Sequence[str]) -> list[Activity]:
    """The activities (with prices) of many contracts at once, for batch computations that
    have already checked who may see those contracts."""
    return ActivityRepository(session).for_contracts(contract_ids)


def activity_rows(session: Session, contract_ids: Sequence[str]) -> list[ActivityRow]:
    """`activities_of` as plain rows, for a reader of every activity of a portfolio (see
    `facts`)."""
    return ActivityRepository(session).rows_for_contracts(contract_ids)


def contracts_in_force(session: Session, period_start: date, period_end: date) -> list[Contract]:
    """Contracts whose dates overlap [period_start, period_end), in id order."""
    return ContractRepository(session).overlapping(period_start, period_end)


def contract_rows_in_force(
    session: Session, period_start: date, period_end: date, among: Sequence[str] | None
) -> list[ContractRow]:
    """`contracts_in_force` as plain rows, of those in `among` if given (one batch of a stored
    run), for invoice runs (see `facts`)."""
    return ContractRepository(session).rows_overlapping(period_start, period_end, among)


def contract_ids_in_force(session: Session, period_start: date, period_end: date) -> list[str]:
    """The ids of `contracts_in_force`, in id order."""
    return ContractRepository(session).overlapping_ids(period_start, period_end)


def in_force(contract: Contract, period: Period) -> bool:
    """Whether the contract's dates overlap the period (a contract may start mid-month)."""
    return period.next().first_day > contract.starts_on and (
        contract.ends_on is None or period.first_day < contract.ends_on
    )


def update_activity(
    session: Session, actor: Principal, activity_id: str, patch: schemas.ActivityUpdate
) -> Activity:
    activity, contract = get_activity_and_contract(session, actor, activity_id)
    changes = patch.model_dump(exclude_unset=True)
    renamed = changes.get("name", activity.name) != activity.name
    if renamed and ActivityRepository(session).by_name(activity.contract_id, changes["name"]):
        raise Conflict(f"The contract already has an activity named {changes['name']!r}.")
    grid = changes.get("interval_minutes", activity.interval_minutes)
    if grid != activity.interval_minutes:
        dependents.refuse_if_any(
            session,
            dependents.Scope(contract, [activity.id]),
            _ON_THE_GRID,
            f"Changing the interval grid from {activity.interval_minutes} to {grid} minutes",
        )
    before = {name: getattr(activity, name) for name in changes}
    for name, value in changes.items():
        setattr(activity, name, value)
    session.flush()
    audit.record(
        session,
        actor,
        "activity.updated",
        "activity",
        activity.id,
        {"before": before, "after": changes},
    )
    return activity


@dataclass(frozen=True)
class PriceAdded:
    price: ActivityPrice
    invoices_to_correct: list[str]


def add_price(
    session: Session, actor: Principal, activity_id: str, data: schemas.PriceAdd
) -> PriceAdded:
    """Indexation (charter axis 5) adds a price row; existing rows are never edited. A row
    taking effect in a period already invoiced (whose invoice would no longer re-derive) is a
    409 naming the invoices, unless an admin back-dates it (`backdate`): audited, with the
    invoices to correct listed."""
    activity, contract = get_activity_and_contract(session, actor, activity_id)
    invoices = dependents.find(
        session,
        dependents.Scope(contract, [activity.id], since=data.effective_from),
        ("invoices",),
    )
    dependents.refuse_unless_backdated(
        invoices, data.backdate, f"A price from {data.effective_from}"
    )
    prices = PriceRepository(session)
    if prices.effective_on(activity.id, data.effective_from) is not None:
        raise Conflict(
            f"A price already takes effect on {data.effective_from} for this activity; "
            "prices are never edited: add a row with another effective_from."
        )
    row = data.model_dump(exclude={"backdate"})
    price = prices.add(ActivityPrice(activity_id=activity.id, **row))
    audit.record(
        session,
        actor,
        "price.created",
        "activity_price",
        price.id,
        {**_json(data), "backdated": bool(invoices), "invoices_to_correct": invoices},
    )
    return PriceAdded(price, invoices)


def list_prices(session: Session, actor: Principal, activity_id: str) -> Sequence[ActivityPrice]:
    activity = get_activity(session, actor, activity_id)
    return PriceRepository(session).for_activity(activity.id)
