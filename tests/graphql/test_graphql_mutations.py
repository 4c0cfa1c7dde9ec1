"""Mutations call the same service verbs as the portal: typed inputs, typed errors, nothing
changed on refusal; every mutation is refused for the auditor (R-ROLE-3)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
)
from sqlalchemy import func, select

from graphql_api.schema import schema
from models import AuditEntry, Base, Complaint, CreditLine, Customer, ReceptionRecord
from models.base import utcnow
from models.enums import Level
from tests.graphql.data import add_file, populate

SKIP_TABLES = {"audit_entries", "audit_chain_head", "api_tokens"}


def fingerprint(session) -> dict[str, list]:
    session.expire_all()
    out = {}
    for table in Base.metadata.sorted_tables:
        if table.name in SKIP_TABLES:
            continue
        rows = session.execute(select(table).order_by(*table.primary_key.columns)).all()
        out[table.name] = [tuple(map(str, r)) for r in rows]
    return out


ID_TYPES = {"customerId": "Customer", "referrerId": "Customer", "complaintId": "Complaint",
            "fileId": "ConfidentialFile", "branchId": "Branch", "departmentId": "Department",
            "responsibleDepartmentId": "Department", "receptionRecordId": "ReceptionRecord",
            "creditLineId": "CreditLine", "faultDepartmentId": "Department",
            "noticeId": "PenaltyNotice", "pendingActionId": "PendingAction",
            "requestId": "CorrectionRequest", "loanId": "ArchiveLoan",
            "departmentIds": "Department", "eventId": "JointEvent",
            "winnerDepartmentId": "Department"}


def _value(name: str, gtype, ids: dict[str, int]) -> str:
    while isinstance(gtype, GraphQLNonNull):
        gtype = gtype.of_type
    if isinstance(gtype, GraphQLList):
        return "[" + _value(name, gtype.of_type, ids) + "]"
    if isinstance(gtype, GraphQLEnumType):
        return next(iter(gtype.values))
    if isinstance(gtype, GraphQLInputObjectType):
        parts = [f"{fname}: {_value(fname, f.type, ids)}" for fname, f in gtype.fields.items()
                 if isinstance(f.type, GraphQLNonNull)]
        return "{" + ", ".join(parts) + "}"
    assert isinstance(gtype, GraphQLScalarType)
    if gtype.name == "ID":
        kind = ID_TYPES.get(name, "User")
        return f'"{kind}:{ids[kind]}"'
    return {"String": '"任意文本 reason"', "Int": "3", "Boolean": "true", "Decimal": '"100"',
            "DateTime": f'"{datetime.now(UTC).isoformat()}"', "Date": '"2030-01-01"'}[gtype.name]


def mutation_calls(ids: dict[str, int]) -> list[tuple[str, str]]:
    mutation_type = schema._schema.mutation_type
    calls = []
    for name, field in mutation_type.fields.items():
        args = ", ".join(f"{a}: {_value(a, arg.type, ids)}" for a, arg in field.args.items()
                         if isinstance(arg.type, GraphQLNonNull))
        calls.append((name, f"mutation {{ {name}({args}) {{ ok errors {{ field code message "
                            f"rule }} }} }}"))
    return calls


@pytest.fixture
def ids(world, session) -> dict[str, int]:
    populate(session, world)
    customer = world.customers["sales1"][0]
    f = add_file(session, customer, world.sales1, Level.SECRET.value)
    complaint = session.scalar(select(Complaint).where(Complaint.customer_id == customer.id))
    line = session.scalar(select(CreditLine).where(CreditLine.customer_id == customer.id))
    record = session.scalar(select(ReceptionRecord)
                            .where(ReceptionRecord.customer_id == customer.id))
    session.commit()
    return {"CreditLine": line.id, "ReceptionRecord": record.id, "Customer": customer.id, "Complaint": complaint.id, "ConfidentialFile": f.id,
            "Branch": world.b1.id, "Department": world.d1.id, "User": world.sales2.id,
            # no such rows in this company: the auditor is refused before any lookup
            "PenaltyNotice": 1, "PendingAction": 1, "CorrectionRequest": 1,
            "ArchiveLoan": 1, "JointEvent": 1}


def test_every_mutation_is_refused_for_the_auditor(world, session, api, ids) -> None:
    client = api(world.auditor)
    client("{ me { clearance } }")  # the token's last-used time is written now, not below
    before = fingerprint(session)
    calls = mutation_calls(ids)
    assert len(calls) >= 20
    for name, query in calls:
        denied_before = session.scalar(select(func.count()).select_from(AuditEntry)
                                       .where(AuditEntry.outcome == "denied"))
        body = client(query)
        assert "errors" not in body, (name, body)
        payload = body["data"][name]
        assert payload["ok"] is False, (name, payload)
        if name == "changeMyPassword":
            # everyone changes their own password (R-ROLE-6); here the current one is wrong
            assert payload["errors"][0]["rule"] == "R-ROLE-6", payload
        else:
            assert payload["errors"][0]["code"] in ("forbidden", "not_found"), (name, payload)
        assert fingerprint(session) == before, name
        denied_after = session.scalar(select(func.count()).select_from(AuditEntry)
                                      .where(AuditEntry.outcome == "denied"))
        assert denied_after == denied_before + 1, name


def test_create_customer_and_typed_validation_error(world, session, api) -> None:
    client = api(world.sales1)
    q = """mutation($input: CustomerInput!) { createCustomer(input: $input) {
        ok errors { field code message } result { id name owner { username } phone version } } }"""
    body = client(q, {"input": {"name": "华东贸易有限公司", "phone": "021-5555 1234",
                                "importance": "A"}})
    payload = body["data"]["createCustomer"]
    assert payload["ok"] and payload["errors"] == []
    assert payload["result"]["owner"]["username"] == "sales1"
    before = fingerprint(session)
    body = client(q, {"input": {"name": "乙公司", "phone": "12"}})
    payload = body["data"]["createCustomer"]
    assert payload == {"ok": False, "result": None, "errors": [
        {"field": "phone", "code": "validation", "message": payload["errors"][0]["message"]}]}
    assert "12" in payload["errors"][0]["message"]
    assert fingerprint(session) == before


def test_mass_assignment_is_not_in_the_inputs(world, api) -> None:
    body = api(world.sales1)('mutation { updateCustomer(customerId: "Customer:1", '
                             'input: {ownerId: "User:2"}) { ok } }')
    assert body["data"] is None and body["errors"]


def test_stale_version_is_a_conflict(world, session, api) -> None:
    client = api(world.sales1)
    c = world.customers["sales1"][0]
    q = """mutation($id: ID!, $v: Int!) { updateCustomer(customerId: $id,
        input: {notes: "新备注"}, expectedVersion: $v) { ok errors { code } result { version
        notes } } }"""
    seen = c.version
    ok = client(q, {"id": f"Customer:{c.id}", "v": seen})["data"]["updateCustomer"]
    assert ok["ok"] and ok["result"]["notes"] == "新备注"
    assert ok["result"]["version"] == seen + 1
    stale = client(q.replace("新备注", "另一个"), {"id": f"Customer:{c.id}", "v": seen}
                   )["data"]["updateCustomer"]
    assert stale == {"ok": False, "errors": [{"code": "conflict"}], "result": None}
    session.expire_all()
    assert session.get(Customer, c.id).notes == "新备注"


def test_other_peoples_ids_answer_not_found(world, session, api) -> None:
    other = world.customers["sales4"][0]
    before = fingerprint(session)
    for gid in (f"Customer:{other.id}", "Customer:999999"):
        body = api(world.sales1)(f'mutation {{ recordFollowUp(customerId: "{gid}", kind: CALL) '
                                 "{ ok errors { code } } }")
        assert body["data"]["recordFollowUp"] == {"ok": False,
                                                  "errors": [{"code": "not_found"}]}
    assert fingerprint(session) == before
    body = api(world.sales1)('mutation { recordFollowUp(customerId: "Complaint:1", kind: CALL) '
                             "{ ok errors { field code } } }")
    assert body["data"]["recordFollowUp"]["errors"][0]["field"] == "customerId"


def test_supervisor_reassigns_owner(world, session, api) -> None:
    c = world.customers["sales1"][0]
    body = api(world.supervisor)(
        "mutation($c: ID!, $u: ID!, $v: Int!) { reassignOwner(customerId: $c, newOwnerId: $u, "
        'reason: "换人", expectedVersion: $v) { ok errors { code rule } } }',
        {"c": f"Customer:{c.id}", "u": f"User:{world.sales2.id}", "v": c.version})
    assert body["data"]["reassignOwner"]["ok"] is False  # protected while registration is valid
    assert body["data"]["reassignOwner"]["errors"][0]["code"] == "rule"
    c.ownership_expires_at = utcnow() - timedelta(days=1)
    session.commit()
    body = api(world.supervisor)(
        "mutation($c: ID!, $u: ID!, $v: Int!) { reassignOwner(customerId: $c, newOwnerId: $u, "
        'reason: "客户要求更换顾问", expectedVersion: $v) { ok errors { code message } '
        "result { owner { username } ownerHistory { reason toUser { username } } } } }",
        {"c": f"Customer:{c.id}", "u": f"User:{world.sales2.id}", "v": c.version})
    payload = body["data"]["reassignOwner"]
    assert payload["ok"], payload
    assert payload["result"]["owner"]["username"] == "sales2"
    assert payload["result"]["ownerHistory"][-1]["reason"].endswith("客户要求更换顾问")


def test_service_registers_and_assigns_a_complaint(world, session, api) -> None:
    c = world.customers["sales2"][0]
    client = api(world.service)
    body = client("""mutation($c: ID!) { registerComplaint(input: {customerId: $c,
        channel: PHONE, type: COMPLAINT, description: "交付延误"}) {
        ok errors { field code message } result { id number status version
        events { toStatus } } } }""", {"c": f"Customer:{c.id}"})
    payload = body["data"]["registerComplaint"]
    assert payload["ok"], payload
    complaint = payload["result"]
    assert complaint["status"] == "REGISTERED"
    body = client("""mutation($id: ID!, $h: ID!, $v: Int!) { assignComplaint(complaintId: $id,
        handlerId: $h, expectedVersion: $v) { ok errors { code message } result { status
        handler { username } } } }""",
                  {"id": complaint["id"], "h": f"User:{world.service.id}",
                   "v": complaint["version"]})
    payload = body["data"]["assignComplaint"]
    assert payload["ok"], payload
    assert payload["result"]["status"] == "ASSIGNED"


def test_request_file_copy(world, session, api) -> None:
    c = world.customers["sales1"][0]
    f = add_file(session, c, world.sales1, Level.INTERNAL.value)
    secret = add_file(session, c, world.sales1, Level.SECRET.value)
    world.sales1.clearance = Level.SECRET.value
    session.commit()
    client = api(world.sales1)
    files = client("{ files { nodes { databaseId downloadUrl } } }")["data"]["files"]["nodes"]
    urls = {n["databaseId"]: n["downloadUrl"] for n in files}
    assert urls[f.id] == f"/files/{f.id}/download"
    assert urls.get(secret.id) is None
    body = client(f'mutation {{ requestFileCopy(fileId: "ConfidentialFile:{secret.id}", '
                  'reason: "客户审计需要") { ok errors { code message } result { status '
                  "file { databaseId } } } }")
    payload = body["data"]["requestFileCopy"]
    assert payload["ok"], payload
    assert payload["result"]["status"] == "pending"


def test_no_role_names_in_graphql_api() -> None:
    from pathlib import Path

    import graphql_api
    from models.enums import Role

    root = Path(graphql_api.__file__).parent
    for path in root.rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        for role in Role:
            for quote in ('"', "'"):
                assert f"{quote}{role.value}{quote}" not in source, (path, role)
