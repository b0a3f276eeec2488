"""The role check of a `/v1` operation is one dependency with nothing under it (issue 17): it
reads the caller the route class authenticated, where a chain check -> authenticate ->
(session, bearer) cost FastAPI's dependency solver four levels per request to find it again;
and it still declares the bearer scheme in OpenAPI (the committed document is unchanged)."""

import inspect
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from app.core.auth import ReaderKey, RoleCheck
from app.core.db import get_session
from app.core.routing import TransactionalRoute
from app.dashboard.router import router as dashboard_router
from app.main import DOMAIN_ROUTERS, create_app


def _dependants(dependant: Dependant) -> Iterator[Dependant]:
    for sub in dependant.dependencies:
        yield sub
        yield from _dependants(sub)


def _routes() -> list[APIRoute]:
    routers = (*DOMAIN_ROUTERS, dashboard_router)
    routes = [route for router in routers for route in router.routes]
    routes += create_app().router.routes
    return [route for route in routes if isinstance(route, APIRoute)]


def _role_checks(route: APIRoute) -> list[Dependant]:
    return [sub for sub in _dependants(route.dependant) if isinstance(sub.call, RoleCheck)]


def test_every_role_check_is_one_level_in_a_transactional_route() -> None:
    checked = [route for route in _routes() if _role_checks(route)]
    assert len(checked) > 50  # every /v1 operation takes a key
    for route in checked:
        assert isinstance(route, TransactionalRoute), route.path
        for check in _role_checks(route):
            assert check.dependencies == [], route.path


def test_a_single_read_is_solved_in_two_levels() -> None:
    """The endpoint and its role check: nothing else for FastAPI to solve, as the route class
    hands the endpoint its session itself."""
    [contract_read] = [
        route
        for route in _routes()
        if route.path == "/v1/contracts/{contract_id}" and "GET" in (route.methods or ())
    ]
    assert 1 + len(list(_dependants(contract_read.dependant))) == 2


def test_no_endpoint_of_the_route_class_asks_fastapi_for_its_session() -> None:
    transactional = [route for route in _routes() if isinstance(route, TransactionalRoute)]
    takes_a_session = [
        route
        for route in transactional
        if "session" in inspect.signature(inspect.unwrap(route.endpoint)).parameters
    ]
    assert len(takes_a_session) > 50
    for route in transactional:
        assert get_session not in {sub.call for sub in route.dependant.dependencies}, route.path


def test_a_role_check_outside_the_route_class_is_a_programming_error() -> None:
    """No principal was authenticated: the check refuses to guess (it never lets one through)."""
    bare = FastAPI()

    @bare.get("/somewhere")
    async def somewhere(actor: ReaderKey) -> dict[str, str]:
        return {"role": actor.role}

    with pytest.raises(RuntimeError, match="TransactionalRoute"):
        TestClient(bare).get("/somewhere", headers={"Authorization": "Bearer plk_x"})
