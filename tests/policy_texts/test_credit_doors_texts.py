"""Issue 16, credit through both doors: the approval in the portal gives a temporary line its
end date; a C rating entered through GraphQL or the portal suspends the line at once (the
next order on credit is refused); the approval re-checks the caps (R-CRED-4)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from models import CreditLine, CustomerTransaction
from portal import clock
from portal.services import credit as svc
from tests.doors.conftest import audit_mark, audit_since, gid, gql_ok, post_form
from tests.doors.test_credit_doors import A_ANSWERS, _camel, _line, _line_in_force, _workflow


def test_R_CRED_4_temporary_line_approved_in_the_portal_gets_its_end_date(
        session, world, login):
    c = world.customers["sales1"][0]
    svc.evaluate(session, world.finance, c.id, A_ANSWERS)
    post_form(login(world.manager), "/admin/creditline/new/", {
        "customer": str(c.id), "kind": "temporary", "limit_amount": "80000",
        "term_days": "30", "collateral_value": "0"})
    line = _line(session, c.id)
    _workflow(session, login(world.finance), line, "review_accept", "资料齐全")
    _workflow(session, login(world.gm), line, "approve_accept", "同意")
    line = _line(session, c.id)
    assert line.status == "approved"
    assert line.valid_until == svc.add_months(clock.today(), 3)


def test_R_CRED_4_caps_rechecked_at_approval_through_the_portal(session, world, login):
    c = world.customers["sales1"][0]
    svc.evaluate(session, world.finance, c.id, A_ANSWERS)
    line = svc.propose_line(session, world.manager, c.id,
                            {"kind": "temporary", "limit_amount": "90000", "term_days": 30})
    svc.review_line(session, world.finance, line.id, True)
    svc.evaluate(session, world.finance, c.id, {**A_ANSWERS, "avg_monthly_receipts": "70000"})
    client = login(world.gm)
    session.expire_all()
    resp = client.post(f"/admin/creditline/workflow/?id={line.id}&op=approve_accept",
                       data={"version": str(line.version), "note": "同意"})
    assert resp.status_code in (200, 302)
    session.expire_all()
    assert session.get(CreditLine, line.id).status == "reviewed"
    assert svc.line_in_force(session, c.id) is None


def test_R_CRED_4_c_rating_through_graphql_suspends_the_line(session, world, api):
    c = world.customers["sales1"][0]
    _line_in_force(session, world, c)
    answers = {_camel(k): (v.upper() if isinstance(v, str) and not v[0].isdigit() else v)
               for k, v in {**A_ANSWERS, "debt_disputes": True}.items()}
    answers["yearsOfCooperation"] = "3"
    mark = audit_mark(session)
    with clock.frozen(clock.now() + timedelta(seconds=1)):
        gql_ok(api(world.finance), """
            mutation($id: ID!, $a: CreditAnswersInput!) {
              evaluateCredit(customerId: $id, answers: $a) {
                ok errors { code message field rule } result { id } } }""",
               {"id": gid("Customer", c.id), "a": answers}, "evaluateCredit")
    assert ("credit.suspend", "ok") in audit_since(session, mark)
    session.expire_all()
    assert svc.line_in_force(session, c.id) is None
    out = api(world.finance)("""mutation($id: ID!) {
      recordTransaction(customerId: $id, kind: ORDER, amount: "100", reference: "SO-2") {
        ok errors { code message field rule } } }""", {"id": gid("Customer", c.id)})
    payload = out["data"]["recordTransaction"]
    assert not payload["ok"] and payload["errors"][0]["rule"] == "R-CRED-8"
    assert session.scalar(select(CustomerTransaction).where(
        CustomerTransaction.customer_id == c.id)) is None


def test_R_CRED_4_c_rating_through_the_portal_suspends_the_line(session, world, login):
    c = world.customers["sales1"][0]
    _line_in_force(session, world, c)
    form = {"customer": str(c.id), "bad_debt_2y": "y"}
    for key, value in A_ANSWERS.items():
        if isinstance(value, bool):
            continue
        form[key] = str(value)
    mark = audit_mark(session)
    with clock.frozen(clock.now() + timedelta(seconds=1)):
        post_form(login(world.finance), "/admin/creditevaluation/new/", form)
    assert ("credit.suspend", "ok") in audit_since(session, mark)
    session.expire_all()
    assert svc.line_in_force(session, c.id) is None


LINE_STATUS = """query($id: ID!) { node(id: $id) { ... on CreditLine { status effectiveStatus } } }"""


def _rated_c(session, world, c) -> CreditLine:
    line = _line_in_force(session, world, c)
    with clock.frozen(clock.now() + timedelta(seconds=1)):
        svc.evaluate(session, world.finance, c.id, {**A_ANSWERS, "bad_debt_2y": True})
    session.expire_all()
    return session.get(CreditLine, line.id)


def test_R_CRED_4_a_suspended_line_is_shown_suspended_in_both_doors(session, world, login, api):
    c = world.customers["sales1"][0]
    line = _rated_c(session, world, c)
    assert line.status == "approved" and svc.line_in_force(session, c.id) is None
    # GraphQL: the stored status stays, the shown one is derived
    out = api(world.finance)(LINE_STATUS, {"id": gid("CreditLine", line.id)})
    assert out["data"]["node"] == {"status": "APPROVED", "effectiveStatus": "SUSPENDED"}
    lines = api(world.finance)("{ creditLines(first: 10) { edges { node { databaseId "
                               "effectiveStatus } } } }")["data"]["creditLines"]["edges"]
    assert {"databaseId": line.id, "effectiveStatus": "SUSPENDED"} in [e["node"] for e in lines]
    # portal: the list, the line's page and the customer's credit tab show 已暂停, not 已批准
    client = login(world.finance)
    for url in ("/admin/creditline/", f"/admin/creditline/details/?id={line.id}",
                f"/admin/customer/details/?id={c.id}"):
        html = client.get(url).get_data(as_text=True)
        assert "status-suspended" in html and "已暂停" in html, url
        assert "status-approved" not in html, url
    # the 已暂停 list preset is the service's expression and agrees with the Python twin
    html = client.get("/admin/creditline/?preset=suspended").get_data(as_text=True)
    assert "status-suspended" in html, html[-3000:]
    from admin_views.credit import CreditLineView
    from portal.services import credit_status

    preset = set(session.scalars(select(CreditLine.id).where(
        CreditLineView.presets["suspended"][1](None))))
    twin = {ln.id for ln in session.scalars(select(CreditLine))
            if credit_status.shown_status(session, ln) == "suspended"}
    assert preset == twin == {line.id}


def test_R_CRED_4_a_lapsed_temporary_line_is_shown_lapsed(session, world, app, login):
    from tests.graphql.conftest import Api, make_token

    c = world.customers["sales1"][0]
    line = _line_in_force(session, world, c)
    assert line.valid_until is not None  # a temporary line
    client = Api(app.test_client(), make_token(session, world.finance, days=400))
    with clock.frozen(clock.now() + timedelta(days=120)):
        out = client(LINE_STATUS, {"id": gid("CreditLine", line.id)})
        assert out["data"]["node"]["effectiveStatus"] == "LAPSED"
        html = login(world.finance).get(f"/admin/creditline/details/?id={line.id}") \
            .get_data(as_text=True)
        assert "status-lapsed" in html and "已失效" in html
