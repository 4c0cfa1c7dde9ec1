"""Customer verbs (portal/services/customers.py) through the portal and through GraphQL.
Add contact, record deal, claim and close are buttons of the customer details page (shown only
when the policy allows them for that row), each a small form calling the service."""

from __future__ import annotations

from sqlalchemy import select

from models import Customer, CustomerContact, FollowUp, OwnerChange
from tests.doors.conftest import (
    audit_mark,
    audit_since,
    expire_ownership,
    gid,
    gql_ok,
    post_form,
    submit_form,
)


def details_offers(client, customer_id: int, page: str) -> bool:
    """Whether the customer details page shows the button of ``page`` (e.g. "close")."""
    body = client.get(f"/admin/customer/details/?id={customer_id}").get_data(as_text=True)
    return f"/admin/customer/{page}/?id={customer_id}" in body


def flashed(client) -> str:
    """The text of the next page (the flashed messages of the last redirect)."""
    return client.get("/admin/").get_data(as_text=True)

CREATE_FORM = {"name": "苏州门户新客户有限公司", "kind": "end", "phone": "13911112222",
               "source": "walk_in", "importance": "B", "intent": "warm", "notes": "门户登记"}


def _by_name(session, name: str) -> Customer:
    session.expire_all()
    return session.scalar(select(Customer).where(Customer.name == name))


# --- create (R-CUST-2: a new prospect's ownership starts with a validity period) --------------


def test_R_CUST_2_create_customer_through_portal(session, world, login):
    mark = audit_mark(session)
    post_form(login(world.sales1), "/admin/customer/new/", CREATE_FORM)
    c = _by_name(session, CREATE_FORM["name"])
    assert c is not None and c.owner_id == world.sales1.id and c.branch_id == world.b1.id
    assert c.status == "prospect" and c.ownership_expires_at is not None
    assert [(oc.from_user_id, oc.to_user_id) for oc in c.owner_changes] == \
        [(None, world.sales1.id)]
    assert ("customer.add", "ok") in audit_since(session, mark)


def test_R_CUST_2_create_customer_through_graphql(session, world, api):
    mark = audit_mark(session)
    result = gql_ok(api(world.sales1), """
        mutation($input: CustomerInput!) { createCustomer(input: $input) {
          ok errors { code message field rule } result { id name } } }""",
                    {"input": {"name": "杭州接口新客户有限公司", "kind": "END",
                               "phone": "13933334444", "importance": "B"}}, "createCustomer")
    assert result["name"] == "杭州接口新客户有限公司"
    c = _by_name(session, "杭州接口新客户有限公司")
    assert c.owner_id == world.sales1.id and c.ownership_expires_at is not None
    assert ("customer.add", "ok") in audit_since(session, mark)


# --- update with the version the user read ---------------------------------------------------


def test_update_customer_with_version_through_portal(session, world, login, sales1_customer):
    c = sales1_customer
    version = c.version
    mark = audit_mark(session)
    form = {**CREATE_FORM, "name": c.name, "phone": c.phone, "notes": "门户更正备注",
            "importance": "A", "version": str(version)}
    post_form(login(world.sales1), f"/admin/customer/edit/?id={c.id}", form)
    session.expire_all()
    assert c.notes == "门户更正备注" and c.importance == "A" and c.version == version + 1
    assert ("customer.change", "ok") in audit_since(session, mark)


def test_update_customer_with_version_through_graphql(session, world, api, sales1_customer):
    c = sales1_customer
    version = c.version
    mark = audit_mark(session)
    gql_ok(api(world.sales1), """
        mutation($id: ID!, $input: CustomerPatch!, $v: Int!) {
          updateCustomer(customerId: $id, input: $input, expectedVersion: $v) {
            ok errors { code message field rule } result { id } } }""",
           {"id": gid("Customer", c.id), "input": {"notes": "接口更正备注", "importance": "A"},
            "v": version}, "updateCustomer")
    session.expire_all()
    assert c.notes == "接口更正备注" and c.importance == "A" and c.version == version + 1
    assert ("customer.change", "ok") in audit_since(session, mark)


# --- add contact ------------------------------------------------------------------------------


def test_add_contact_through_portal(session, world, login, sales1_customer):
    c = sales1_customer
    client = login(world.sales1)
    assert details_offers(client, c.id, "contact")
    assert client.get(f"/admin/customer/contact/?id={c.id}").status_code == 200  # the form
    mark = audit_mark(session)
    post_form(client, f"/admin/customer/contact/?id={c.id}",
              {"name": "王经理", "title": "采购经理", "phone": "13800001111", "is_primary": "y"})
    assert "已添加联系人" in flashed(client)
    session.expire_all()
    contact = session.scalar(select(CustomerContact).where(CustomerContact.customer_id == c.id))
    assert (contact.name, contact.title, contact.phone, contact.is_primary) == \
        ("王经理", "采购经理", "13800001111", True)
    assert ("customer_contact.add", "ok") in audit_since(session, mark)


def test_add_contact_through_portal_refused_value_changes_nothing(session, world, login,
                                                                   sales1_customer):
    c = sales1_customer
    client = login(world.sales1)
    resp = client.post(f"/admin/customer/contact/?id={c.id}",
                       data={"name": "王经理", "email": "not-an-address"})
    assert resp.status_code == 200 and "not-an-address" in resp.get_data(as_text=True)
    session.expire_all()
    assert session.scalar(select(CustomerContact).where(
        CustomerContact.customer_id == c.id)) is None


def test_add_contact_page_refused_without_the_grant(session, world, login, sales1_customer):
    """Finance reads every archive but may not change contacts: no button, and 403."""
    c = sales1_customer
    client = login(world.finance)
    assert not details_offers(client, c.id, "contact")
    mark = audit_mark(session)
    assert client.post(f"/admin/customer/contact/?id={c.id}", data={"name": "X"}) \
        .status_code == 403
    assert [o for _a, o in audit_since(session, mark)] == ["denied"]
    session.expire_all()
    assert session.scalar(select(CustomerContact).where(
        CustomerContact.customer_id == c.id)) is None


def test_add_contact_through_graphql(session, world, api, sales1_customer):
    c = sales1_customer
    mark = audit_mark(session)
    gql_ok(api(world.sales1), """
        mutation($id: ID!, $input: ContactInput!) { addContact(customerId: $id, input: $input) {
          ok errors { code message field rule } result { id } } }""",
           {"id": gid("Customer", c.id), "input": {"name": "王经理", "phone": "13800001111",
                                                   "isPrimary": True}}, "addContact")
    session.expire_all()
    contact = session.scalar(select(CustomerContact).where(CustomerContact.customer_id == c.id))
    assert contact.name == "王经理" and contact.is_primary
    assert ("customer_contact.add", "ok") in audit_since(session, mark)


# --- follow-up (R-CUST-4 cadence) ------------------------------------------------------------


def _follow_ups(session, customer_id: int) -> list[FollowUp]:
    session.expire_all()
    return list(session.scalars(select(FollowUp).where(FollowUp.customer_id == customer_id)))


def test_R_CUST_4_record_follow_up_through_portal(session, world, login, sales1_customer):
    c = sales1_customer
    mark = audit_mark(session)
    post_form(login(world.sales1), f"/admin/customer/follow-up/?ids={c.id}",
              {"ids": str(c.id), "kind": "visit", "notes": "上门拜访"})
    [fu] = _follow_ups(session, c.id)
    assert fu.kind == "visit" and fu.notes == "上门拜访" and fu.next_due_at is not None
    assert any(a.startswith("customer.follow_up") and o == "ok"
               for a, o in audit_since(session, mark))


def test_R_CUST_4_record_follow_up_through_graphql(session, world, api, sales1_customer):
    c = sales1_customer
    mark = audit_mark(session)
    gql_ok(api(world.sales1), """
        mutation($id: ID!) { recordFollowUp(customerId: $id, kind: CALL, notes: "电话回访") {
          ok errors { code message field rule } result { id } } }""",
           {"id": gid("Customer", c.id)}, "recordFollowUp")
    [fu] = _follow_ups(session, c.id)
    assert fu.kind == "call" and fu.notes == "电话回访" and fu.next_due_at is not None
    assert any(a.startswith("customer.follow_up") and o == "ok"
               for a, o in audit_since(session, mark))


# --- record deal (R-CUST-2: a deal makes the ownership permanent) -----------------------------


def test_R_CUST_2_record_deal_through_portal(session, world, login, sales1_customer):
    c = sales1_customer
    expire_ownership(session, c)  # a prospect without a deal
    client = login(world.sales1)
    assert details_offers(client, c.id, "deal")
    assert client.get(f"/admin/customer/deal/?id={c.id}").status_code == 200  # the form
    mark = audit_mark(session)
    submit_form(client, f"/admin/customer/deal/?id={c.id}", {})
    assert "已登记成交" in flashed(client)
    session.expire_all()
    assert c.status == "active" and c.deal_at is not None and c.ownership_expires_at is None
    assert ("customer.deal", "ok") in audit_since(session, mark)
    assert not details_offers(client, c.id, "deal")  # done: the button is gone


def test_R_CUST_2_record_deal_through_graphql(session, world, api, sales1_customer):
    c = sales1_customer
    mark = audit_mark(session)
    gql_ok(api(world.sales1), """
        mutation($id: ID!, $v: Int!) { recordDeal(customerId: $id, expectedVersion: $v) {
          ok errors { code message field rule } result { id } } }""",
           {"id": gid("Customer", c.id), "v": c.version}, "recordDeal")
    session.expire_all()
    assert c.status == "active" and c.deal_at is not None and c.ownership_expires_at is None
    assert ("customer.deal", "ok") in audit_since(session, mark)


# --- reassign owner (R-CUST-7: every change of owner is recorded) ----------------------------


def _last_change(session, customer_id: int) -> OwnerChange:
    session.expire_all()
    return session.scalars(select(OwnerChange).where(OwnerChange.customer_id == customer_id)
                           .order_by(OwnerChange.id.desc())).first()


def test_R_CUST_7_reassign_owner_through_portal(session, world, login, sales1_customer):
    c = sales1_customer
    expire_ownership(session, c)
    mark = audit_mark(session)
    submit_form(login(world.supervisor), f"/admin/customer/reassign/?ids={c.id}",
                {"ids": str(c.id), "new_owner": str(world.sales2.id), "reason": "建档过期移交"})
    session.expire_all()
    assert c.owner_id == world.sales2.id
    oc = _last_change(session, c.id)
    assert (oc.from_user_id, oc.to_user_id, oc.changed_by_id) == \
        (world.sales1.id, world.sales2.id, world.supervisor.id)
    assert "建档过期移交" in oc.reason and "R-CUST-2" in oc.reason
    assert any(o == "ok" and "reassign" in a for a, o in audit_since(session, mark))


def test_R_CUST_7_reassign_owner_through_graphql(session, world, api, sales1_customer):
    c = sales1_customer
    expire_ownership(session, c)
    mark = audit_mark(session)
    gql_ok(api(world.supervisor), """
        mutation($id: ID!, $to: ID!, $v: Int!) {
          reassignOwner(customerId: $id, newOwnerId: $to, reason: "建档过期移交",
                        expectedVersion: $v) {
            ok errors { code message field rule } result { id } } }""",
           {"id": gid("Customer", c.id), "to": gid("User", world.sales2.id), "v": c.version},
           "reassignOwner")
    session.expire_all()
    assert c.owner_id == world.sales2.id
    oc = _last_change(session, c.id)
    assert (oc.from_user_id, oc.to_user_id, oc.changed_by_id) == \
        (world.sales1.id, world.sales2.id, world.supervisor.id)
    assert any(o == "ok" and "reassign" in a for a, o in audit_since(session, mark))


# --- claim (R-CUST-2: an expired ownership may be claimed in the branch) ----------------------


def test_R_CUST_2_claim_customer_through_portal(session, world, login, sales1_customer):
    c = sales1_customer
    expire_ownership(session, c)
    client = login(world.sales2)
    listing = client.get("/admin/customer/claim/").get_data(as_text=True)
    assert f"/admin/customer/claim/?id={c.id}" in listing  # the branch's claimable archives
    # the home page leads there, with the number of archives the list shows
    home = client.get("/admin/").get_data(as_text=True)
    shown = listing.count("/admin/customer/claim/?id=")
    assert shown >= 1
    assert f'href="/admin/customer/claim/" data-count="{shown}"' in home
    mark = audit_mark(session)
    submit_form(client, f"/admin/customer/claim/?id={c.id}", {})
    assert "已认领该客户档案" in flashed(client)
    session.expire_all()
    assert c.owner_id == world.sales2.id
    oc = _last_change(session, c.id)
    assert (oc.from_user_id, oc.to_user_id) == (world.sales1.id, world.sales2.id)
    assert "R-CUST-2" in oc.reason
    assert ("customer.claim", "ok") in audit_since(session, mark)


def test_R_CUST_2_claim_of_a_protected_archive_through_portal_changes_nothing(
        session, world, login, sales1_customer):
    """A valid registration is not claimable: not listed, and not reachable by id."""
    c = sales1_customer
    client = login(world.sales2)
    assert f"?id={c.id}" not in client.get("/admin/customer/claim/").get_data(as_text=True)
    assert 'href="/admin/customer/claim/" data-count="0"' in client.get("/admin/").get_data(
        as_text=True)
    assert client.post(f"/admin/customer/claim/?id={c.id}", data={}).status_code == 404
    session.expire_all()
    assert c.owner_id == world.sales1.id


def test_R_CUST_2_claim_customer_through_graphql(session, world, api, sales1_customer):
    c = sales1_customer
    expire_ownership(session, c)
    mark = audit_mark(session)
    gql_ok(api(world.sales2), """
        mutation($id: ID!, $v: Int!) { claimCustomer(customerId: $id, expectedVersion: $v) {
          ok errors { code message field rule } result { id } } }""",
           {"id": gid("Customer", c.id), "v": c.version}, "claimCustomer")
    session.expire_all()
    assert c.owner_id == world.sales2.id
    oc = _last_change(session, c.id)
    assert (oc.from_user_id, oc.to_user_id) == (world.sales1.id, world.sales2.id)
    assert "R-CUST-2" in oc.reason
    assert ("customer.claim", "ok") in audit_since(session, mark)


def _claim_by_graphql(api, user, c):
    return api(user)("""
        mutation($id: ID!, $v: Int!) { claimCustomer(customerId: $id, expectedVersion: $v) {
          ok errors { code message field rule } result { id } } }""",
                     {"id": gid("Customer", c.id), "v": c.version})


def test_R_CUST_2_claim_of_a_protected_archive_through_graphql_changes_nothing(
        session, world, api, sales1_customer):
    """The registration is still valid: refused with the rule named, one denied entry."""
    c = sales1_customer
    mark = audit_mark(session)
    out = _claim_by_graphql(api, world.sales2, c)
    payload = out["data"]["claimCustomer"]
    assert not payload["ok"] and payload["errors"][0]["rule"] == "R-CUST-3", payload
    session.expire_all()
    assert c.owner_id == world.sales1.id
    assert audit_since(session, mark).count(("customer.claim", "denied")) == 1


def test_R_CUST_2_claim_from_another_branch_is_refused_in_both_doors(
        session, world, login, api, sales1_customer):
    """Claimable, but not in the claimant's branch (sales3 is in 西区展厅): the portal neither
    lists nor opens it, GraphQL refuses it; the owner stays."""
    c = sales1_customer
    expire_ownership(session, c)
    client = login(world.sales3)
    assert f"?id={c.id}" not in client.get("/admin/customer/claim/").get_data(as_text=True)
    assert client.post(f"/admin/customer/claim/?id={c.id}", data={}).status_code in (403, 404)
    out = _claim_by_graphql(api, world.sales3, c)
    assert out.get("errors") or not out["data"]["claimCustomer"]["ok"], out
    session.expire_all()
    assert c.owner_id == world.sales1.id


def test_R_CUST_2_claim_button_is_the_service_decision(session, world, login, sales1_customer):
    """The details page offers 认领 exactly where ``customers.may_claim`` says so (the verb's
    preconditions and the archive's state, from the service): expired → offered to a colleague
    of the branch, never to its owner."""
    from portal.services import customers as customer_rules

    c = sales1_customer
    expire_ownership(session, c)
    for user in (world.sales1, world.sales2, world.sales3, world.supervisor):
        client = login(user)
        body = client.get(f"/admin/customer/details/?id={c.id}")
        offered = body.status_code == 200 and \
            f"/admin/customer/claim/?id={c.id}" in body.get_data(as_text=True)
        if body.status_code == 200:
            assert offered == customer_rules.may_claim(session, user, c), user.username
    assert customer_rules.may_claim(session, world.sales2, c)
    assert not customer_rules.may_claim(session, world.sales1, c)  # already theirs


# --- close (R-CUST-8: closed, never deleted) --------------------------------------------------


def test_R_CUST_8_close_customer_through_portal(session, world, login, sales1_customer):
    c = sales1_customer
    assert not details_offers(login(world.sales1), c.id, "close")  # sales may not close
    client = login(world.manager)
    assert details_offers(client, c.id, "close")
    assert client.get(f"/admin/customer/close/?id={c.id}").status_code == 200  # the form
    mark = audit_mark(session)
    submit_form(client, f"/admin/customer/close/?id={c.id}", {"reason": "客户注销"})
    assert "客户档案已关闭" in flashed(client)
    session.expire_all()
    assert session.get(Customer, c.id) is not None
    assert c.status == "closed" and c.closed_at is not None
    assert ("customer.close", "ok") in audit_since(session, mark)
    # a closed archive: no more close, contact or deal buttons; a second close is refused
    assert not details_offers(client, c.id, "close")
    resp = client.post(f"/admin/customer/close/?id={c.id}",
                       data={"reason": "再次关闭", "version": str(c.version)})
    assert resp.status_code == 200 and "alert-" in resp.get_data(as_text=True)
    assert [a for a, o in audit_since(session, mark) if a == "customer.close"] == \
        ["customer.close"]


def test_R_CUST_8_close_customer_through_graphql(session, world, api, sales1_customer):
    c = sales1_customer
    mark = audit_mark(session)
    gql_ok(api(world.manager), """
        mutation($id: ID!, $v: Int!) {
          closeCustomer(customerId: $id, reason: "客户注销", expectedVersion: $v) {
          ok errors { code message field rule } result { id } } }""",
           {"id": gid("Customer", c.id), "v": c.version}, "closeCustomer")
    session.expire_all()
    assert session.get(Customer, c.id) is not None
    assert c.status == "closed" and c.closed_at is not None
    assert ("customer.close", "ok") in audit_since(session, mark)
