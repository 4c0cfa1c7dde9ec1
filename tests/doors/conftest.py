"""Both doors of every service verb: the portal (a logged-in client posting the admin form a
user would submit) and GraphQL (the mutation with an API token). Each helper asserts the write
succeeded; the tests then check what a user would see: the row, the history, the audit entry."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from models import AuditEntry
from portal import clock
from tests.graphql.conftest import api  # noqa: F401 - the ``api(user)`` fixture

_FLASH_ERROR = re.compile(r'alert-(?:danger|error)[^>]*>(.*?)</div>', re.S)


def audit_mark(session) -> int:
    return session.scalar(select(func.coalesce(func.max(AuditEntry.seq), 0))) or 0


def audit_since(session, mark: int) -> list[tuple[str, str]]:
    session.expire_all()
    rows = session.scalars(select(AuditEntry).where(AuditEntry.seq > mark)
                           .order_by(AuditEntry.seq))
    return [(e.action, e.outcome) for e in rows]


def post_form(client, url: str, data: dict[str, Any]):
    """POST a portal form; a successful submit redirects (a refused one re-renders the form
    with the error, which is shown in the assertion message)."""
    resp = client.post(url, data=data)
    if resp.status_code != 302:
        body = resp.get_data(as_text=True)
        errors = [re.sub(r"<[^>]+>|\s+", " ", m).strip() for m in _FLASH_ERROR.findall(body)]
        field_errors = re.findall(r'class="[^"]*(?:invalid-feedback|help-block)[^"]*"[^>]*>'
                                  r'(.*?)</', body, re.S)
        raise AssertionError(f"POST {url} → {resp.status_code}: {errors} {field_errors}")
    return resp


_HIDDEN_VERSION = re.compile(r'<input type="hidden" name="(version|versions)" value="([^"]*)"')


def form_versions(client, url: str) -> dict[str, str]:
    """The version fields (``version`` / ``versions``) the form at ``url`` carries: what a
    person's browser sends back with it (issue 12: optimistic locking is not optional)."""
    resp = client.get(url)
    assert resp.status_code == 200, (url, resp.status_code)
    return dict(_HIDDEN_VERSION.findall(resp.get_data(as_text=True)))


def submit_form(client, url: str, data: dict[str, Any]):
    """Open the form at ``url`` and POST it with ``data``, as a person does (the form's
    version fields included)."""
    return post_form(client, url, {**form_versions(client, url), **data})


def gql_ok(client_api, query: str, variables: dict[str, Any], name: str) -> dict | None:
    """Run a mutation and assert ``ok`` with no errors; return its ``result``."""
    out = client_api(query, variables)
    assert not out.get("errors"), out
    payload = out["data"][name]
    assert payload["ok"] and payload["errors"] == [], payload
    return payload["result"]


def gid(kind: str, pk: int) -> str:
    return f"{kind}:{pk}"


def expire_ownership(session, customer) -> None:
    """建档有效期 passed without a deal (R-CUST-2): a ground to claim or reassign it."""
    customer.status = "prospect"
    customer.deal_at = None
    customer.ownership_expires_at = clock.now() - timedelta(days=1)
    session.commit()


@pytest.fixture
def sales1_customer(world):
    return world.customers["sales1"][0]
