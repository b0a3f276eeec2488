"""The databases every database test runs on; PostgreSQL runs are marked `integration`."""

import pytest

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)]
