"""联合活动 (R-CUST-10): joint marketing events in the portal — the events list, one event's
page (my department's list with the *fact* of conflicts, the report), the department head's
list submission (customers picked by name from the department's archives, or another
department's customer named by exact full name or phone), the coordinator's board with the
conflicts, ruling and escalation forms, and attendance/sales entry. Every write goes to
``portal.services.joint_events``; the view decides nothing."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from admin_views.base import actor, record_denied, translated
from admin_views.menu_names import MENU_CUSTOMERS
from models import Customer, Department, JointEvent, User
from portal import clock, policy
from portal.extensions import orm_session
from portal.services import joint_events as je
from portal.services.errors import DomainError, NotFound, PermissionDenied
from portal.services.receivables import money
from portal.services.unit import form_version

SESSIONS = {"afternoon": _l("下午场"), "evening": _l("晚场")}
LINE_STATUS = {"confirmed": (_l("已敲定"), "success"),
               "refused": (_l("他部已敲定（冲突）"), "danger"),
               "lost": (_l("逾期提交，归他部"), "secondary"),
               "ruled": (_l("裁定归他部"), "dark")}
PICK_LIMIT = 500  # customers offered in the picker (by name)


class JointEventsView(BaseView):
    """Guarded by ``joint_event.view``; each page asks the policy for its own action."""

    model = JointEvent  # the 待办 inbox opens an event through ``details_view``

    def is_accessible(self) -> bool:
        user = actor()
        return user is not None and policy.can(user, "joint_event.view")

    def inaccessible_callback(self, name: str, **kwargs: Any) -> Any:
        if actor() is None:
            return redirect(url_for("login", next=request.full_path.rstrip("?")))
        record_denied("joint_event.view", "joint_events")
        return abort(403)

    def _need(self, action: str) -> None:
        """The grant check of a page before anything is loaded (one denied entry if not)."""
        if not policy.can(actor(), action):
            record_denied(action, "joint_events")
            abort(403)

    def _event(self, action: str = "joint_event.view") -> JointEvent:
        from portal.services.unit import load

        try:
            return load(orm_session(), actor(), JointEvent, request.args.get("id"), action)
        except NotFound:
            abort(404)

    def _page(self, template: str, event: JointEvent | None = None, **kwargs: Any) -> Any:
        return self.render(f"admin/joint_events/{template}", event=event, sessions=SESSIONS,
                           line_status=LINE_STATUS, money=money, **kwargs)

    # ------------------------------------------------------------------ reading
    @expose("/")
    def index(self) -> Any:
        user = actor()
        return self._page("list.html", events=je.visible_events(orm_session(), user),
                          can_add=policy.can(user, "joint_event.add"), today=clock.today())

    @expose("/details/")
    def details_view(self) -> Any:
        return redirect(url_for(".event", id=request.args.get("id")))

    @expose("/event")
    def event(self) -> Any:
        user = actor()
        event = self._event()
        session = orm_session()
        entries = je.my_entries(session, user, event)
        messages = {key: gettext(msg, **params) if params else gettext(msg)
                    for key, (msg, params) in je.conflict_messages(session, user,
                                                                  entries).items()}
        return self._page(
            "event.html", event, entries=entries, messages=messages,
            report=je.report(session, user, event.id),
            may_submit=policy.can(user, "joint_event.submit", event)
            and user.department_id in event.department_ids,
            may_coordinate=policy.can(user, "joint_event.coordinate", event),
            list_day=je.submit_moment_day(event))

    # ------------------------------------------------------------------ writing
    @expose("/new", methods=("GET", "POST"))
    def new(self) -> Any:
        self._need("joint_event.add")
        session = orm_session()
        departments = list(session.scalars(select(Department).order_by(Department.id)))
        people = list(session.scalars(select(User).where(User.is_active.is_(True))
                                      .order_by(User.full_name).limit(PICK_LIMIT)))
        form = request.form
        if request.method == "POST":
            try:
                event = je.create_event(
                    session, actor(), name=form.get("name", ""),
                    event_date=form.get("event_date", ""), session_kind=form.get("session", ""),
                    venue=form.get("venue", ""), department_ids=form.getlist("departments"),
                    coordinator_id=form.get("coordinator") or None)
            except PermissionDenied:
                abort(403)
            except DomainError as exc:
                flash(translated(exc), "error")
            else:
                flash(gettext("联合活动已创建，已通知各部门负责人提交邀约敲定名单。"), "success")
                return redirect(url_for(".event", id=event.id))
        return self._page("new.html", departments=departments, people=people, form=form,
                          default_date=clock.today().isoformat())

    @expose("/submit", methods=("GET", "POST"))
    def submit(self) -> Any:
        self._need("joint_event.submit")
        user = actor()
        event = self._event("joint_event.submit")
        session = orm_session()
        if request.method == "POST":
            lines: list[Any] = [{"customer_id": c} for c in request.form.getlist("customers")]
            lines += [{"lookup": t.strip()} for t in
                      (request.form.get("lookups") or "").splitlines() if t.strip()]
            try:
                result = je.submit_list(session, user, event.id, lines)
            except PermissionDenied:
                abort(403)
            except DomainError as exc:
                flash(translated(exc), "error")
            else:
                counts = {s: sum(1 for e in result.lines if e.status == s)
                          for s in ("confirmed", "refused", "lost")}
                flash(gettext("名单已提交（计入 %(day)s 名单）：敲定 %(confirmed)s 位，"
                              "他部已敲定 %(refused)s 位，逾期归他部 %(lost)s 位。",
                              day=result.list_day.isoformat(), **counts),
                      "success" if not counts["refused"] + counts["lost"] else "warning")
                return redirect(url_for(".event", id=event.id))
        listed = {e.customer_id for e in je.my_entries(session, user, event)}
        customers = [c for c in session.scalars(
            policy.scope(select(Customer), user, Customer, "customer.view")
            .order_by(Customer.name).limit(PICK_LIMIT)) if c.id not in listed]
        day = je.submit_moment_day(event)
        cutoff = je.cutoff(event.event_date, event.session, day) if day else None
        return self._page("submit.html", event, customers=customers, list_day=day,
                          cutoff=cutoff)

    @expose("/board")
    def board(self) -> Any:
        self._need("joint_event.coordinate")
        try:
            board = je.board(orm_session(), actor(), request.args.get("id"))
        except NotFound:
            abort(404)
        user = actor()
        return self._page("board.html", board.event, board=board,
                          may_decide_escalated=policy.can(user, "joint_event.decide_escalated",
                                                          board.event))

    def _board_write(self, action: str, write: Any, done: str) -> Any:
        self._need(action)
        event_id = request.args.get("id")
        try:
            write(event_id)
        except PermissionDenied:
            abort(403)
        except NotFound:
            abort(404)
        except DomainError as exc:
            flash(translated(exc), "error")
        else:
            flash(done, "success")
        return redirect(url_for(".board", id=event_id))

    @expose("/rule", methods=("POST",))
    def rule(self) -> Any:
        form = request.form
        return self._board_write(
            "joint_event.coordinate",
            lambda event_id: je.rule_conflict(
                orm_session(), actor(), event_id, form.get("customer"), form.get("winner"),
                form.get("reason", ""), expected_version=form_version(form.get("version"))),
            gettext("已裁定，裁定结果为最终结果并已记录。"))

    @expose("/escalate", methods=("POST",))
    def escalate(self) -> Any:
        form = request.form
        return self._board_write(
            "joint_event.coordinate",
            lambda event_id: je.escalate_conflict(orm_session(), actor(), event_id,
                                                  form.get("customer"), form.get("reason", "")),
            gettext("已上报总经理，总经理的待办中可见。"))

    @expose("/attendance", methods=("GET", "POST"))
    def attendance(self) -> Any:
        self._need("joint_event.coordinate")
        user = actor()
        event = self._event("joint_event.coordinate")
        session = orm_session()
        if request.method == "POST":
            form = request.form
            try:
                je.record_attendance(session, user, event.id, form.get("customer"),
                                     form.get("attended") == "1", form.get("amount"))
            except PermissionDenied:
                abort(403)
            except DomainError as exc:
                flash(translated(exc), "error")
            else:
                flash(gettext("到场与成交已登记，计入敲定该顾客的部门和人员。"), "success")
            return redirect(url_for(".attendance", id=event.id))
        confirmed = je.confirmed_lines(session, user, event.id)
        rows = {a.customer_id: a for a in je.attendance_of(session, user, event)}
        return self._page("attendance.html", event, confirmed=confirmed, rows=rows)


def register(admin: Any) -> None:
    admin.add_view(JointEventsView(name=_l("联合活动"), category=MENU_CUSTOMERS,
                                   endpoint="jointevents", url="joint-events"))
