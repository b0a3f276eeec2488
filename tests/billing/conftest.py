"""Keys of the billing tests: an admin arranges the data, a billing key works the invoices."""

import pytest
from sqlalchemy.orm import Session

from app.core.auth import Role

from factories import bearer


@pytest.fixture
def admin(db: Session) -> dict[str, str]:
    return bearer(db, Role.ADMIN)


@pytest.fixture
def billing(db: Session) -> dict[str, str]:
    return bearer(db, Role.BILLING)
