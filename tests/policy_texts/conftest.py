"""Issue 16's tests (the rules as the company's policy texts write them) use the doors'
fixtures: ``login`` (portal) and ``api`` (GraphQL)."""

from tests.graphql.conftest import api  # noqa: F401 - the ``api(user)`` fixture
