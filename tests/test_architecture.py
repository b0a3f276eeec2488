"""Imports follow the flow of data (ARCHITECTURE.md): every module of `app/` and `models/` is
parsed, and an import against the order of the domains, of another domain's `tables.py` or
`repository.py`, or of `app` from `models` fails the test, naming the file and the line."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

RANKS = {
    "core": 0,
    "contracts": 1,
    "volumes": 2,
    "forecasts": 3,
    "commitments": 4,
    "billing": 5,
    # The readers: above every domain they read, and never reading one another.
    "outlook": 6,
    "staffing": 6,
    # The web dashboard shows what the readers compute.
    "dashboard": 7,
}
"""A domain imports only from domains of a lower rank (and from itself)."""

COMPOSITION_ROOTS = {
    "app.main",
    "app.cli",
    "app.demo",
    "app.__main__",
    "app.tables",
    "app.worker",
    "app.schedules",
}
"""The modules that assemble the domains (the app, the CLI, the demo, the worker and the
schedules that span domains) may import any of them."""

PRIVATE_MODULES = {"tables", "repository"}
"""A domain's ORM classes and SQL: other domains go through its service. (`app.core`'s are the
shared bases every domain builds on.)"""

ALL_TABLES = "app.tables"
"""Registers every domain's tables in the metadata Alembic compares with the migrations."""


def _imported(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, dotted name) of every import in the tree, nested ones included; `from a import b`
    yields `a.b`, which is the module `b` when it is one."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return found


def _domain(module: str) -> str | None:
    """`contracts` for `app.contracts.service`; None for the top-level modules of `app`."""
    parts = module.split(".")
    return parts[1] if len(parts) > 2 and parts[1] in RANKS else None


def violations(module: str, source: str) -> list[str]:
    """What is wrong with the imports of `module`, whose code is `source`."""
    problems: list[str] = []
    for line, target in _imported(ast.parse(source)):
        parts = target.split(".")
        if module.split(".")[0] == "models":
            if parts[0] == "app":
                problems.append(f"{module}:{line}: the forecasting library imports {target}")
            continue
        if parts[0] != "app" or len(parts) < 3:
            continue
        source_domain, target_domain = _domain(module), parts[1]
        if ".".join(parts[:2]) in COMPOSITION_ROOTS:
            if module not in COMPOSITION_ROOTS:
                problems.append(f"{module}:{line}: a domain imports {target}, which assembles them")
            continue
        if target_domain not in RANKS:
            problems.append(f"{module}:{line}: {target} is in no domain of ARCHITECTURE.md")
            continue
        if source_domain == target_domain:
            continue
        if parts[2] in PRIVATE_MODULES and target_domain != "core" and module != ALL_TABLES:
            problems.append(
                f"{module}:{line}: imports {target}, another domain's {parts[2]}; "
                f"use app.{target_domain}.service"
            )
        if module in COMPOSITION_ROOTS:
            continue
        if source_domain is None:
            problems.append(f"{module}:{line}: {module} is in no domain of ARCHITECTURE.md")
        elif RANKS[target_domain] >= RANKS[source_domain]:
            problems.append(
                f"{module}:{line}: {source_domain} imports {target}, against the flow "
                f"(only domains before {source_domain} may be imported)"
            )
    return problems


def _modules(package: str) -> list[tuple[str, Path]]:
    return [
        (".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__"), path)
        for path in sorted((ROOT / package).rglob("*.py"))
    ]


@pytest.mark.parametrize("package", ["app", "models"])
def test_every_import_follows_the_flow(package: str) -> None:
    modules = _modules(package)
    assert len(modules) > 10
    problems = [
        problem
        for module, path in modules
        for problem in violations(module, path.read_text(encoding="utf-8"))
    ]
    assert problems == []


def test_an_import_of_a_later_domain_is_reported() -> None:
    source = "from app.billing.service import preview\n"
    assert violations("app.contracts.schemas", source) == [
        "app.contracts.schemas:1: contracts imports app.billing.service.preview, against the "
        "flow (only domains before contracts may be imported)"
    ]


def test_an_import_between_the_readers_is_reported() -> None:
    assert violations("app.staffing.service", "from app.outlook import service\n")


def test_a_nested_import_against_the_flow_is_reported() -> None:
    source = "def f() -> None:\n    from app.forecasts import service\n"
    assert violations("app.volumes.service", source)


def test_core_importing_a_domain_is_reported() -> None:
    assert violations("app.core.fields", "import app.commitments.schemas\n")


def test_an_import_of_another_domains_tables_is_reported() -> None:
    source = "from app.contracts.tables import Contract\n"
    assert violations("app.billing.service", source) == [
        "app.billing.service:1: imports app.contracts.tables.Contract, another domain's tables; "
        "use app.contracts.service"
    ]


def test_a_composition_root_may_not_import_a_repository() -> None:
    assert violations("app.demo", "from app.contracts import repository\n")


def test_a_domain_importing_the_app_is_reported() -> None:
    assert violations("app.billing.router", "from app.main import create_app\n")


def test_the_models_importing_app_is_reported() -> None:
    assert violations("models.engine", "from app.core.periods import Period\n")


def test_imports_along_the_flow_pass() -> None:
    source = (
        "from app.contracts.service import Contract\n"
        "from app.core import charter\n"
        "from app.billing import rules\n"
        "from app.billing.tables import Invoice\n"
        "import numpy\n"
    )
    assert violations("app.billing.service", source) == []
