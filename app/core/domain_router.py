"""`DomainRouter`: the router each domain declares its `/v1` operations on.

FastAPI (0.165) matches a request against the routers the app includes one after the other,
and within each router route by route, twice per request (once to choose the route, once to
handle it), with some bookkeeping for every candidate. Measured in-process, reaching a route
behind 100 others in 10 included routers took 145 µs, against 32 µs for the first route: for
the operations whose router comes late (invoices, staffing, the operations routes), walking the
routers before theirs was the largest part of the framework's time per request.

A domain router refuses in one regular expression a request path that none of its routes could
match, so a request only walks the routes of the routers that may hold it. The expression is a
prefilter built from the routes' own compiled patterns (Starlette's, their named groups made
plain so that they can stand side by side): it accepts exactly the paths some route of the router
accepts, so it never changes which route answers a request, only how fast the other routers are
passed.
"""

import re
from enum import Enum

from fastapi.routing import APIRoute, APIRouter
from starlette._utils import get_route_path
from starlette.routing import Match
from starlette.types import Scope

from app.core.routing import TransactionalRoute

API_PREFIX = "/v1"

_NAMED_GROUP = re.compile(r"\(\?P<\w+>")


def _plain_pattern(route: APIRoute) -> str:
    """The route's own path regex with its named groups made plain (a union may not repeat a
    group name, and `{contract_id}` is in several routes)."""
    return _NAMED_GROUP.sub("(?:", route.path_regex.pattern)


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
        return self._prefilter[1].match(path) is not None

    def _compile(self) -> re.Pattern[str]:
        if not all(isinstance(route, APIRoute) for route in self.routes):
            return re.compile(".*", re.DOTALL)  # something else (a mount): no prefilter
        patterns = {_plain_pattern(route) for route in self.routes if isinstance(route, APIRoute)}
        return re.compile("|".join(f"(?:{p})" for p in sorted(patterns)))
