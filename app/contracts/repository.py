"""All SQL of the reference-data domain."""

from collections.abc import Sequence
from dataclasses import fields
from datetime import date
from itertools import groupby
from operator import itemgetter

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from app.contracts.facts import ActivityRow, ContractRow, PriceRow
from app.contracts.tables import Activity, ActivityPrice, Client, Contract, ContractAmendment
from app.core.pagination import PageParams
from app.core.repository import Repository, one_of, one_of_parameter
from app.core.snapshots import PrebuiltObjects, read_only
from app.core.statements import Prebuilt

_IN_CLAUSE_SIZE = 500

# Statements of every request's reads, built once (see `Repository.rows`).
_ACTIVITIES_WITH_PRICES = Prebuilt(
    select(
        Activity.id,
        Activity.contract_id,
        Activity.name,
        Activity.billing_unit,
        Activity.volume_basis,
        Activity.reference_aht_seconds,
        ActivityPrice.effective_from,
        ActivityPrice.unit_price,
    )
    .outerjoin(ActivityPrice, ActivityPrice.activity_id == Activity.id)
    .where(one_of_parameter(Activity.contract_id, "contract_ids"))
    .order_by(Activity.id, ActivityPrice.effective_from)
)
_ACTIVITIES_OF_CONTRACTS = PrebuiltObjects(
    select(Activity)
    .where(one_of_parameter(Activity.contract_id, "contract_ids"))
    .order_by(Activity.id)
)
_PRICES_OF_ACTIVITIES = PrebuiltObjects(
    select(ActivityPrice)
    .where(one_of_parameter(ActivityPrice.activity_id, "activity_ids"))
    .order_by(ActivityPrice.activity_id, ActivityPrice.effective_from)
)
_AMENDMENTS_OF_CONTRACTS = PrebuiltObjects(
    select(ContractAmendment)
    .where(one_of_parameter(ContractAmendment.contract_id, "contract_ids"))
    .order_by(ContractAmendment.effective_from, ContractAmendment.created_at, ContractAmendment.id)
)


class ClientRepository(Repository[Client]):
    model = Client

    def by_siren(self, siren: str) -> Client | None:
        return self.session.scalars(select(Client).where(Client.siren == siren)).first()

    def list_page(
        self, params: PageParams, only_client_id: str | None
    ) -> tuple[Sequence[Client], str | None]:
        statement = self.select()
        if only_client_id is not None:
            statement = statement.where(Client.id == only_client_id)
        return self.page(statement, params)


class ContractRepository(Repository[Contract]):
    model = Contract

    def by_reference(self, client_id: str, reference: str) -> Contract | None:
        return self.session.scalars(
            select(Contract).where(Contract.client_id == client_id, Contract.reference == reference)
        ).first()

    def all_for(self, client_id: str | None) -> list[Contract]:
        """Every contract, or every contract of one client."""
        statement = select(Contract).order_by(Contract.id)
        if client_id is not None:
            statement = statement.where(Contract.client_id == client_id)
        return list(self.session.scalars(statement))

    def overlapping(self, start: date, end: date) -> list[Contract]:
        """The contracts whose dates overlap [start, end)."""
        return list(
            self.session.scalars(select(Contract).where(_overlap(start, end)).order_by(Contract.id))
        )

    def rows_overlapping(
        self, start: date, end: date, among: Sequence[str] | None
    ) -> list[ContractRow]:
        """`overlapping` as plain rows, of those in `among` if given (one parameter however
        many, `one_of`)."""
        statement = select(*_CONTRACT_ROW_COLUMNS).where(_overlap(start, end))
        if among is not None:
            statement = statement.where(one_of(Contract.id, among))
        rows = self.session.execute(statement.order_by(Contract.id))
        return [ContractRow(*row) for row in rows]

    def overlapping_ids(self, start: date, end: date) -> list[str]:
        """The ids of `overlapping`, in id order: what an invoice run splits into batches,
        without an ORM object per contract of the portfolio."""
        return list(
            self.session.scalars(
                select(Contract.id).where(_overlap(start, end)).order_by(Contract.id)
            )
        )

    def list_page(
        self, params: PageParams, client_id: str | None
    ) -> tuple[Sequence[Contract], str | None]:
        statement = self.select()
        if client_id is not None:
            statement = statement.where(Contract.client_id == client_id)
        return self.page(statement, params)


_CONTRACT_ROW_COLUMNS = [getattr(Contract, field.name) for field in fields(ContractRow)]


def _overlap(start: date, end: date) -> ColumnElement[bool]:
    """A contract's dates overlap [start, end)."""
    return and_(Contract.starts_on < end, or_(Contract.ends_on.is_(None), Contract.ends_on > start))


class ActivityRepository(Repository[Activity]):
    model = Activity

    def get_with_prices(self, activity_id: str) -> Activity | None:
        """An activity with its prices loaded; in a read request, snapshots of both
        (`_with_prices`)."""
        if read_only(self.session):
            activity = self.get(activity_id)
            return None if activity is None else self._with_prices([activity])[0]
        return self.session.scalars(
            select(Activity)
            .where(Activity.id == activity_id)
            .options(selectinload(Activity.prices))
        ).first()

    def by_name(self, contract_id: str, name: str) -> Activity | None:
        return self.session.scalars(
            select(Activity).where(Activity.contract_id == contract_id, Activity.name == name)
        ).first()

    def for_contracts(self, contract_ids: Sequence[str]) -> list[Activity]:
        """Every activity of these contracts with its prices, in id order per batch; in a
        read request, snapshots of both, in id order."""
        if read_only(self.session):
            parameters = {"contract_ids": contract_ids}
            return self._with_prices(_ACTIVITIES_OF_CONTRACTS.all(self.session, parameters))
        found: list[Activity] = []
        for first in range(0, len(contract_ids), _IN_CLAUSE_SIZE):
            found += self.session.scalars(
                select(Activity)
                .where(Activity.contract_id.in_(contract_ids[first : first + _IN_CLAUSE_SIZE]))
                .options(selectinload(Activity.prices))
                .order_by(Activity.id)
            ).all()
        return found

    def _with_prices(self, activities: Sequence[Activity]) -> list[Activity]:
        """Snapshots of activities given their prices, read in one select and set as loaded
        (a select with `selectinload` cost two ORM executions)."""
        if not activities:
            return []
        parameters = {"activity_ids": [activity.id for activity in activities]}
        prices: dict[str, list[ActivityPrice]] = {activity.id: [] for activity in activities}
        for price in _PRICES_OF_ACTIVITIES.all(self.session, parameters):
            prices[price.activity_id].append(price)
        for activity in activities:
            set_committed_value(activity, "prices", prices[activity.id])
        return list(activities)

    def rows_for_contracts(self, contract_ids: Sequence[str]) -> list[ActivityRow]:
        """`for_contracts` as plain rows, in id order: the activities joined with their
        prices (by date) in one query, each activity's rows one after the other."""
        found: list[ActivityRow] = []
        rows_read = self.rows(_ACTIVITIES_WITH_PRICES, {"contract_ids": contract_ids})
        for _, rows in groupby(rows_read, key=itemgetter(0)):
            group = list(rows)
            prices = tuple(PriceRow(row[6], row[7]) for row in group if row[6] is not None)
            found.append(ActivityRow(*group[0][:6], prices))
        return found

    def list_page(
        self, params: PageParams, contract_id: str
    ) -> tuple[Sequence[Activity], str | None]:
        statement = (
            self.select()
            .where(Activity.contract_id == contract_id)
            .options(selectinload(Activity.prices))
        )
        return self.page(statement, params)


class PriceRepository(Repository[ActivityPrice]):
    model = ActivityPrice

    def effective_on(self, activity_id: str, effective_from: date) -> ActivityPrice | None:
        return self.session.scalars(
            select(ActivityPrice).where(
                ActivityPrice.activity_id == activity_id,
                ActivityPrice.effective_from == effective_from,
            )
        ).first()

    def for_activity(self, activity_id: str) -> Sequence[ActivityPrice]:
        return self.session.scalars(
            select(ActivityPrice)
            .where(ActivityPrice.activity_id == activity_id)
            .order_by(ActivityPrice.effective_from)
        ).all()


class AmendmentRepository(Repository[ContractAmendment]):
    model = ContractAmendment

    def for_contracts(self, contract_ids: Sequence[str]) -> dict[str, list[ContractAmendment]]:
        """Every contract's amendments in the order they apply: by period, then creation."""
        found: dict[str, list[ContractAmendment]] = {i: [] for i in contract_ids}
        parameters = {"contract_ids": contract_ids}
        for row in _AMENDMENTS_OF_CONTRACTS.all(self.session, parameters):
            found[row.contract_id].append(row)
        return found
