"""Both languages are complete: English msgids (portal pages, service errors) have a Chinese
translation, Chinese msgids (admin labels) an English one, and what a user sees follows the
chosen language (Simplified Chinese by default, English after /lang/en)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.support import Translations

from portal.translations import catalogs
from tests.factories import PASSWORD

HINT = ("run `make extract`, then translate the new entries in {po} (no fuzzy entries)")


@pytest.fixture(scope="module")
def extracted() -> dict[str, Catalog]:
    return catalogs.split(catalogs.extract())


@pytest.fixture(scope="module")
def shipped() -> dict[str, Catalog]:
    return {lang: catalogs.read(catalogs.po_path(lang)) for lang in catalogs.TARGETS}


def _ids(catalog: Catalog) -> list:
    return [m.id for m in catalog if m.id]


# --- the catalogs ---------------------------------------------------------------------------


@pytest.mark.parametrize("lang", sorted(catalogs.TARGETS))
def test_every_message_in_the_code_is_in_its_catalog(extracted, shipped, lang) -> None:
    """Fails when UI text is added to the code but not to the catalog."""
    missing = [mid for mid in _ids(extracted[lang]) if mid not in shipped[lang]]
    po = catalogs.po_path(lang).relative_to(catalogs.ROOT)
    assert not missing, f"{len(missing)} new messages, {HINT.format(po=po)}: {missing[:10]}"


@pytest.mark.parametrize("lang", sorted(catalogs.TARGETS))
def test_every_catalog_entry_is_translated_and_not_fuzzy(shipped, lang) -> None:
    catalog = shipped[lang]
    assert len(_ids(catalog)) > 40
    assert not catalog.fuzzy, "the catalog header is marked fuzzy: it would not be compiled"
    untranslated = [m.id for m in catalog if m.id and not m.string]
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    po = catalogs.po_path(lang).relative_to(catalogs.ROOT)
    assert not untranslated, f"untranslated in {po}: {untranslated[:10]}"
    assert not fuzzy, f"fuzzy (check and clear the flag) in {po}: {fuzzy[:10]}"


def test_english_msgids_get_chinese_and_chinese_msgids_get_english(shipped) -> None:
    for m in shipped["en"]:
        if m.id:
            assert catalogs.language_of(m.id) == "en", m.id
            assert catalogs._CJK.search(m.string), f"{m.id!r} -> {m.string!r} is not Chinese"
    for m in shipped["zh"]:
        if m.id:
            assert catalogs.language_of(m.id) == "zh", m.id
            assert catalogs.language_of(m.string) == "en", f"{m.id!r} -> {m.string!r}"


@pytest.mark.parametrize("lang", sorted(catalogs.TARGETS))
def test_placeholders_are_identical_in_msgid_and_msgstr(shipped, lang) -> None:
    wrong = [(m.id, m.string) for m in shipped[lang] if m.id and m.string
             and catalogs.placeholders(catalogs.text_of(m.id))
             != catalogs.placeholders(catalogs.text_of(m.string))]
    assert not wrong, wrong[:5]


def test_translation_renders_with_the_service_parameters(shipped) -> None:
    """Every translated error message formats with exactly the msgid's parameters."""
    for m in shipped["en"]:
        names = {p[2:-2] for p in catalogs.placeholders(m.id) if p.startswith("%(")}
        if names:
            params = {n: "x" for n in names}
            assert m.string % params, m.id


def test_language_of_mixed_messages() -> None:
    assert catalogs.language_of("三员分立: %(new)s cannot be held together with %(held)s.") == "en"
    assert catalogs.language_of("The file needs a 客户名称 (name) column.") == "en"
    assert catalogs.language_of("导出 CSV") == "zh"
    assert catalogs.language_of("已导入 %(n)s 条客户档案。") == "zh"
    assert catalogs.placeholders("%(a)s and %(b)d, 100%%") == ["%(a)s", "%(b)d"]


def test_stale_catalog_is_compiled_at_start_up(tmp_path, monkeypatch) -> None:
    """A fresh clone has no .mo files: the app compiles them (admin_views.init_admin)."""
    target = tmp_path / "zh_Hans_CN" / "LC_MESSAGES"
    target.mkdir(parents=True)
    shutil.copy(catalogs.po_path("en"), target / "messages.po")
    monkeypatch.setattr(catalogs, "DIRECTORIES", (tmp_path,))
    assert catalogs.compile_stale() == [target / "messages.mo"]
    assert catalogs.compile_stale() == []  # up to date: nothing rewritten
    loaded = Translations.load(str(tmp_path), ["zh_Hans_CN"])
    assert loaded.gettext("Sign in") == "登录"


def test_compiled_files_are_not_committed() -> None:
    ignored = (catalogs.ROOT / ".gitignore").read_text().splitlines()
    for directory in catalogs.DIRECTORIES:
        rel = Path(directory).relative_to(catalogs.ROOT).as_posix()
        assert f"{rel}/*/LC_MESSAGES/*.mo" in ignored


# --- what a user sees -----------------------------------------------------------------------


def test_login_page_is_chinese_by_default_and_english_after_switching(client) -> None:
    page = client.get("/login").get_data(as_text=True)
    assert "登录" in page and "Sign in" not in page
    refused = client.post("/login", data={"username": "nobody", "password": "wrong-9"})
    assert "用户名或密码错误。" in refused.get_data(as_text=True)

    client.get("/lang/en")
    page = client.get("/login").get_data(as_text=True)
    assert "Sign in" in page and "登录" not in page
    refused = client.post("/login", data={"username": "nobody", "password": "wrong-9"})
    assert "Invalid username or password." in refused.get_data(as_text=True)


def test_admin_labels_are_english_after_switching(world, login) -> None:
    c = login(world.sales1)
    assert "客户档案" in c.get("/admin/").get_data(as_text=True)
    c.get("/lang/en")
    page = c.get("/admin/").get_data(as_text=True)
    assert "Customer archive" in page


def _duplicate_form(world) -> dict:
    existing = world.customers["sales2"][0]
    return {"name": "完全不同的名字公司", "phone": existing.phone}


def test_service_error_in_the_portal_follows_the_language(world, login, session) -> None:
    existing = world.customers["sales2"][0]
    c = login(world.sales1)
    page = c.post("/admin/customer/new/", data=_duplicate_form(world)).get_data(as_text=True)
    # the field is named by its label, not its identifier (issue 14)
    assert f"重卡：已存在电话相同的客户档案：{existing.code}" in page
    assert "already exists" not in page

    c.get("/lang/en")
    page = c.post("/admin/customer/new/", data=_duplicate_form(world)).get_data(as_text=True)
    assert f"重卡: an archive with the same phone number already exists: {existing.code}" \
        in page


CREATE = """mutation($input: CustomerInput!) { createCustomer(input: $input) {
    ok errors { field code message rule } } }"""


def test_service_error_in_graphql_follows_the_users_language(world, session, client) -> None:
    from tests.graphql.conftest import Api, make_token

    existing = world.customers["sales2"][0]
    api = Api(client, make_token(session, world.sales1))
    variables = {"input": {"name": "完全不同的名字公司", "phone": existing.phone}}

    body = api(CREATE, variables)
    [error] = body["data"]["createCustomer"]["errors"]
    assert error["rule"] == "R-CUST-1"
    assert error["message"].startswith("重卡：已存在电话相同的客户档案")

    world.sales1.language = "en"
    session.commit()
    body = api(CREATE, variables)
    [error] = body["data"]["createCustomer"]["errors"]
    assert error["message"].startswith(
        "重卡: an archive with the same phone number already exists")


def test_password_page_errors_follow_the_language(world, login) -> None:
    c = login(world.sales1)
    form = {"current_password": PASSWORD, "new_password": "Another-password-2",
            "confirm_password": "Another-password-3"}
    page = c.post("/account/password", data=form).get_data(as_text=True)
    assert "修改密码" in page and "两次输入的新密码不一致。" in page
    c.get("/lang/en")
    page = c.post("/account/password", data=form).get_data(as_text=True)
    assert "Change password" in page and "The two new passwords differ." in page


def test_menu_customers_and_the_customer_field_have_their_own_english(app) -> None:
    """"客户" is both a menu (Customers) and a field label (Customer): the menu's msgid has
    the context "menu", so the English of each is right."""
    from flask_babel import force_locale, lazy_gettext

    from admin_views.menu_names import MENU_CUSTOMERS

    with app.test_request_context("/"), force_locale("en"):
        assert str(MENU_CUSTOMERS) == "Customers"
        assert str(lazy_gettext("客户")) == "Customer"
    with app.test_request_context("/"), force_locale("zh_Hans_CN"):
        assert str(MENU_CUSTOMERS) == "客户"
        assert str(lazy_gettext("客户")) == "客户"
