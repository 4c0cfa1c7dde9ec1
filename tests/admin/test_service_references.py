"""Issue 13, part 2: the portal finds its service verbs by reference (an import), never by a
``"module:function"`` string looked up at run time, and a value a verb does not accept is a
400 with a message, never silently dropped."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from wtforms import StringField

from admin_views.base import ScopedModelView
from admin_views.workflow import Operation, WorkflowMixin, call_verb, unaccepted
from models import Complaint
from portal.services import complaints as complaint_service
from portal.services.errors import ValidationFailed

ROOT = Path(__file__).resolve().parents[2]


def _views(app) -> list[ScopedModelView]:
    return [v for v in app.extensions["admin"][0]._views if isinstance(v, ScopedModelView)]


def test_doors_name_services_by_reference_not_by_string() -> None:
    """No ``"portal.services.x:verb"`` string and no importlib lookup of a service in the
    portal: a renamed verb fails at import, not as a silent 403 at run time."""
    pattern = re.compile(r"""["'][a-z_.]*services[a-z_.]*:[a-z_]+["']|\{[A-Z_]*SERVICES\}:""")
    offenders = [f"{p.relative_to(ROOT)}: {m.group(0)}"
                 for p in sorted((ROOT / "admin_views").rglob("*.py"))
                 for m in pattern.finditer(p.read_text("utf-8"))]
    assert offenders == []
    for p in (ROOT / "admin_views").rglob("*.py"):
        text = p.read_text("utf-8")
        assert "import_module" not in text or p.name == "registry.py", p


def test_every_view_holds_callable_verbs(app) -> None:
    views = _views(app)
    assert views
    for view in views:
        for name in ("create_service", "update_service", "delete_service"):
            fn = getattr(type(view), name)
            assert fn is None or callable(fn), (view.endpoint, name)
        for o in getattr(view, "operations", ()):
            assert callable(o.function), (view.endpoint, o.name)


def test_every_workflow_button_sends_only_what_its_verb_takes(app) -> None:
    """Each workflow form's fields, its fixed values and the version (for versioned records)
    are parameters of the verb it calls: nothing a user types is dropped."""
    checked = 0
    for view in _views(app):
        if not isinstance(view, WorkflowMixin):
            continue
        for o in view.operations:
            sent = set(o.fields) | set(o.fixed)
            if hasattr(view.model, "version"):
                sent.add("expected_version")
            assert unaccepted(o.function, sent) == [], (view.endpoint, o.name)
            checked += 1
    assert checked >= 15  # complaints, credit lines, penalty notices, …


def test_call_verb_refuses_a_value_the_verb_does_not_take() -> None:
    def verb(session, actor, pk, *, note=None):
        raise AssertionError("must not be called")

    try:
        call_verb(verb, None, None, 1, {"note": "x", "colour": "red"})
    except ValidationFailed as exc:
        assert exc.field == "colour"
    else:
        raise AssertionError("an unaccepted value was dropped")


def _post_extra_field(app, session, world, login, monkeypatch, lang: str | None):
    c = complaint_service.register_complaint(session, world.service, {
        "customer_id": world.customers["sales1"][0].id, "channel": "phone",
        "type": "complaint", "cause": "service", "description": "送货迟到三天"})
    complaint_service.assign(session, world.service, c.id, world.service.id,
                             expected_version=c.version)
    session.refresh(c)
    view = next(v for v in _views(app) if v.endpoint == "complaint")
    patched: list[Operation] = [
        replace(o, fields={**o.fields, "colour": StringField("colour")})
        if o.name == "start_investigation" else o for o in view.operations]
    monkeypatch.setattr(view, "operations", tuple(patched))
    client = login(world.service)
    if lang:
        client.get(f"/lang/{lang}")
    resp = client.post(f"/admin/complaint/workflow/?id={c.id}&op=start_investigation",
                       data={"version": str(c.version), "colour": "red"})
    session.expire_all()
    return resp, session.get(Complaint, c.id)


def test_workflow_value_the_verb_does_not_take_is_a_400_in_chinese(
        app, session, world, login, monkeypatch) -> None:
    resp, c = _post_extra_field(app, session, world, login, monkeypatch, None)
    assert resp.status_code == 400
    assert "此操作不接受" in resp.get_data(as_text=True)
    assert c.status == "assigned"  # nothing changed


def test_workflow_value_the_verb_does_not_take_is_a_400_in_english(
        app, session, world, login, monkeypatch) -> None:
    resp, c = _post_extra_field(app, session, world, login, monkeypatch, "en")
    assert resp.status_code == 400
    assert "is not accepted by this action; nothing was changed." in resp.get_data(as_text=True)
    assert c.status == "assigned"
