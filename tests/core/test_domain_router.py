"""A domain router refuses at once a path none of its routes matches (issue 17), and never one
that a route of it would answer."""

import re
from typing import Any

import pytest
from fastapi.routing import APIRoute
from hypothesis import given
from hypothesis import strategies as st

from app.contracts.router import router as contracts_router
from app.core.auth import Role
from app.core.domain_router import DomainRouter
from app.main import DOMAIN_ROUTERS

from factories import bearer

_PARAMETER = re.compile(r"\{[^}]*\}")
SEGMENTS = st.text(st.characters(codec="utf-8", exclude_characters="/"), min_size=1, max_size=12)
ROUTES = [
    (router, route)
    for router in DOMAIN_ROUTERS
    for route in router.routes
    if isinstance(route, APIRoute)
]


def test_every_v1_router_is_a_domain_router() -> None:
    assert ROUTES
    assert all(isinstance(router, DomainRouter) for router in DOMAIN_ROUTERS)


@pytest.mark.parametrize(("router", "route"), ROUTES, ids=[r.path for _, r in ROUTES])
@given(values=st.lists(SEGMENTS, min_size=4, max_size=4))
def test_a_path_its_route_matches_passes_its_router(
    router: DomainRouter, route: APIRoute, values: list[str]
) -> None:
    parameters = iter(values)
    path = _PARAMETER.sub(lambda _: next(parameters), route.path)
    if route.path_regex.match(path) is None:  # a convertor the value does not fit
        return
    assert router.may_hold(path)


def _router_of(path: str) -> DomainRouter:
    router = DomainRouter(tags=["test"])
    router.add_api_route(path, lambda: None, methods=["GET"])
    return router


def test_the_pattern_of_a_path_parameter_takes_any_rest() -> None:
    assert _router_of("/files/{name:path}").may_hold("/v1/files/a/b/c.pdf")
    assert not _router_of("/files/{name}").may_hold("/v1/files/a/b")
    assert not _router_of("/invoices").may_hold("/v1/invoices/inv_1")


def test_a_request_for_a_later_router_does_not_walk_the_routes_of_an_earlier_one(
    client: Any, db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    walked: list[str] = []
    for route in contracts_router.routes:
        assert isinstance(route, APIRoute)

        def counting(scope: Any, route: APIRoute = route, matches: Any = route.matches) -> Any:
            walked.append(route.path)
            return matches(scope)

        monkeypatch.setattr(route, "matches", counting)
    headers = bearer(db, Role.ADMIN)

    response = client.get("/v1/invoice-runs/run_unknown", headers=headers)
    assert response.status_code == 404, response.text
    assert response.json()["detail"].startswith("No invoice run")
    assert walked == []

    assert client.get("/v1/clients", headers=headers).status_code == 200
    assert "/v1/clients" in walked
