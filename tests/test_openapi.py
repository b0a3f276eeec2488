"""`openapi/openapi.json` is the integrators' contract: it must be exactly what the app serves."""

import json
import re

from app.cli import OPENAPI_PATH, openapi_document
from app.main import create_app


def test_committed_openapi_document_matches_the_app() -> None:
    committed = OPENAPI_PATH.read_text(encoding="utf-8")
    assert committed == openapi_document(), "run `plancher openapi` and commit the result"


def test_every_operation_has_an_explicit_unique_id_and_a_summary() -> None:
    spec = create_app().openapi()
    operations = [op for path in spec["paths"].values() for op in path.values()]
    ids = [op["operationId"] for op in operations]
    assert len(ids) == len(set(ids))
    assert all(op.get("summary") and op.get("description") for op in operations)


def test_paths_of_api_md_are_served() -> None:
    paths = json.loads(openapi_document())["paths"]
    expected = {
        "/v1/clients": {"get", "post"},
        "/v1/clients/{client_id}": {"get", "patch"},
        "/v1/contracts": {"get", "post"},
        "/v1/contracts/{contract_id}": {"get", "patch"},
        "/v1/contracts/{contract_id}/activities": {"get", "post"},
        "/v1/activities/{activity_id}": {"get", "patch"},
        "/v1/activities/{activity_id}/prices": {"get", "post"},
        "/v1/activities/{activity_id}/volumes": {"get", "post"},
        "/v1/activities/{activity_id}/commitments": {"get", "post"},
        "/v1/contracts/{contract_id}/commitments": {"post"},
        "/v1/activities/{activity_id}/commitments/binding": {"get"},
        "/v1/activities/{activity_id}/adjustments": {"get", "post"},
        "/v1/contracts/{contract_id}/shortfall": {"get"},
        "/v1/invoices": {"get", "post"},
        "/v1/invoice-runs": {"post"},
        "/v1/invoice-runs/{run_id}": {"get"},
        "/v1/invoices/{invoice_id}": {"get"},
        "/v1/invoices/{invoice_id}/issue": {"post"},
        "/v1/invoices/{invoice_id}/void": {"post"},
        "/v1/invoices/{invoice_id}/mark-paid": {"post"},
        "/v1/invoices/{invoice_id}/correct": {"post"},
        "/v1/invoices/{invoice_id}/pdf": {"get"},
        "/v1/invoices/{invoice_id}/xml": {"get"},
        "/v1/activities/{activity_id}/forecasts": {"post"},
        "/v1/forecasts/{forecast_id}": {"get"},
        "/v1/forecast-jobs": {"post"},
        "/v1/forecast-jobs/{job_id}": {"get"},
        "/v1/forecast-jobs/{job_id}/cancel": {"post"},
        "/v1/activities/{activity_id}/special-days": {"get", "post"},
        "/v1/activities/{activity_id}/special-days/{special_day_id}": {"delete"},
        "/v1/activities/{activity_id}/comparison": {"get"},
        "/v1/contracts/{contract_id}/comparison": {"get"},
        "/v1/activities/{activity_id}/scorecard": {"get"},
        "/v1/forecasts/{forecast_id}/staffing": {"get"},
        "/v1/staffing/erlang-c": {"post"},
        "/v1/staffing/evaluate": {"post"},
        "/healthz": {"get"},
        "/readyz": {"get"},
        "/metrics": {"get"},
    }
    for path, methods in expected.items():
        assert methods <= set(paths[path]), path


def test_errors_are_declared_as_problem_json() -> None:
    spec = create_app().openapi()
    create_client = spec["paths"]["/v1/clients"]["post"]
    assert "application/problem+json" in create_client["responses"]["422"]["content"]
    assert "application/problem+json" in create_client["responses"]["401"]["content"]


def test_every_post_operation_documents_the_idempotency_key_header() -> None:
    spec = json.loads(openapi_document())
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            headers = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
            assert ("Idempotency-Key" in headers) == (method == "post"), (method, path)


def test_the_document_shows_lineage_payments_amendments_and_their_problems() -> None:
    document = json.loads(OPENAPI_PATH.read_text())
    invoice = document["components"]["schemas"]["InvoiceOut"]["properties"]
    assert {"credited_by", "replaced_by", "corrects_number", "amount_paid", "balance_due"} <= set(
        invoice
    )
    contract = document["components"]["schemas"]["ContractDetailOut"]["properties"]
    assert {"terms_in_force", "amendments"} <= set(contract)
    paths = document["paths"]
    for path, method in (
        ("/v1/activities/{activity_id}/prices", "post"),
        ("/v1/contracts/{contract_id}", "patch"),
        ("/v1/contracts/{contract_id}/amendments", "post"),
    ):
        assert {"409", "422"} <= set(paths[path][method]["responses"]), path
    assert "422" in paths["/v1/invoices"]["get"]["responses"]


def test_every_error_response_is_a_problem_with_its_schema() -> None:
    """What goes over the wire: `application/problem+json` bodies of the `ProblemDetails`
    shape, never FastAPI's `application/json` `HTTPValidationError`."""
    document = json.loads(openapi_document())
    declared = 0
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if status[0] in "45":
                    declared += 1
                    assert response["content"] == {
                        "application/problem+json": {
                            "schema": {"$ref": "#/components/schemas/ProblemDetails"}
                        }
                    }, (method, path, status)
    assert declared > 100
    schemas = document["components"]["schemas"]
    assert "HTTPValidationError" not in schemas and "ValidationError" not in schemas
    errors = schemas["ProblemDetails"]["properties"]["errors"]
    assert "FieldErrorDetails" in json.dumps(errors)
    assert set(schemas["FieldErrorDetails"]["properties"]) == {"location", "field", "row", "reason"}


def test_every_operation_with_a_body_declares_415_and_every_reference_resolves() -> None:
    document = json.loads(openapi_document())
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if "requestBody" in operation:
                assert "415" in operation["responses"], (method, path)
    references = re.findall(r'"#/components/schemas/([^"]+)"', json.dumps(document))
    assert set(references) <= set(document["components"]["schemas"])
