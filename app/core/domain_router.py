"""`DomainRouter`: the router each domain declares its `/v1` operations on.

FastAPI (0.165) matches a request against the routers the app includes one after the other,
and within each router route by route, twice per request (once to choose the route, once to
handle it), with some bookkeeping for every candidate. Measured in-process, reaching a route
behind 100 others in 10 included routers took 145 µs, against 32 µs for the first route: for
the operations whose router comes late (invoices, staffing, the operations routes), walking the
routers before theirs was the largest part of the framework's time per request.

A domain router refuses in one regular expression a request path that none of its routes could
match, so a request only walks the routes of the routers that may hold it. The expression is a
prefilter: it accepts every path that a route of the router accepts (each path parameter as any
non-empty segment, a `:path` parameter as anything), so it never changes which route answers a
request, only how fast the other routers are passed.
"""

import re
from enum import Enum

from fastapi.routing import APIRoute, APIRouter
from starlette._utils import get_route_path
from starlette.routing import Match
from starlette.types import Scope

from app.core.routing import TransactionalRoute

API_PREFIX = "/v1"

_PARAMETER = re.compile(r"\{[^}]*\}")


def path_pattern(path: str) -> str:
    """A regular expression (unanchored) accepting at least what route `path` accepts."""
    parts, last = [], 0
    for parameter in _PARAMETER.finditer(path):
        parts.append(re.escape(path[last : parameter.start()]))
        parts.append(".*" if parameter.group().endswith(":path}") else "[^/]+")
        last = parameter.end()
    parts.append(re.escape(path[last:]))
    return "".join(parts)


class DomainRouter(APIRouter):
    """A `/v1` router whose operations run in a `TransactionalRoute`, and which refuses at once
    the requests none of its routes can match (see the module's docstring)."""

    def __init__(self, *, tags: list[str | Enum]) -> None:
        super().__init__(prefix=API_PREFIX, route_class=TransactionalRoute, tags=tags)
        self._prefilter: tuple[int, re.Pattern[str]] | None = None

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if not self.may_hold(get_route_path(scope)):
            return Match.NONE, {}
        return super().matches(scope)

    def may_hold(self, path: str) -> bool:
        """Whether a route of this router could match `path` (False: none can)."""
        if self._prefilter is None or self._prefilter[0] != len(self.routes):
            # Built on first use, when every route is declared; rebuilt if one is added later.
            self._prefilter = (len(self.routes), self._compile())
        return self._prefilter[1].fullmatch(path) is not None

    def _compile(self) -> re.Pattern[str]:
        if not all(isinstance(route, APIRoute) for route in self.routes):
            return re.compile(".*", re.DOTALL)  # something else (a mount): no prefilter
        paths = {route.path for route in self.routes if isinstance(route, APIRoute)}
        return re.compile("|".join(f"(?:{path_pattern(p)})" for p in sorted(paths)), re.DOTALL)
