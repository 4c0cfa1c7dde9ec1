"""Issue 14 part 8: service staff find complaints by the customer's name, code or phone (one
service condition, both doors); the claim page, the classification register and the API tokens
are in the menu for whoever may use them."""

from __future__ import annotations

from portal.services import complaints


def _complaint(session, world):
    customer = world.customers["sales1"][0]
    c = complaints.register_complaint(session, world.service, {
        "customer_id": customer.id, "channel": "phone", "type": "complaint", "cause": "quality",
        "description": "地板起翘"})
    return customer, c


def test_portal_finds_a_complaint_by_the_customers_name_code_or_phone(session, world, login):
    customer, c = _complaint(session, world)
    client = login(world.service)
    for term in (customer.name[:3], customer.code, customer.phone, c.number):
        html = client.get("/admin/complaint/", query_string={"search": term}).get_data(
            as_text=True)
        assert c.number in html, term
    html = client.get("/admin/complaint/", query_string={"search": "没有这个客户"}).get_data(
        as_text=True)
    assert c.number not in html


def test_menu_has_claim_classification_register_and_api_tokens(world, clients):
    sales = clients["sales"].get("/admin/").get_data(as_text=True)
    assert "/admin/customer/claim/" in sales and "/account/tokens" in sales
    assert "/admin/file/register/" not in sales
    secadmin = clients["secadmin"].get("/admin/").get_data(as_text=True)
    assert "/admin/file/register/" in secadmin
    auditor = clients["auditor"].get("/admin/").get_data(as_text=True)
    assert "/account/tokens" not in auditor and "/admin/customer/claim/" not in auditor


def test_R_RECV_1_rotation_page_is_in_the_menu_of_who_runs_the_rotation(world, clients):
    """今日轮流接待 is reachable from the menu (not only from the home page) for the front desk
    and the supervisor, and not shown to a salesperson or an auditor."""
    for role in ("reception", "supervisor"):
        page = clients[role].get("/admin/receptionrecord/").get_data(as_text=True)
        assert "/admin/receptionrecord/rotation/" in page and "今日轮流接待" in page, role
    for role in ("sales", "auditor"):
        page = clients[role].get("/admin/customer/").get_data(as_text=True)
        assert "/admin/receptionrecord/rotation/" not in page, role
