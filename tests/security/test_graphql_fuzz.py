"""Section H of the campaign: Schemathesis on the GraphQL schema, per role.

The schema is loaded offline from ``schema.graphql`` (the exported SDL, checked against the live
schema by the GraphQL tests); Schemathesis generates queries and mutations for every operation
(46 at the time of writing) and each is posted to ``/graphql`` with a role's API token through
the WSGI test client. Every answer must be a non-5xx, and no GraphQL error may be the masked
"Unexpected error" (an exception the code did not expect is a server error too, even when the
HTTP status is 200).

Bounded: ``CAMPAIGN_FUZZ_EXAMPLES`` examples per operation and role (default 6).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.graphql import nodes

from tests.graphql.conftest import make_token
from tests.security import campaign

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = int(os.environ.get("CAMPAIGN_FUZZ_EXAMPLES", "6"))
ROLES = ("sales", "supervisor", "general_manager", "auditor", "secadmin")
TYPES = ("Customer", "User", "Complaint", "ReceptionRecord", "CreditLine", "CreditEvaluation",
         "File", "Branch", "Department", "CustomerContact", "AuditEntry")

# Real-looking values for the custom scalars, and ids that point at rows of the test world
# (mixed with garbage) so resolvers past the id parser get exercised.
schemathesis.graphql.scalar("ID", st.one_of(
    st.builds(lambda t, n: f"{t}:{n}", st.sampled_from(TYPES), st.integers(0, 12)),
    st.integers(0, 12).map(str),
    st.text(max_size=12),
).map(nodes.String))
schemathesis.graphql.scalar("Date", st.one_of(
    st.dates().map(str), st.text(max_size=10)).map(nodes.String))
schemathesis.graphql.scalar("DateTime", st.one_of(
    st.datetimes(timezones=st.just(__import__("datetime").timezone.utc)).map(
        lambda d: d.isoformat()), st.text(max_size=10)).map(nodes.String))
schemathesis.graphql.scalar("Decimal", st.one_of(
    st.decimals(allow_nan=False, allow_infinity=False, places=2,
                min_value=-10**12, max_value=10**12).map(str),
    st.sampled_from(["NaN", "Infinity", "-0", "1e999", "abc", ""])).map(nodes.String))

SCHEMA = schemathesis.graphql.from_path(ROOT / "schema.graphql")
OPERATIONS = [r.ok() for r in SCHEMA.get_all_operations()]


def test_schema_has_operations() -> None:
    assert len(OPERATIONS) > 30


@pytest.mark.parametrize("role", ROLES)
def test_schemathesis_graphql_no_server_errors(app, world, session, client, role) -> None:
    from portal.extensions import db

    token = make_token(session, world.roles[role])
    headers = {"Authorization": f"Bearer {token}"}
    failures: list[str] = []
    answered = {"data": 0, "total": 0}

    def runner(label: str, strategy):
        @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                  phases=[Phase.explicit, Phase.generate],
                  suppress_health_check=list(HealthCheck))
        @given(case=strategy)
        def run(case) -> None:
            resp = client.post("/graphql", json={"query": case.body}, headers=headers)
            db.session.remove()  # the end of a request (the test client shares the context)
            campaign.count("graphql_fuzz_ops")
            campaign.count("responses")
            body = resp.get_json(silent=True) or {}
            masked = [e for e in body.get("errors") or []
                      if (e.get("extensions") or {}).get("code") == "INTERNAL"]
            answered["total"] += 1
            if body.get("data"):
                answered["data"] += 1
            if resp.status_code >= 500 or masked:
                campaign.count("graphql_fuzz_5xx")
                campaign.count("responses_5xx")
                failures.append(f"{label} → {resp.status_code} {masked[:1]}\n{case.body}")

        return run

    for op in OPERATIONS:
        runner(op.label, op.as_strategy())()
    # not vacuous: a good share of the generated operations ran resolvers and returned data
    assert answered["data"] >= answered["total"] // 4, answered
    assert not failures, f"{len(failures)} server errors, first ones:\n" + "\n\n".join(
        failures[:5])
