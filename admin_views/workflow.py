"""Workflow buttons on a details page: each operation is one service verb, guarded by one
policy action; its parameters come from a small form. Used by complaints and credit lines."""

from __future__ import annotations

import inspect as pyinspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from flask import abort, flash, redirect, request
from flask_admin import expose
from flask_babel import gettext
from flask_wtf import FlaskForm

from admin_views.base import MASK, actor
from portal import policy
from portal.extensions import orm_session
from portal.services.accepts import not_accepted
from portal.services.unit import form_version


@dataclass
class Operation:
    name: str
    label: Any
    action: str  # the policy action, e.g. "complaint.approve"
    function: Callable[..., Any]  # the service verb, by reference
    fields: dict[str, Any] = field(default_factory=dict)  # kwarg name → unbound wtforms field
    fixed: dict[str, Any] = field(default_factory=dict)  # kwargs always passed
    tone: str = "primary"


def unaccepted(fn: Callable[..., Any], names: Iterable[str]) -> list[str]:
    """The keyword names among ``names`` that ``fn`` does not accept."""
    params = pyinspect.signature(fn).parameters
    if any(p.kind == p.VAR_KEYWORD for p in params.values()):
        return []
    return sorted(n for n in names if n not in params
                  or params[n].kind in (pyinspect.Parameter.POSITIONAL_ONLY,
                                        pyinspect.Parameter.VAR_POSITIONAL))


def call_verb(fn: Callable[..., Any], session: Any, user: Any, pk: Any,
              values: dict[str, Any]) -> Any:
    """Call ``fn(session, actor, pk, **values)``. A value the verb does not accept is refused
    (``ValidationFailed`` naming the field: a 400 with the message, nothing changed), never
    dropped: a form field nobody reads would look saved to the user."""
    refused = unaccepted(fn, values)
    if refused:
        raise not_accepted(refused[0])
    return fn(session, user, pk, **values)


class WorkflowMixin:
    """Adds ``/workflow/?id=…&op=…`` to a ScopedModelView (list it before ScopedModelView in
    the bases) and the workflow buttons to its details page."""

    operations: tuple[Operation, ...] = ()
    # What a decision page shows of the record (details columns, formatted as in lists).
    decision_columns: tuple[str, ...] = ()
    # Timeline step → label (complaint statuses, credit approval steps, …).
    step_labels: dict[str, Any] = {}

    def supports(self, endpoint: str) -> bool:
        if endpoint == "workflow_view":
            return bool(self.operations)
        return super().supports(endpoint)  # type: ignore[misc]

    def render(self: Any, template: str, **kwargs: Any) -> Any:
        if template == self.details_template and "model" in kwargs:
            kwargs["workflow_buttons"] = self.workflow_buttons(kwargs["model"])
            kwargs["timeline_events"] = self.timeline_events(kwargs["model"])
            kwargs["step_labels"] = dict(self.step_labels)
        return super().render(template, **kwargs)

    def timeline_events(self: Any, obj: Any) -> list[Any] | None:
        """The record's timeline, or None when the user may not see it."""
        from portal.services import timeline

        if not isinstance(obj, timeline.KINDS):
            return None
        if not self.row_field_visible(obj, "events") and "events" in self._all_fields():
            return None
        return timeline.events_of(orm_session(), obj)

    def _all_fields(self: Any) -> set[str]:
        groups = policy.FIELD_GROUPS.get(self.model, {})
        return set().union(*groups.values()) if groups else set()

    def decision_context(self: Any, obj: Any) -> list[tuple[Any, Any]]:
        """(label, value) rows of what is being decided, as the details page shows them,
        empty values left out."""
        rows = []
        formatters = self.column_formatters_detail or self.column_formatters
        for name in self.decision_columns:
            if not self.row_field_visible(obj, name):
                continue
            value = self._get_list_value(None, obj, name, formatters,
                                         self.column_type_formatters_detail)
            if value in (None, "", MASK):
                continue
            rows.append((self.get_column_name(name), value))
        return rows + self.extra_context(obj)

    def extra_context(self: Any, obj: Any) -> list[tuple[Any, Any]]:
        return []

    @expose("/workflow/", methods=("GET", "POST"))
    def workflow_view(self) -> Any:
        return self.workflow_page()

    def op(self, name: str) -> Operation | None:
        return next((o for o in self.operations if o.name == name), None)

    def available_ops(self: Any, obj: Any) -> list[Operation]:
        allowed = self.allowed_transitions(obj)
        ops = []
        for o in self.operations:
            if not policy.can(actor(), o.action, obj):
                continue
            if allowed is not None and o.name not in allowed:
                continue
            ops.append(o)
        return ops

    def allowed_transitions(self, obj: Any) -> set[str] | None:
        return None

    def prepare_form(self, o: Operation, form: Any, obj: Any) -> None:
        """Fill per-record choices (e.g. the people a complaint may be assigned to)."""

    def workflow_buttons(self: Any, obj: Any) -> list[tuple[str, Any, str]]:
        return [(self.get_url(".workflow_view", id=obj.id, op=o.name), o.label, o.tone)
                for o in self.available_ops(obj)]

    def workflow_page(self: Any) -> Any:
        o = self.op(request.args.get("op", ""))
        if o is None:
            abort(404)
        obj = self.get_one_for(request.args.get("id"), o.action)
        if o not in self.available_ops(obj):
            abort(403) if not policy.can(actor(), o.action, obj) else abort(404)
        form_class = type("WorkflowForm", (FlaskForm,), dict(o.fields))
        form = form_class()
        self.prepare_form(o, form, obj)
        status = 200
        if request.method == "POST" and form.validate():
            values = dict(o.fixed)
            values.update({k: form[k].data for k in o.fields})
            if "expected_version" not in values and hasattr(obj, "version"):
                values["expected_version"] = form_version(request.form.get("version"))
            refused = unaccepted(o.function, values)
            if refused:  # the page sends what the verb does not take: say so, change nothing
                self._fail(not_accepted(refused[0]), form)
                status = 400
            elif self.run_service(lambda s, a: call_verb(o.function, s, a, obj.id, values)):
                flash(gettext("已完成：%(action)s。", action=o.label), "success")
                return redirect(self.get_url(".details_view", id=obj.id))
        others = [(self.get_url(".workflow_view", id=obj.id, op=other.name), other.label,
                   other.tone) for other in self.available_ops(obj)
                  if other.name != o.name and other.action == o.action]
        page = self.render("admin/workflow_form.html", form=form, title=o.label,
                           record_title=str(obj), submit=o.label, tone=o.tone,
                           context_rows=self.decision_context(obj), other_ops=others,
                           events=self.timeline_events(obj), step_labels=dict(self.step_labels),
                           version=getattr(obj, "version", None),
                           return_url=self.get_url(".details_view", id=obj.id))
        return (page, status) if status != 200 else page



