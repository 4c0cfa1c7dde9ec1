"""Refusals and errors in the portal's frame and the user's language (issue 14, part 5):
403, 404 and 500 pages with the menu, in Chinese or English, never Werkzeug's English page."""

from __future__ import annotations

from portal.services.errors import RuleViolation


def test_403_is_the_portal_page_in_chinese(clients):
    resp = clients["sales"].get("/admin/grant/")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 403
    assert "您没有权限打开此页面" in html
    assert 'class="navbar' in html and "/admin/customer/" in html  # the menu is there
    assert "Forbidden" not in html and "You don't have the permission" not in html


def test_403_in_english_for_an_english_user(clients):
    client = clients["sales"]
    client.get("/lang/en")
    html = client.get("/admin/grant/").get_data(as_text=True)
    assert "You do not have permission to open this page" in html
    assert "您没有权限" not in html


def test_404_is_the_portal_page(clients):
    resp = clients["sales"].get("/admin/customer/details/?id=987654")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 404
    assert "页面不存在" in html and 'class="navbar' in html


def test_anonymous_403_and_404_stay_plain_and_translated(client):
    resp = client.get("/no-such-page")
    assert resp.status_code == 404
    html = resp.get_data(as_text=True)
    assert "页面不存在" in html and 'class="navbar' not in html


def test_500_is_the_portal_page(app, clients):
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.route("/admin-test-boom")
    def boom():
        raise RuntimeError("boom")

    resp = clients["sales"].get("/admin-test-boom")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 500
    assert "系统出错" in html and 'class="navbar' in html and "boom" not in html


def test_R_CUST_1_duplicate_message_names_the_field_not_its_identifier():
    exc = RuleViolation("重卡: an archive with the same %(key)s already exists: %(code)s "
                        "%(name)s. The earlier registration wins; ask your supervisor if it "
                        "should be yours.", key="phone", code="KH1", name="张三")
    catalog = {"phone number": "电话",
               exc.message: "重卡：已存在%(key)s相同的客户档案：%(code)s %(name)s。"}
    text = exc.translated(lambda s: catalog.get(s, s))
    assert text.startswith("重卡：已存在电话相同的客户档案")
    assert "phone" not in text
