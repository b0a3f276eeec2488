"""All SQL of the commitments domain."""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import bindparam, func, select

from app.commitments import binding
from app.commitments.tables import Adjustment, CommitmentLine, CommitmentVersion
from app.core.pagination import PageParams
from app.core.repository import Repository, one_of_parameter
from app.core.statements import Prebuilt

# Statements of every shortfall's reads, built once (see `Repository.rows`); their columns are
# named as the fields of what they are read into.
_LINES_OF_PERIOD = Prebuilt(
    select(
        CommitmentLine.activity_id,
        CommitmentLine.volume,
        CommitmentLine.aht_seconds,
        CommitmentVersion.id.label("version_id"),
        CommitmentVersion.received_at,
        CommitmentVersion.label,
        CommitmentVersion.source,
    )
    .join(CommitmentVersion, CommitmentVersion.id == CommitmentLine.version_id)
    .where(
        one_of_parameter(CommitmentLine.activity_id, "activity_ids"),
        CommitmentLine.period == bindparam("period"),
    )
)
_ADJUSTMENTS_OF_PERIOD = Prebuilt(
    select(Adjustment.activity_id, Adjustment.units).where(
        one_of_parameter(Adjustment.activity_id, "activity_ids"),
        Adjustment.period == bindparam("period"),
    )
)


@dataclass(frozen=True, kw_only=True)
class StoredLine(binding.CommitmentLine):
    """A version's line of one (activity, period), as the binding rule reads it (so that an
    invoice run hands its ten thousands to the rule as they are read, not as copies), with its
    activity and what the binding endpoint reads of its version."""

    activity_id: str
    label: str | None
    source: str


class CommitmentRepository(Repository[CommitmentVersion]):
    model = CommitmentVersion

    def add_version(self, version: CommitmentVersion, lines: list[CommitmentLine]) -> None:
        self.session.add(version)
        self.session.flush()
        for line in lines:
            line.version_id = version.id
        self.session.add_all(lines)
        self.session.flush()

    def lines_for(self, activity_ids: list[str], period: str) -> list[StoredLine]:
        """Every version's line for `period` of these activities, with its version, as plain
        columns (an invoice run reads one per activity of ten thousand contracts: ORM objects
        cost more than the rule computed with them)."""
        parameters = {"activity_ids": activity_ids, "period": period}
        rows = self.rows(_LINES_OF_PERIOD, parameters)
        return [StoredLine(**_LINES_OF_PERIOD.named(row)) for row in rows]

    def periods_committed(
        self, activity_ids: Sequence[str], first: str | None, last: str | None
    ) -> list[tuple[str, str, str]]:
        """(activity, first period, last period) of the lines between `first` and `last`."""
        statement = select(
            CommitmentLine.activity_id,
            func.min(CommitmentLine.period),
            func.max(CommitmentLine.period),
        ).where(CommitmentLine.activity_id.in_(activity_ids))
        if first is not None:
            statement = statement.where(CommitmentLine.period >= first)
        if last is not None:
            statement = statement.where(CommitmentLine.period <= last)
        rows = self.session.execute(statement.group_by(CommitmentLine.activity_id)).all()
        return [(activity, low, high) for activity, low, high in rows]

    def versions_page(
        self, activity_id: str, params: PageParams
    ) -> tuple[list[tuple[CommitmentVersion, list[CommitmentLine]]], str | None]:
        """A page of the versions with a line for the activity, newest receipt first, each with
        that activity's lines, and the cursor of the next page."""
        having_line = select(CommitmentLine.version_id).where(
            CommitmentLine.activity_id == activity_id
        )
        versions, next_cursor = self.page(
            self.select().where(CommitmentVersion.id.in_(having_line)),
            params,
            by=CommitmentVersion.received_at,
            newest_first=True,
        )
        lines = self.session.scalars(
            select(CommitmentLine)
            .where(
                CommitmentLine.activity_id == activity_id,
                CommitmentLine.version_id.in_([version.id for version in versions]),
            )
            .order_by(CommitmentLine.period)
        ).all()
        by_version: dict[str, list[CommitmentLine]] = {version.id: [] for version in versions}
        for line in lines:
            by_version[line.version_id].append(line)
        return [(version, by_version[version.id]) for version in versions], next_cursor

    def add_adjustment(self, adjustment: Adjustment) -> Adjustment:
        self.session.add(adjustment)
        self.session.flush()
        return adjustment

    def adjustments(self, activity_id: str, period: str | None = None) -> Sequence[Adjustment]:
        statement = select(Adjustment).where(Adjustment.activity_id == activity_id)
        if period is not None:
            statement = statement.where(Adjustment.period == period)
        return self.session.scalars(statement.order_by(Adjustment.id)).all()

    def adjustment_totals(self, activity_ids: list[str], period: str) -> dict[str, Decimal]:
        """Σ units per activity, summed in Python: SQLite keeps exact decimals as text."""
        totals: dict[str, Decimal] = {}
        parameters = {"activity_ids": activity_ids, "period": period}
        for activity_id, units in self.rows(_ADJUSTMENTS_OF_PERIOD, parameters):
            totals[activity_id] = totals.get(activity_id, Decimal(0)) + units
        return totals
