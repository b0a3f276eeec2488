"""The schedules on the embedded runner (SQLite), where no procrastinate worker runs them.

On PostgreSQL, procrastinate's workers defer the periodic tasks (`queue.procrastinate_app`). On
the embedded default the server runs them itself, with the same cron settings (empty: off):
`LocalScheduler` runs on the task runner's thread, sleeps until the next occurrence of a
schedule, and starts its task on the runner. Each occurrence is first claimed in the database,
in the schedule's row of `schedule_runs`, so that:

- a server that was down when an occurrence fell runs it once when it starts again (the latest
  occurrence it missed, not each of them);
- two servers on one database file run an occurrence once: the claim is a conditional update
  of that row, which only one writer makes;
- a schedule seen for the first time starts from its latest occurrence without running it: a
  new installation does not invoice the month before at its first start.

Cron expressions are read in UTC, as procrastinate reads them.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from croniter import croniter
from sqlalchemy import update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from app.core.db import dialect_insert
from app.core.orm import utc_now
from app.core.queue import TASKS, LocalQueue
from app.core.tables import ScheduleRun

log = logging.getLogger("plancher.schedules")

LONGEST_SLEEP_SECONDS = 60.0
"""The scheduler looks at the clock at least this often, so that a wall clock set forward or
back (NTP, a machine woken from sleep) is noticed within a minute."""


class LocalScheduler:
    """Schedules (task name -> cron, `queue.schedules`) run on the runner (`LocalQueue`).

    `clock` and `sleep` are the wall clock and the wait between looks at it; tests hand in a
    clock of their own.
    """

    def __init__(
        self,
        runner: LocalQueue,
        crons: dict[str, str],
        clock: Callable[[], datetime] = utc_now,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._runner = runner
        self.crons = crons
        self._clock = clock
        self._sleep = sleep

    async def run(self) -> None:
        """Until cancelled: start what is due (or was missed), then sleep until the next
        occurrence. A database that does not answer is tried again at the next look."""
        while True:
            now = self._clock()
            try:
                await self.tick(now)
            except SQLAlchemyError as error:
                log.warning("schedules not checked: %s", type(error).__name__)
            await self._sleep(self.seconds_to_next(now))

    async def tick(self, now: datetime) -> list[str]:
        """Claim the schedules whose latest occurrence at `now` has not run yet and start
        their tasks; their names."""
        transactions = self._runner.runtime().transactions
        claimed = await transactions.write(lambda session: _claim(session, self.crons, now))
        for name in claimed:
            log.info("schedule %s: started", name)
            self._runner.submit(TASKS[name], {}, lock=name)
        return claimed

    def seconds_to_next(self, now: datetime) -> float:
        """Seconds from `now` to the next occurrence of any schedule (at most a minute)."""
        upcoming: list[datetime] = [
            croniter(cron, now).get_next(datetime) for cron in self.crons.values()
        ]
        return min([LONGEST_SLEEP_SECONDS, *((at - now).total_seconds() for at in upcoming)])


def _claim(session: Session, crons: dict[str, str], now: datetime) -> list[str]:
    claimed = []
    for name, cron in crons.items():
        # croniter's previous occurrence is strictly before its start: an occurrence falling
        # exactly at `now` is due now.
        latest = croniter(cron, now + timedelta(microseconds=1)).get_prev(datetime)
        first_sight = session.scalar(
            dialect_insert(session)(ScheduleRun)
            .values(name=name, due_at=latest, claimed_at=now)
            .on_conflict_do_nothing()
            .returning(ScheduleRun.name)
        )
        if first_sight is not None:
            continue
        won = session.execute(
            update(ScheduleRun)
            .where(ScheduleRun.name == name, ScheduleRun.due_at < latest)
            .values(due_at=latest, claimed_at=now)
        )
        if won.rowcount:  # type: ignore[attr-defined]
            claimed.append(name)
    return claimed
