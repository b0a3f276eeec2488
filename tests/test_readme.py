"""The README says what the service does: its endpoint table lists exactly the app's `/v1`
operations (nothing missing, nothing that is a 404 or a 405)."""

import re
from pathlib import Path

from fastapi.testclient import TestClient

from app.main import create_app

README = Path(__file__).resolve().parents[1] / "README.md"
METHOD = r"(?:GET|POST|PATCH|PUT|DELETE)"
ENDPOINT = re.compile(rf"^({METHOD}(?:\\\|{METHOD})*) ([a-z][^ ?]*)(?:\?.*)?$")


def _shape(path: str) -> str:
    """`contracts/{}/activities` for `/v1/contracts/{contract_id}/activities`."""
    return re.sub(r"\{[^}]+\}", "{}", path.removeprefix("/v1/"))


def _table() -> str:
    text = README.read_text(encoding="utf-8")
    section = text.split("## What the API offers", 1)[1].split("\n## ", 1)[0]
    return "\n".join(line for line in section.splitlines() if line.startswith("| "))


def readme_operations() -> set[tuple[str, str]]:
    operations = set()
    for span in re.findall(r"`([^`]+)`", _table()):
        match = ENDPOINT.match(span)
        if match:
            methods, path = match.groups()
            operations |= {(method, _shape(path)) for method in methods.split("\\|")}
    return operations


def app_operations() -> set[tuple[str, str]]:
    """The app's `/v1` operations, as its router registered them (FastAPI's document of them)."""
    return {
        (method.upper(), _shape(path))
        for path, operations in create_app().openapi()["paths"].items()
        if path.startswith("/v1/")
        for method in operations
    }


def test_every_endpoint_in_the_readme_is_served() -> None:
    """Asked without a key, a route the app has answers 401; a path it has not is a 404 and a
    method it does not take on the path a 405 (the README once listed `GET forecast-jobs`)."""
    api = TestClient(create_app(), raise_server_exceptions=False)
    answers = {
        (method, path): api.request(method, "/v1/" + path.replace("{}", "x_1")).status_code
        for method, path in readme_operations()
    }
    assert {operation: status for operation, status in answers.items() if status != 401} == {}


def test_every_operation_served_is_in_the_readme() -> None:
    assert app_operations() - readme_operations() == set()


def test_the_table_is_read_as_intended() -> None:
    """The parser finds the table's endpoints, escaped pipes and queries included."""
    found = readme_operations()
    assert {("POST", "clients"), ("GET", "clients"), ("GET", "overview")} <= found
    assert ("GET", "activities/{}/volumes") in found
    assert len(found) > 50
