"""R-CUST-9 borrowing an archive through GraphQL: requestArchiveAccess → decideArchiveAccess →
the borrower reads the archive (audited with the loan id) and cannot write it; returnArchiveLoan
and revokeArchiveLoan end it; archiveLoans is the register, scoped like the portal's."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from models import ArchiveLoan, AuditEntry
from portal import clock

REQUEST = """mutation($a: String!, $r: String!, $d: Int) {
  requestArchiveAccess(archive: $a, reason: $r, days: $d) {
    ok errors { field code message rule } result { id databaseId state archiveCode version } } }"""
DECIDE = """mutation($id: ID!, $ok: Boolean!, $r: String, $v: Int!) {
  decideArchiveAccess(loanId: $id, approve: $ok, reason: $r, expectedVersion: $v) {
    ok errors { code message rule } result { state endsAt decidedByName version } } }"""
RETURN = """mutation($id: ID!, $v: Int!) { returnArchiveLoan(loanId: $id, expectedVersion: $v) {
  ok errors { code message } result { state returnedAt } } }"""
REVOKE = """mutation($id: ID!, $r: String!, $v: Int!) {
  revokeArchiveLoan(loanId: $id, reason: $r, expectedVersion: $v) {
  ok errors { code message } result { state endReason } } }"""
CUSTOMER = "query($id: ID!) { node(id: $id) { ... on Customer { databaseId name phone } } }"


def _reads(session, loan_id: int) -> int:
    return session.scalar(select(func.count(AuditEntry.id)).where(
        AuditEntry.action == "archive_loan.read", AuditEntry.target_type == "ArchiveLoan",
        AuditEntry.target_id == str(loan_id))) or 0


def _borrow(world, api, customer) -> tuple[int, dict]:
    asked = api(world.sales4)(REQUEST, {"a": customer.code, "r": "客户来电核对订单"})
    body = asked["data"]["requestArchiveAccess"]
    assert body["ok"], body
    loan = body["result"]
    decided = api(world.manager)(DECIDE, {"id": loan["id"], "ok": True,
                                          "v": loan["version"]})["data"]["decideArchiveAccess"]
    assert decided["ok"] and decided["result"]["state"] == "ACTIVE", decided
    return loan["databaseId"], decided["result"]


def test_R_CUST_9_graphql_request_approve_read_and_audit(world, api, session) -> None:
    c, other = world.customers["sales1"]
    borrower = api(world.sales4)
    assert borrower(CUSTOMER, {"id": f"Customer:{c.id}"})["data"]["node"] is None
    loan_id, decided = _borrow(world, api, c)
    assert decided["decidedByName"] == world.manager.full_name
    node = borrower(CUSTOMER, {"id": f"Customer:{c.id}"})["data"]["node"]
    assert node["databaseId"] == c.id and node["phone"] == c.phone  # role may read contacts
    assert borrower(CUSTOMER, {"id": f"Customer:{other.id}"})["data"]["node"] is None
    listed = borrower("{ customers(first: 50) { nodes { databaseId } } }")
    ids = {n["databaseId"] for n in listed["data"]["customers"]["nodes"]}
    assert c.id in ids and other.id not in ids
    session.expire_all()
    assert _reads(session, loan_id) == 2  # the node and the list, each with the loan id
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "archive_loan.read"))
    assert entry.actor_id == world.sales4.id and entry.detail == f"graphql: Customer {c.id}"
    # the owner reading their own archive leaves no loan read
    api(world.sales1)(CUSTOMER, {"id": f"Customer:{c.id}"})
    session.expire_all()
    assert _reads(session, loan_id) == 2
    register = api(world.manager)("{ archiveLoans(first: 10) { nodes { databaseId state "
                                  "archiveCode borrowerName decidedByName reads } } }")
    assert register["data"]["archiveLoans"]["nodes"] == [{
        "databaseId": loan_id, "state": "ACTIVE", "archiveCode": c.code,
        "borrowerName": world.sales4.full_name, "decidedByName": world.manager.full_name,
        "reads": 2}]


def test_R_CUST_9_graphql_no_write_during_a_loan(world, api, session) -> None:
    c = world.customers["sales1"][0]
    _borrow(world, api, c)
    borrower = api(world.sales4)
    version = c.version
    for mutation in (
            'mutation($id: ID!) { updateCustomer(customerId: $id, input: {notes: "改"}, '
            'expectedVersion: 1) { ok errors { code } } }',
            'mutation($id: ID!) { recordFollowUp(customerId: $id, kind: CALL) '
            '{ ok errors { code } } }',
            'mutation($id: ID!) { claimCustomer(customerId: $id, expectedVersion: 1) { ok errors { code } } }'):
        before = session.scalar(select(func.count(AuditEntry.id)).where(
            AuditEntry.outcome == "denied"))
        body = borrower(mutation, {"id": f"Customer:{c.id}"})
        payload = next(iter(body["data"].values())) if body.get("data") else None
        assert payload is not None and payload["ok"] is False, (mutation, body)
        session.expire_all()
        assert session.scalar(select(func.count(AuditEntry.id)).where(
            AuditEntry.outcome == "denied")) == before + 1, mutation
    session.expire_all()
    from models import Customer

    assert session.get(Customer, c.id).version == version


def test_R_CUST_9_graphql_refusals_say_nothing_about_other_archives(world, api, session):
    c = world.customers["sales1"][0]
    body = api(world.sales4)(REQUEST, {"a": c.name[:-1], "r": "看看"})
    payload = body["data"]["requestArchiveAccess"]
    assert payload["ok"] is False and payload["errors"][0]["rule"] == "R-CUST-9"
    assert c.code not in payload["errors"][0]["message"]
    asked = api(world.sales4)(REQUEST, {"a": c.code, "r": "看看"})["data"][
        "requestArchiveAccess"]["result"]
    # another department's manager cannot decide it: not found, like a missing loan
    wrong = api(world.manager2)(DECIDE, {"id": asked["id"], "ok": True, "v": asked["version"]})
    assert wrong["data"]["decideArchiveAccess"]["errors"][0]["code"] == "not_found"
    assert session.scalar(select(ArchiveLoan.status)) == "requested"
    waiting = api(world.manager)("{ archiveLoans(first: 5, view: WAITING_FOR_ME) "
                                 "{ nodes { databaseId } } }")
    assert [n["databaseId"] for n in waiting["data"]["archiveLoans"]["nodes"]] == [
        asked["databaseId"]]
    assert api(world.manager2)("{ archiveLoans(first: 5, view: WAITING_FOR_ME) "
                               "{ totalCount } }")["data"]["archiveLoans"]["totalCount"] == 0
    refused = api(world.manager)(DECIDE, {"id": asked["id"], "ok": False, "r": "无业务需要",
                                          "v": asked["version"]})
    assert refused["data"]["decideArchiveAccess"]["result"]["state"] == "REFUSED"


def test_R_CUST_9_graphql_return_revoke_and_expiry(world, api, session) -> None:
    c, d = world.customers["sales1"]
    loan_id, _ = _borrow(world, api, c)
    version = session.get(ArchiveLoan, loan_id).version
    returned = api(world.sales4)(RETURN, {"id": f"ArchiveLoan:{loan_id}", "v": version})
    assert returned["data"]["returnArchiveLoan"]["result"]["state"] == "RETURNED"
    assert api(world.sales4)(CUSTOMER, {"id": f"Customer:{c.id}"})["data"]["node"] is None
    second, _ = _borrow(world, api, d)
    session.expire_all()
    version = session.get(ArchiveLoan, second).version
    denied = api(world.sales4)(REVOKE, {"id": f"ArchiveLoan:{second}", "r": "x", "v": version})
    assert denied["data"]["revokeArchiveLoan"]["ok"] is False
    revoked = api(world.manager)(REVOKE, {"id": f"ArchiveLoan:{second}", "r": "客户投诉",
                                          "v": version})
    assert revoked["data"]["revokeArchiveLoan"]["result"] == {"state": "REVOKED",
                                                              "endReason": "客户投诉"}
    third, decided = _borrow(world, api, c)
    session.expire_all()
    ends = session.get(ArchiveLoan, third).ends_at
    clock.set_now(ends - timedelta(seconds=1))
    assert api(world.sales4)(CUSTOMER, {"id": f"Customer:{c.id}"})["data"]["node"]
    clock.set_now(ends)
    assert api(world.sales4)(CUSTOMER, {"id": f"Customer:{c.id}"})["data"]["node"] is None
    mine = api(world.sales4)("{ archiveLoans(first: 5, view: MINE) { nodes { state } } }")
    assert [n["state"] for n in mine["data"]["archiveLoans"]["nodes"]] == [
        "EXPIRED", "REVOKED", "RETURNED"]


def test_R_CUST_9_graphql_reading_what_hangs_off_a_borrowed_archive_is_audited(
        world, api, session) -> None:
    """A complaint of the borrowed archive returned on its own (node or list) is a read of
    the archive, audited with the loan id, once per request."""
    from tests.graphql.data import add_complaint

    c, other = world.customers["sales1"]
    complaint = add_complaint(session, c, world.sales1)
    hidden = add_complaint(session, other, world.sales1)
    session.commit()
    loan_id, _ = _borrow(world, api, c)
    borrower = api(world.sales4)
    query = "query($id: ID!) { node(id: $id) { ... on Complaint { number } } }"
    got = borrower(query, {"id": f"Complaint:{complaint.id}"})["data"]["node"]
    assert got == {"number": complaint.number}
    assert borrower(query, {"id": f"Complaint:{hidden.id}"})["data"]["node"] is None
    session.expire_all()
    assert _reads(session, loan_id) == 1
    listed = borrower("{ complaints(first: 50) { nodes { number } } }")
    numbers = {n["number"] for n in listed["data"]["complaints"]["nodes"]}
    assert complaint.number in numbers and hidden.number not in numbers
    session.expire_all()
    assert _reads(session, loan_id) == 2
