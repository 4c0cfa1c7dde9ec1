"""The authorisation matrix of the portal, generated from the registered admin views: every
URL rule × method of every view, for anonymous and every role, against ``policy.can``.

Deny by default: an endpoint the matrix cannot map to a policy action fails the test; an action
name a view does not map must be refused for everyone. Every refusal of a logged-in user must
leave exactly one 'denied' audit entry and never a 5xx.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from admin_views.base import ScopedModelView
from admin_views.registry import HomeView
from models.enums import AuditOutcome, Role
from portal import policy
from tests.admin.conftest import audit_seq, entries_since

# The matrix's own table for Flask-Admin's endpoints (independent of the code under test).
EXPECTED_VERBS: dict[str, tuple[str, ...]] = {
    "index_view": ("view",),
    "details_view": ("view",),
    "export": ("export",),
    "create_view": ("add",),
    "edit_view": ("change",),
    "delete_view": ("delete",),
    "ajax_update": ("change",),
    "ajax_lookup": ("add", "change"),
}
# Views that are not model views: endpoint → the policy actions ALL required ("*": every other
# endpoint). A view that is neither a ScopedModelView nor listed here fails the matrix.
OTHER_VIEWS: dict[str, dict[str, tuple[str, ...]]] = {
    "CustomerImportView": {"*": ("customer.import",)},
    "InboxView": {"*": ("token.view",), "mark_read": ("token.view", "token.change"),
                  "open_view": ("token.view",)},
    "SecurityReportView": {"*": ("security_report.view",)},
    "ReportsView": {"*": ("report.view",),
                    "credit": ("report.view", "credit.view"),
                    "over_limit": ("report.view", "credit.view")},
    "JointEventsView": {"*": ("joint_event.view",),
                        "new": ("joint_event.view", "joint_event.add"),
                        "submit": ("joint_event.view", "joint_event.submit"),
                        "board": ("joint_event.view", "joint_event.coordinate"),
                        "rule": ("joint_event.view", "joint_event.coordinate"),
                        "escalate": ("joint_event.view", "joint_event.coordinate"),
                        "attendance": ("joint_event.view", "joint_event.coordinate")},
    "ReceivablesView": {"*": ("credit.view",),
                        "summary_submit": ("credit.view", "credit.review"),
                        "summary_approve": ("credit.view", "credit.approve_summary")},
}
MISSING_ID = "987654"
ROLES = [r.value for r in Role]


@dataclass(frozen=True)
class Case:
    view: Any
    endpoint: str
    method: str
    path: str
    data: dict | None
    actions: tuple[str, ...] | None  # None: refused for everyone (unmapped action)

    @property
    def label(self) -> str:
        return f"{self.method} {self.path} [{self.endpoint}]"


def _actions_for(view: ScopedModelView, endpoint: str) -> tuple[str, ...]:
    verbs = view.endpoint_verbs.get(endpoint) or EXPECTED_VERBS.get(endpoint)
    if verbs is None:
        pytest.fail(f"{view.endpoint}.{endpoint} is not mapped to a policy action")
    area = policy.MODEL_AREA[view.model]
    return tuple(v if "." in v else f"{area}.{v}" for v in verbs)


def build_cases(app) -> tuple[list[Case], list[str]]:
    admin = app.extensions["admin"][0]
    cases: list[Case] = []
    home_rules: list[str] = []
    rules = list(app.url_map.iter_rules())
    for view in admin._views:
        if isinstance(view, HomeView):
            home_rules += [r.rule for r in rules if r.endpoint == f"{view.endpoint}.index"]
            continue
        if not isinstance(view, ScopedModelView):
            table = OTHER_VIEWS.get(type(view).__name__)
            assert table, f"{type(view).__name__} is not mapped to a policy action"
            for rule in rules:
                blueprint, _, endpoint = rule.endpoint.partition(".")
                if blueprint != view.endpoint or endpoint == "static":
                    continue
                for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                    cases.append(Case(view, endpoint, method, rule.rule,
                                      {} if method == "POST" else None,
                                      table.get(endpoint, table["*"])))
            continue
        for rule in rules:
            blueprint, _, endpoint = rule.endpoint.partition(".")
            if blueprint != view.endpoint or endpoint == "static":
                continue
            path = rule.rule.replace("<export_type>", "csv")
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                if endpoint == "action_view":
                    names = [name for name, _text in view._actions] + ["no_such_action"]
                    for name in names:
                        verb = view.action_verbs.get(name)
                        actions = (verb if "." in verb else
                                   f"{policy.MODEL_AREA[view.model]}.{verb}",) if verb else None
                        cases.append(Case(view, endpoint, method, path,
                                          {"action": name, "rowid": MISSING_ID}, actions))
                    continue
                actions = _actions_for(view, endpoint)
                query = {"details_view": f"?id={MISSING_ID}", "edit_view": f"?id={MISSING_ID}",
                         "ajax_lookup": "?name=customer&query=a"}.get(endpoint, "")
                if endpoint in view.endpoint_verbs:
                    ops = getattr(view, "operations", ())
                    op = f"&op={ops[0].name}" if ops else ""
                    query = f"?id={MISSING_ID}&ids={MISSING_ID}{op}"
                data = None
                if method == "POST":
                    data = {"id": MISSING_ID, "list_form_pk": MISSING_ID}
                cases.append(Case(view, endpoint, method, path + query, data, actions))
    return cases, home_rules


def expected_allowed(user, case: Case) -> bool:
    if case.actions is None:
        return False
    if not isinstance(case.view, ScopedModelView):
        return all(policy.can(user, a) for a in case.actions)
    return (policy.can(user, "view", case.view.model)
            and any(policy.can(user, a, case.view.model) for a in case.actions))


def test_R_ROLE_1_admin_matrix_every_endpoint_every_role(app, world, clients, client):
    cases, home_rules = build_cases(app)
    assert len({c.view.endpoint for c in cases}) >= 12, "views missing from the registry"
    assert home_rules
    problems: list[str] = []
    checked = 0
    # anonymous: every URL sends to the login page and changes nothing
    for case in cases:
        resp = client.open(case.path, method=case.method, data=case.data)
        checked += 1
        if resp.status_code != 302 or "/login" not in resp.headers.get("Location", ""):
            problems.append(f"anonymous {case.label}: {resp.status_code}")
    for rule in home_rules:
        resp = client.get(rule)
        checked += 1
        if resp.status_code != 302:
            problems.append(f"anonymous GET {rule}: {resp.status_code}")
    for role in ROLES:
        user = world.roles[role]
        c = clients[role]
        for rule in home_rules:
            checked += 1
            if c.get(rule).status_code != 200:
                problems.append(f"{role} GET {rule}: home page not shown")
        for case in cases:
            mark = audit_seq()
            resp = c.open(case.path, method=case.method, data=case.data)
            checked += 1
            allowed = expected_allowed(user, case) and (
                not isinstance(case.view, ScopedModelView) or case.view.supports(case.endpoint))
            status = resp.status_code
            if status >= 500:
                problems.append(f"{role} {case.label}: {status}")
            elif allowed and status == 403:
                problems.append(f"{role} {case.label}: refused, policy allows")
            elif not allowed and status != 403:
                problems.append(f"{role} {case.label}: {status}, policy refuses")
            elif status == 403:
                denied = [e for e in entries_since(mark)
                          if e.outcome == AuditOutcome.DENIED.value]
                if len(denied) != 1:
                    problems.append(f"{role} {case.label}: {len(denied)} denied audit entries")
    print(f"\nadmin matrix: {checked} cases ({len(cases)} URL×method×action per role, "
          f"{len(ROLES)} roles + anonymous), {len(problems)} unexpected")
    assert not problems, "\n".join(problems[:50])


def test_matrix_refuses_unmapped_endpoint(app, world, clients):
    """Deny by default: an ``@expose``d endpoint without a policy mapping answers 403."""
    admin = app.extensions["admin"][0]
    view = next(v for v in admin._views if getattr(v, "endpoint", "") == "customer")
    assert view.required_actions("some_new_endpoint") is None
    with app.test_request_context("/admin/customer/x/"):
        from flask_login import login_user
        from werkzeug.exceptions import Forbidden

        login_user(world.gm)
        with pytest.raises(Forbidden):
            view._handle_view("some_new_endpoint")
