"""Issue 16, R-CUST-8 as the archive policy writes it (原始档案不可修改): the original fields of a
dealt or closed archive are corrected only with the department manager's consent — a correction
request, the manager's 待办, consent (applied, history kept, audited) or refusal (nothing
changes); through both doors."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from models import (
    AuditEntry,
    CorrectionRequest,
    Customer,
    CustomerCorrection,
    Notification,
)
from portal.services import customers
from portal.services.customers import corrections
from portal.services.errors import DomainError, RuleViolation
from tests.doors.conftest import gid, gql_ok, post_form

DECIDE = """mutation($r: ID!, $a: Boolean!, $c: String, $v: Int!) { decideCustomerCorrection(
  requestId: $r, approve: $a, comment: $c, expectedVersion: $v) { ok errors { message } result { status } } }"""
REQUEST = """mutation($c: ID!, $n: String!, $r: String!) { requestCustomerCorrection(
  customerId: $c, changes: {name: $n}, reason: $r) { ok errors { message }
  result { id status changes { field newValue } } } }"""


def _dealt(session, world) -> Customer:
    c = world.customers["sales1"][0]
    customers.record_deal(session, world.sales1, c.id)
    session.refresh(c)
    return c


def _denied(session) -> int:
    return session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.outcome == "denied"))


def test_R_CUST_8_original_fields_of_a_dealt_archive_are_not_changed_directly(world, session):
    c = _dealt(session, world)
    name, denied = c.name, _denied(session)
    with pytest.raises(RuleViolation) as err:
        customers.update_customer(session, world.sales1, c.id, {"name": "改名有限公司"})
    assert err.value.rule == "R-CUST-8"
    session.expire_all()
    assert session.get(Customer, c.id).name == name and _denied(session) == denied + 1
    # other fields stay directly editable
    customers.update_customer(session, world.sales1, c.id, {"notes": "客户偏好周末到店"})


def test_R_CUST_8_request_to_the_managers_todo_then_consent_applies_with_history(
        world, session, login, api):
    c = _dealt(session, world)
    old_name = c.name
    # portal: the owner files the request from the customer's page
    client = login(world.sales1)
    page = client.get(f"/admin/customer/details/?id={c.id}").get_data(as_text=True)
    assert "申请更正原始资料" in page
    post_form(client, f"/admin/correctionrequest/request/?id={c.id}",
              {"name": "上海更正后贸易有限公司", "phone": c.phone or "", "credit_code":
               c.credit_code or "", "kind": c.kind, "special_category": "", "source": c.source,
               "reason": "营业执照名称登记错误"})
    req = session.scalars(select(CorrectionRequest).where(
        CorrectionRequest.customer_id == c.id)).one()
    assert req.status == "pending"
    session.expire_all()
    assert session.get(Customer, c.id).name == old_name  # nothing applied yet
    todo = session.scalar(select(Notification).where(
        Notification.kind == "customer.correction_request",
        Notification.user_id == world.manager.id))
    assert todo is not None  # the department manager's 待办
    with pytest.raises(DomainError):  # the owner does not consent to their own request
        corrections.decide_correction(session, world.sales1, req.id, True)
    with pytest.raises(DomainError):  # another department's manager cannot see it
        corrections.decide_correction(session, world.manager2, req.id, True)
    # GraphQL: the department manager consents
    out = gql_ok(api(world.manager), DECIDE, {"r": gid("CorrectionRequest", req.id), "a": True,
                                               "c": "核对营业执照无误", "v": req.version},
                 "decideCustomerCorrection")
    assert out["status"] == "approved"
    session.expire_all()
    assert session.get(Customer, c.id).name == "上海更正后贸易有限公司"
    history = session.scalars(select(CustomerCorrection).where(
        CustomerCorrection.customer_id == c.id, CustomerCorrection.field == "name")).all()
    assert [h.old_value for h in history] == [old_name]
    assert session.scalar(select(AuditEntry).where(
        AuditEntry.action == "customer.change", AuditEntry.target_id == str(c.id),
        AuditEntry.detail.contains(f"#{req.id}")))


def test_R_CUST_8_a_refused_correction_changes_nothing(world, session, login, api):
    c = _dealt(session, world)
    old_name = c.name
    out = gql_ok(api(world.sales1), REQUEST, {"c": gid("Customer", c.id), "n": "错误名称",
                                               "r": "客户要求改名"}, "requestCustomerCorrection")
    assert out["status"] == "pending" and out["changes"] == [
        {"field": "name", "newValue": "错误名称"}]
    req_id = int(out["id"].split(":")[1])
    client = login(world.manager)
    assert "同意更正" in client.get(
        f"/admin/correctionrequest/details/?id={req_id}").get_data(as_text=True)
    post_form(client, f"/admin/correctionrequest/decide/?id={req_id}&approve=0",
              {"comment": "与营业执照不符",
               "version": str(session.get(CorrectionRequest, req_id).version)})
    session.expire_all()
    assert session.get(CorrectionRequest, req_id).status == "refused"
    assert session.get(Customer, c.id).name == old_name
    assert session.scalar(select(func.count(CustomerCorrection.id)).where(
        CustomerCorrection.customer_id == c.id, CustomerCorrection.field == "name")) == 0
    told = session.scalar(select(Notification).where(
        Notification.kind == "customer.correction_decided",
        Notification.user_id == world.sales1.id))
    assert told is not None
