"""What later domains hold that a contract's history depends on, so that a change of the
contract that would rewrite or strand it is refused with a 409 saying what depends on it.

The reference data come first in the import order (ARCHITECTURE.md): contracts may not query
volumes, commitments or invoices. Each of those domains registers a finder here instead, from
the composition root (`app.main`), and answers in words a person can act on.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from app.contracts.tables import Contract
from app.core.errors import Conflict
from app.core.periods import local_midnight

Kind = Literal["volumes", "forecasts", "commitments", "invoices"]


@dataclass(frozen=True)
class Scope:
    """Local dates [since, until) of a contract (None: unbounded), optionally some activities."""

    contract: Contract
    activity_ids: Sequence[str]
    since: date | None = None
    until: date | None = None

    def periods(self) -> tuple[str | None, str | None]:
        """The first and last `YYYY-MM` period overlapping the scope (None: unbounded)."""
        first = None if self.since is None else f"{self.since:%Y-%m}"
        last = None if self.until is None else f"{self.until - timedelta(days=1):%Y-%m}"
        return first, last

    def instants(self) -> tuple[datetime | None, datetime | None]:
        """The scope as instants [start, end) in the contract's time zone."""
        zone = ZoneInfo(self.contract.timezone)
        return (
            None if self.since is None else local_midnight(self.since, zone),
            None if self.until is None else local_midnight(self.until, zone),
        )


Finder = Callable[[Session, Scope], list[str]]
_finders: dict[Kind, Finder] = {}


def register(kind: Kind, finder: Finder) -> None:
    _finders[kind] = finder


def find(session: Session, scope: Scope, kinds: Sequence[Kind]) -> list[str]:
    """What the registered domains of `kinds` hold in `scope`, described."""
    return [found for kind in kinds if kind in _finders for found in _finders[kind](session, scope)]


def refuse_if_any(session: Session, scope: Scope, kinds: Sequence[Kind], change: str) -> None:
    """A 409 naming every dependent of `change`, when there is one."""
    dependents = find(session, scope, kinds)
    if dependents:
        raise Conflict(
            f"{change} would rewrite what depends on it: {'; '.join(dependents)}.",
            extra={"dependents": dependents},
        )


def refuse_unless_backdated(blockers: Sequence[str], backdate: bool, change: str) -> None:
    """A 409 naming what `change` would rewrite in settled periods, unless an admin consented
    to back-date it (`backdate`): the change is then made, audited, and the invoices it
    touches are reported for correction by the caller; nothing issued changes by itself."""
    if blockers and not backdate:
        raise Conflict(
            f"{change} would change what is settled: {'; '.join(blockers)}. "
            "Make it take effect later, or back-date it explicitly (backdate: true, admin).",
            extra={"dependents": list(blockers)},
        )
