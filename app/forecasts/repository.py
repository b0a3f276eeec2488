"""All SQL of the forecasts domain."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, defer

from app.core.pagination import PageParams
from app.core.repository import Repository
from app.forecasts.tables import ForecastJob, ForecastPoint, ForecastRun, SpecialDay


@dataclass(frozen=True)
class MonthRun:
    id: str
    samples: list[list[float]] | None


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
        volume), in one query of the columns a month forecast needs (no ORM objects: a
        portfolio's runs carry a million simulated totals)."""
        newest: dict[tuple[str, str], MonthRun] = {}
        if not activity_ids:
            return newest
        rows = self.session.execute(
            select(ForecastRun.id, ForecastRun.activity_id, ForecastRun.volume, ForecastRun.samples)
            .where(
                ForecastRun.activity_id.in_(activity_ids),
                ForecastRun.granularity == "month",
                ForecastRun.start <= last,
                ForecastRun.end >= first,
            )
            .order_by(ForecastRun.created_at.desc(), ForecastRun.id.desc())
        )
        for run_id, activity_id, volume, samples in rows:
            newest.setdefault((activity_id, volume), MonthRun(run_id, samples))
        return newest

    def points_of(self, run_ids: Sequence[str]) -> dict[str, list[ForecastPoint]]:
        """The points of many runs, in one query, each run's in time order."""
        found: dict[str, list[ForecastPoint]] = {run_id: [] for run_id in run_ids}
        if not run_ids:
            return found
        for point in self.session.scalars(
            select(ForecastPoint)
            .where(ForecastPoint.run_id.in_(run_ids))
            .order_by(ForecastPoint.run_id, ForecastPoint.period_start)
        ):
            found[point.run_id].append(point)
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

    def interrupt_unfinished_jobs(self) -> int:
        """Mark jobs a previous process left queued or running as interrupted."""
        result = self.session.execute(
            update(ForecastJob)
            .where(ForecastJob.status.in_(["queued", "running"]))
            .values(status="interrupted")
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
