"""The reliability tests use the campaign fixtures, counters and summary line of
``tests/security`` (the hooks print the line once even when both folders run)."""

from tests.security.conftest import (  # noqa: F401
    clients,
    fingerprint,
    no_5xx,
    pytest_sessionfinish,
    pytest_terminal_summary,
    unchanged,
)
