"""All SQL of the forecasts domain."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session, defer

from app.core.pagination import PageParams
from app.core.repository import Repository, one_of_parameter
from app.core.statements import Prebuilt
from app.forecasts.samples import FloatArray, decode
from app.forecasts.tables import ForecastJob, ForecastPoint, ForecastRun, SpecialDay


@dataclass(frozen=True)
class MonthRun:
    id: str
    samples: FloatArray | None
    """The simulated totals of each point of the run, a row per point in point order."""


@dataclass(frozen=True)
class PointRow:
    """The columns of a forecast point a reader needs (a stored point without its ORM)."""

    period_start: datetime
    volume: Decimal
    bounds: dict[str, str]
    aht_seconds: Decimal | None


# Statements of every comparison's and shortfall's reads, built once (see `Repository.rows`).
_MONTH_RUNS = Prebuilt(
    select(ForecastRun.id, ForecastRun.activity_id, ForecastRun.volume)
    .where(
        one_of_parameter(ForecastRun.activity_id, "activity_ids"),
        ForecastRun.granularity == "month",
        ForecastRun.start <= bindparam("last"),
        ForecastRun.end >= bindparam("first"),
    )
    .order_by(ForecastRun.created_at.desc(), ForecastRun.id.desc())
)
_SAMPLES_OF_RUNS = Prebuilt(
    select(ForecastRun.id, ForecastRun.samples).where(one_of_parameter(ForecastRun.id, "run_ids"))
)
_POINTS_OF_RUNS = Prebuilt(
    select(
        ForecastPoint.run_id,
        ForecastPoint.period_start,
        ForecastPoint.volume,
        ForecastPoint.bounds,
        ForecastPoint.aht_seconds,
    )
    .where(one_of_parameter(ForecastPoint.run_id, "run_ids"))
    .order_by(ForecastPoint.run_id, ForecastPoint.period_start)
)


class _Runs(Repository[ForecastRun]):
    model = ForecastRun


class _Jobs(Repository[ForecastJob]):
    model = ForecastJob


class ForecastRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def runs_page(
        self, activity_id: str, granularity: str | None, volume: str | None, params: PageParams
    ) -> tuple[Sequence[ForecastRun], str | None]:
        """The activity's runs, newest first, without their samples (a list never shows them)."""
        statement = (
            select(ForecastRun)
            .where(ForecastRun.activity_id == activity_id)
            .options(defer(ForecastRun.samples))
        )
        if granularity is not None:
            statement = statement.where(ForecastRun.granularity == granularity)
        if volume is not None:
            statement = statement.where(ForecastRun.volume == volume)
        runs = _Runs(self.session)
        return runs.page(statement, params, by=ForecastRun.created_at, newest_first=True)

    def jobs_page(
        self,
        contract_ids: Sequence[str] | None,
        status: str | None,
        params: PageParams,
    ) -> tuple[Sequence[ForecastJob], str | None]:
        """Jobs newest first, of these contracts only unless `contract_ids` is None (all jobs,
        including those over every contract)."""
        statement = select(ForecastJob)
        if contract_ids is not None:
            statement = statement.where(ForecastJob.contract_id.in_(contract_ids))
        if status is not None:
            statement = statement.where(ForecastJob.status == status)
        jobs = _Jobs(self.session)
        return jobs.page(statement, params, by=ForecastJob.created_at, newest_first=True)

    def add_run(self, run: ForecastRun, points: list[ForecastPoint]) -> ForecastRun:
        self.session.add(run)
        self.session.flush()
        for point in points:
            point.run_id = run.id
        self.session.add_all(points)
        self.session.flush()
        return run

    def get_run(self, run_id: str) -> ForecastRun | None:
        return self.session.get(ForecastRun, run_id)

    def points(self, run_id: str) -> Sequence[ForecastPoint]:
        return self.session.scalars(
            select(ForecastPoint)
            .where(ForecastPoint.run_id == run_id)
            .order_by(ForecastPoint.period_start)
        ).all()

    def latest_month_run(
        self,
        activity_id: str,
        first: date,
        last: date,
        volume: str,
        history_end: date | None = None,
    ) -> ForecastRun | None:
        """The newest month forecast of `volume` contacts whose request touched [first, last]
        — month forecasts always cover whole months — made as of `history_end` when given."""
        statement = select(ForecastRun).where(
            ForecastRun.activity_id == activity_id,
            ForecastRun.granularity == "month",
            ForecastRun.volume == volume,
            ForecastRun.start <= last,
            ForecastRun.end >= first,
        )
        if history_end is not None:
            statement = statement.where(ForecastRun.history_end == history_end)
        return self.session.scalars(
            statement.order_by(ForecastRun.created_at.desc(), ForecastRun.id.desc())
        ).first()

    def interval_runs(self, activity_ids: Sequence[str]) -> list[tuple[str, int, date, date]]:
        """Per activity with interval forecasts: how many, and the days they span."""
        rows = self.session.execute(
            select(
                ForecastRun.activity_id,
                func.count(),
                func.min(ForecastRun.start),
                func.max(ForecastRun.end),
            )
            .where(ForecastRun.activity_id.in_(activity_ids), ForecastRun.granularity == "interval")
            .group_by(ForecastRun.activity_id)
            .order_by(ForecastRun.activity_id)
        ).all()
        return [(activity_id, count, first, last) for activity_id, count, first, last in rows]

    def newest_run_at(self) -> datetime | None:
        return self.session.scalar(select(func.max(ForecastRun.created_at)))

    def latest_run_id(self, activity_id: str, granularity: str, volume: str) -> str | None:
        return self.session.scalars(
            select(ForecastRun.id)
            .where(
                ForecastRun.activity_id == activity_id,
                ForecastRun.granularity == granularity,
                ForecastRun.volume == volume,
            )
            .order_by(ForecastRun.created_at.desc(), ForecastRun.id.desc())
            .limit(1)
        ).first()

    def latest_month_runs(
        self, activity_ids: Sequence[str], first: date, last: date
    ) -> dict[tuple[str, str], MonthRun]:
        """`latest_month_run` for many activities at once: the newest run per (activity,
        volume). Runs pile up (a forecast job a night), so the newest are chosen on their ids
        first and only their simulated totals are read, as stored (float64 bytes, no decoding):
        a portfolio's runs carry a million of them."""
        newest: dict[tuple[str, str], str] = {}
        if not activity_ids:
            return {}
        parameters = {"activity_ids": activity_ids, "first": first, "last": last}
        for run_id, activity_id, volume in _Runs(self.session).rows(_MONTH_RUNS, parameters):
            newest.setdefault((activity_id, volume), run_id)
        if not newest:
            return {}
        samples = self._samples_of(list(newest.values()))
        return {key: MonthRun(run_id, samples[run_id]) for key, run_id in newest.items()}

    def _samples_of(self, run_ids: list[str]) -> dict[str, FloatArray | None]:
        """The stored totals of these runs. With psycopg they are fetched in the binary
        protocol, in this transaction: in the text protocol a bytea travels hex-encoded, twice
        its size, and a portfolio's 7 MB of totals took a third longer to arrive."""
        connection = self.session.connection()
        if connection.dialect.driver == "psycopg":
            driver: Any = connection.connection.driver_connection
            with driver.cursor(binary=True) as cursor:
                cursor.execute(
                    "SELECT id, samples FROM forecast_runs WHERE id = ANY(%s)", (run_ids,)
                )
                return {
                    run_id: None if stored is None else decode(stored) for run_id, stored in cursor
                }
        rows = _Runs(self.session).rows(_SAMPLES_OF_RUNS, {"run_ids": run_ids})
        return {run_id: totals for run_id, totals in rows}

    def points_of(self, run_ids: Sequence[str]) -> dict[str, list[PointRow]]:
        """The points of many runs, in one query of their columns, each run's in time order."""
        found: dict[str, list[PointRow]] = {run_id: [] for run_id in run_ids}
        if not run_ids:
            return found
        rows = _Runs(self.session).rows(_POINTS_OF_RUNS, {"run_ids": run_ids})
        for run_id, period_start, volume, bounds, aht_seconds in rows:
            found[run_id].append(PointRow(period_start, volume, bounds, aht_seconds))
        return found

    def special_days(self, activity_id: str) -> Sequence[SpecialDay]:
        return self.session.scalars(
            select(SpecialDay).where(SpecialDay.activity_id == activity_id).order_by(SpecialDay.day)
        ).all()

    def special_day(self, special_day_id: str) -> SpecialDay | None:
        return self.session.get(SpecialDay, special_day_id)

    def special_day_on(self, activity_id: str, day: date) -> SpecialDay | None:
        return self.session.scalars(
            select(SpecialDay).where(SpecialDay.activity_id == activity_id, SpecialDay.day == day)
        ).first()

    def add(self, obj: SpecialDay | ForecastJob) -> None:
        self.session.add(obj)
        self.session.flush()

    def delete(self, obj: SpecialDay) -> None:
        self.session.delete(obj)
        self.session.flush()

    def get_job(self, job_id: str) -> ForecastJob | None:
        return self.session.get(ForecastJob, job_id)

    def lock_job(self, job_id: str) -> ForecastJob:
        """The job, locked until the transaction ends (its tasks record outcomes in turn)."""
        job = self.session.scalars(
            select(ForecastJob)
            .where(ForecastJob.id == job_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).one()
        return job

    def unfinished_jobs(self) -> Sequence[ForecastJob]:
        """Jobs still queued or running."""
        return self.session.scalars(
            select(ForecastJob).where(ForecastJob.status.in_(["queued", "running"]))
        ).all()
