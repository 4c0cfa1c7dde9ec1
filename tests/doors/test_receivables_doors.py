"""GraphQL door of receivables (R-CRED-9, R-CRED-10) and penalties (R-COMP-11): the same
services and answers as the portal pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from models import CreditSummaryApproval, PenaltyNotice
from portal import clock
from portal.services import credit
from tests.doors.conftest import gid, gql_ok
from tests.services.test_credit import _approved_line
from tests.services.test_penalties import THURSDAY_END, _close, _fault, _notice, _replied

NOW = datetime(2025, 3, 10, 2, 0, tzinfo=UTC)
AGEING = """query($d: Date) { receivablesAgeing(asOf: $d) { asOf totalBalance totalPastDue
  frozenCount rows { code kind balance days31To60 pastDue frozen salesperson }
  bySalesperson { salesperson pastDue } csv } }"""


def test_R_CRED_9_ageing_through_graphql(session, world, api):
    customer = world.customers["sales1"][0]
    with clock.frozen(NOW):
        _approved_line(session, world, customer, term_days=10)
        credit.record_transaction(session, world.finance, customer.id, "order", "2500.5")
    with clock.frozen(NOW + timedelta(days=45)):
        out = api(world.finance)(AGEING, {"d": None})
        denied = api(world.reception)(AGEING, {"d": None})
    data = out["data"]["receivablesAgeing"]
    assert not out.get("errors")
    [row] = data["rows"]
    assert (row["code"], row["days31To60"], row["frozen"]) == (customer.code, "2500.50", True)
    assert data["frozenCount"] == 1 and Decimal(data["totalPastDue"]) == Decimal("2500.50")
    assert "2500.50" in data["csv"]
    assert denied["data"]["receivablesAgeing"] is None
    assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def test_R_CRED_10_summary_submitted_and_approved_through_graphql(session, world, api):
    customer = world.customers["sales1"][0]
    with clock.frozen(NOW):
        _approved_line(session, world, customer)
        credit.record_transaction(session, world.finance, customer.id, "order", "100")
    later = datetime(2025, 4, 2, 2, 0, tzinfo=UTC)
    with clock.frozen(later):
        gql_ok(api(world.finance), """mutation { submitCreditSummary(month: "2025-03") {
            ok errors { code message } result { status } } }""", {}, "submitCreditSummary")
        v = {"v": session.scalar(select(CreditSummaryApproval.version))}
        bad = api(world.gm)("""mutation($v: Int!) { approveCreditSummary(month: "2025-03",
            comment: "", expectedVersion: $v) {
            ok errors { field code } } }""", v)["data"]["approveCreditSummary"]
        assert bad["ok"] is False and bad["errors"][0]["field"] == "comment"
        result = gql_ok(api(world.gm), """mutation($v: Int!) { approveCreditSummary(
            month: "2025-03", comment: "同意", expectedVersion: $v) {
            ok errors { code message } result { status approvedBy comment } } }""",
                        v, "approveCreditSummary")
        summary = api(world.finance)("""{ creditSummary(month: "2025-03") { asOf totalBalance
            approval { status comment } rows { code balance } } }""", {})
    assert result == {"status": "approved", "approvedBy": world.gm.full_name, "comment": "同意"}
    data = summary["data"]["creditSummary"]
    assert data["approval"] == {"status": "approved", "comment": "同意"}
    assert data["rows"] == [{"code": customer.code, "balance": "100.00"}]
    assert session.scalar(select(CreditSummaryApproval.status)) == "approved"


def test_R_COMP_11_penalty_waived_and_listed_through_graphql(session, world, api):
    a, b = _replied(session, world), _replied(session, world)
    _close(session, world, a, THURSDAY_END, **_fault(world))
    _close(session, world, b, THURSDAY_END, **_fault(world))
    gm = api(world.gm)
    with clock.frozen(THURSDAY_END + timedelta(hours=1)):
        na, nb = _notice(session, a), _notice(session, b)
        gql_ok(gm, """mutation($id: ID!, $v: Int!) { confirmPenalty(noticeId: $id,
            expectedVersion: $v) { ok errors { message } result } }""",
               {"id": gid("PenaltyNotice", na.id), "v": na.version}, "confirmPenalty")
        gql_ok(gm, """mutation($id: ID!, $v: Int!) { waivePenalty(noticeId: $id, reason: "已澄清",
            expectedVersion: $v) { ok errors { message } result } }""",
               {"id": gid("PenaltyNotice", nb.id), "v": nb.version}, "waivePenalty")
        rows = gm("""{ penaltyList(month: "2025-03") { complaintNumber person ground
            amount } }""", {})["data"]["penaltyList"]
    assert rows == [{"complaintNumber": a.number, "person": world.sales1.full_name,
                     "ground": "substantiated", "amount": "100.00"}]
    session.expire_all()
    assert sorted(session.scalars(select(PenaltyNotice.status))) == ["confirmed", "waived"]
