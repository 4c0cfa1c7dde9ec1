"""R-CUST-10 tests use the doors' fixtures: ``login`` (portal) and ``api`` (GraphQL)."""

from tests.graphql.conftest import api  # noqa: F401 - the ``api(user)`` fixture
