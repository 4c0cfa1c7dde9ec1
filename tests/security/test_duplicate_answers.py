"""Issue 12 (5), R-CUST-1: duplicate answers outside the user's scope name the archive by its
code only (create, import, claim), every such hit is audited, and bulk checks (the import dry
run) are rate-limited per user — the import is no lookup oracle."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from models import AuditEntry
from portal import settings
from portal.normalize import normalize_phone
from portal.services import customer_import as imp
from portal.services import customers
from portal.services.errors import RuleViolation
from tests.graphql.conftest import make_token


def _phones(session, world, n: int = 4) -> list:
    out = []
    for i, c in enumerate(world.customers["sales1"] + world.customers["sales3"]):
        c.phone = f"1390000{i:04d}"
        c.phone_normalized = normalize_phone(c.phone)
        out.append(c)
    session.commit()
    return out[:n]


def _hits(session) -> int:
    return session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "customer.duplicate_hit")) or 0


def test_R_CUST_1_duplicate_outside_scope_named_by_code_only(world, session, client, unchanged):
    theirs = _phones(session, world)[0]
    with unchanged(denied=1), pytest.raises(RuleViolation) as exc:
        customers.create_customer(session, world.sales2, {
            "name": "新客户", "phone": theirs.phone, "branch_id": world.b1.id})
    text = exc.value.translated()
    assert theirs.code in text and theirs.name not in text
    assert _hits(session) == 1
    token = make_token(session, world.sales2)
    with unchanged(denied=1, exclude=frozenset({"api_tokens"})):
        out = client.post("/graphql", headers={"Authorization": f"Bearer {token}"}, json={
            "query": 'mutation($p: String) { createCustomer(input: {name: "新客户", phone: $p}) '
                     '{ ok errors { rule message } } }', "variables": {"p": theirs.phone}}
        ).get_json()["data"]["createCustomer"]
        assert out["errors"][0]["rule"] == "R-CUST-1"
        assert theirs.code in out["errors"][0]["message"]
        assert theirs.name not in out["errors"][0]["message"]
    # within scope the name is given (the supervisor sees the branch)
    with pytest.raises(RuleViolation) as exc:
        customers.create_customer(session, world.supervisor, {
            "name": "新客户", "phone": theirs.phone, "branch_id": world.b1.id})
    assert theirs.name in exc.value.translated()


def test_R_CUST_1_import_dry_run_is_no_lookup_oracle(world, session, monkeypatch):
    theirs = _phones(session, world)
    text = "name,phone\n" + "".join(f"查询{i},{c.phone}\n" for i, c in enumerate(theirs))
    report = imp.dry_run(session, world.sales2, imp.read_upload("x.csv", text.encode()))
    dupes = [r for r in report.results if r.status == imp.STATUS_DUPLICATE]
    assert len(dupes) == len(theirs)
    for r, c in zip(dupes, theirs, strict=True):
        assert r.duplicate_of == c.code and c.name not in (r.message or "")
    assert _hits(session) == len(theirs)  # every hit audited
    # rate limit per user: the hour's allowance used up, further rows are not checked
    monkeypatch.setitem(settings.DEFAULTS, "customer.duplicate_hits_per_hour", len(theirs) + 1)
    settings.forget(session)
    report = imp.dry_run(session, world.sales2, imp.read_upload("x.csv", text.encode()))
    statuses = [r.status for r in report.results]
    assert statuses.count(imp.STATUS_DUPLICATE) == 1
    assert statuses.count(imp.STATUS_INVALID) == len(theirs) - 1
    assert _hits(session) == len(theirs) + 1
    # another user has their own allowance
    report = imp.dry_run(session, world.sales4, imp.read_upload("x.csv", text.encode()))
    assert [r.status for r in report.results].count(imp.STATUS_DUPLICATE) >= 1


def test_R_CUST_1_claim_refusal_does_not_name_an_invisible_customer(world, session, unchanged):
    theirs = world.customers["sales1"][0]  # same branch as sales2, owned and valid
    with unchanged(denied=1), pytest.raises(RuleViolation) as exc:
        customers.claim_customer(session, world.sales2, theirs.id)
    assert theirs.code in exc.value.translated()
    assert theirs.name not in exc.value.translated()
