"""规则设置 as a console (issue 15): labels, units, areas, validated ranges, explicit reset."""

from __future__ import annotations

from models import AuditEntry, Setting
from portal import settings as portal_settings
from portal.services import configuration
from tests.admin.conftest import audit_seq, entries_since, fingerprint


def test_settings_console_reads_in_chinese_grouped_with_units(world, clients):
    html = clients["sysadmin"].get("/admin/setting/").get_data(as_text=True)
    for text in ("客户档案", "客户投诉", "授信", "投诉结案期限", "工作日", "元",
                 "允许范围 1–30", "保存客户投诉设置"):
        assert text in html, text
    assert "complaint.close_working_days" not in html.replace(
        'name="value:complaint.close_working_days"', "").replace(
        'data-key="complaint.close_working_days"', "").replace(
        'id="value-complaint.close_working_days"', "").replace(
        'for="value-complaint.close_working_days"', "")
    assert "R-COMP" not in html


def test_settings_console_in_english(world, clients):
    c = clients["sysadmin"]
    c.get("/lang/en")
    html = c.get("/admin/setting/").get_data(as_text=True)
    assert "Complaint closed within" in html and "working days" in html
    assert "投诉结案期限" not in html


def test_settings_save_applies_on_next_request_and_is_audited(session, world, clients):
    c = clients["sysadmin"]
    mark = audit_seq()
    resp = c.post("/admin/setting/save/", data={"area": "complaint",
                                                "value:complaint.close_working_days": "5",
                                                "value:complaint.inquiry_hours": "24"})
    assert resp.status_code == 302
    session.expire_all()
    assert portal_settings.get(session, "complaint.close_working_days") == 5
    changes = [e for e in entries_since(mark) if e.action == "setting.change"]
    assert [e.target_id for e in changes] == ["complaint.close_working_days"]


def test_settings_out_of_range_refused_with_a_clear_message(session, world, clients):
    c = clients["sysadmin"]
    state = fingerprint()
    for value in ("0", "31", "abc", "-3"):
        resp = c.post("/admin/setting/save/", data={
            "area": "complaint", "value:complaint.close_working_days": value,
            "value:complaint.inquiry_hours": "12"}, follow_redirects=True)
        assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "投诉结案期限必须在 1 到 30 工作日之间" in c.post("/admin/setting/save/", data={
        "value:complaint.close_working_days": "31"}, follow_redirects=True).get_data(
        as_text=True)
    assert "alert" in html
    assert fingerprint() == state  # the valid 12 hours was not written either


def test_settings_reset_is_an_explicit_confirmed_button(session, world, clients):
    c = clients["sysadmin"]
    configuration.update_settings(session, world.sysadmin, {"complaint.repeat_days": "30"})
    html = c.get("/admin/setting/").get_data(as_text=True)
    assert "恢复默认" in html and "data-confirm=" in html and "恢复为默认值 90" in html
    assert "fa-trash" not in html
    mark = audit_seq()
    resp = c.post("/admin/setting/reset/", data={"key": "complaint.repeat_days"},
                  follow_redirects=True)
    assert "已恢复默认值：重复投诉认定期" in resp.get_data(as_text=True)
    session.expire_all()
    assert session.get(Setting, "complaint.repeat_days") is None
    assert [e.action for e in entries_since(mark)] == ["setting.delete"]
    assert session.query(AuditEntry).filter_by(action="setting.delete").count() == 1


def test_settings_refused_for_other_roles(world, clients):
    sales = clients["sales"]
    state = fingerprint()
    assert sales.get("/admin/setting/").status_code == 403
    assert sales.post("/admin/setting/save/", data={
        "value:complaint.close_working_days": "9"}).status_code == 403
    assert fingerprint() == state


def test_every_setting_has_a_label_unit_and_range():
    from portal import setting_specs

    missing = [k for k in portal_settings.DEFAULTS if k not in setting_specs.SPECS]
    assert not missing, f"add a SettingSpec (label, explanation, unit, range) for {missing}"
    for key, spec in setting_specs.SPECS.items():
        if key in portal_settings.DEFAULTS and spec.unit != "roles":  # a set of roles
            assert spec.minimum <= portal_settings.DEFAULTS[key] <= spec.maximum, key


def test_a_switch_setting_is_a_select(session, world, clients):
    c = clients["sysadmin"]
    html = c.get("/admin/setting/").get_data(as_text=True)
    assert 'name="value:complaint.penalties_enabled"' in html and "开启" in html
    c.post("/admin/setting/save/", data={"value:complaint.penalties_enabled": "false"})
    session.expire_all()
    assert portal_settings.get(session, "complaint.penalties_enabled") is False


def test_R_ROLE_6_two_factor_roles_are_ticked_by_name(session, world, clients):
    """The set of roles that must sign in with two factors is a setting, shown and chosen by
    the roles' names (no codes on the page)."""
    c = clients["sysadmin"]
    html = c.get("/admin/setting/").get_data(as_text=True)
    assert 'id="value-two_factor.required_roles-general_manager"' in html
    assert ">总经理</label>" in html and "&#34;general_manager" not in html
    c.post("/admin/setting/save/", data={"area": "security",
                                         "roles:two_factor.required_roles": "1",
                                         "value:two_factor.required_roles": ["sysadmin",
                                                                             "secadmin"]})
    session.expire_all()
    portal_settings.forget(session)
    assert portal_settings.get(session, "two_factor.required_roles") == ["sysadmin", "secadmin"]
    c.post("/admin/setting/save/", data={"value:two_factor.required_roles": ["boss"],
                                         "roles:two_factor.required_roles": "1"})
    portal_settings.forget(session)
    assert portal_settings.get(session, "two_factor.required_roles") == ["sysadmin", "secadmin"]
