"""The README says what the service does: its endpoint table lists exactly the app's `/v1`
operations (nothing missing, nothing that is a 404 or a 405), and its examples (the `curl`
calls, the CSV layout) work against the app as written."""

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.core.auth import Role
from app.main import create_app

from billing_scenarios import VOICE_100K, arrange, generate
from factories import bearer, make_activity, make_client, make_contract

README = Path(__file__).resolve().parents[1] / "README.md"
METHOD = r"(?:GET|POST|PATCH|PUT|DELETE)"
SERVED = "http://127.0.0.1:8000"
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


def _curl_commands() -> list[str]:
    """Every `curl` call the README shows, in a shell block (continuation lines joined) or in
    running text."""
    text = README.read_text(encoding="utf-8")
    blocks = re.findall(r"```sh\n(.*?)```", text, flags=re.DOTALL)
    calls = [
        " ".join(block.replace("\\\n", " ").split())
        for block in blocks
        if block.lstrip().startswith("curl ")
    ]
    calls += re.findall(r"`(curl [^`]+)`", text)
    return calls


def _request(call: str, values: dict[str, str]) -> dict[str, Any]:
    """A `curl` call as the arguments of `TestClient.request`, with the README's shell
    variables replaced by `values`; an option the test does not know fails it."""
    words = shlex.split(re.sub(r"\$([A-Z]+)", lambda m: values[m.group(1)], call))[1:]
    request: dict[str, Any] = {"method": "GET", "headers": {}}
    while words:
        word = words.pop(0)
        if word == "-H":
            name, _, value = words.pop(0).partition(": ")
            request["headers"][name] = value
        elif word == "--data-binary":
            request["method"] = "POST"
            request["content"] = (README.parent / words.pop(0).removeprefix("@")).read_bytes()
        elif word == "-o":
            words.pop(0)  # where curl would write the response
        elif word.startswith(SERVED):
            request["url"] = word.removeprefix(SERVED)
        else:
            raise AssertionError(f"unexpected curl argument {word!r} in {call!r}")
    return request


@pytest.fixture
def admin(db: Session) -> dict[str, str]:
    return bearer(db, Role.ADMIN)


@pytest.fixture
def billing(db: Session) -> dict[str, str]:
    return bearer(db, Role.BILLING)


def test_the_readme_shows_curl_calls() -> None:
    """The parser finds the README's calls (the commitments CSV, an invoice's PDF)."""
    calls = _curl_commands()
    assert any("text/csv" in call for call in calls) and any("/pdf" in call for call in calls)


def test_every_curl_call_in_the_readme_works(
    client: TestClient, db: Session, admin: dict[str, str], billing: dict[str, str]
) -> None:
    contract = make_contract(db, make_client(db))
    make_activity(db, contract, name="Service client voix")
    make_activity(db, contract, name="Back-office dossiers", billing_unit="hour")
    invoice_contract, _ = arrange(client, db, admin, [VOICE_100K])
    draft = generate(client, invoice_contract, billing).json()
    issued = client.post(f"/v1/invoices/{draft['id']}/issue", headers=billing)
    assert issued.status_code == 200, issued.text
    values = {
        "KEY": admin["Authorization"].removeprefix("Bearer "),
        "CONTRACT": contract.id,
        "ID": draft["id"],
    }
    for call in _curl_commands():
        response = client.request(**_request(call, values))
        assert response.status_code in (200, 201), f"{call}: {response.text[:500]}"


def test_the_readmes_csv_layout_is_the_example_file() -> None:
    text = README.read_text(encoding="utf-8")
    shown = re.findall(r"```csv\n(.*?)```", text, flags=re.DOTALL)
    assert shown == [(README.parent / "docs/examples/commitments.csv").read_text(encoding="utf-8")]
