"""Demo data, complaints area: complaints in every workflow state."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Complaint, ComplaintCounter, ComplaintEvent, ComplaintReminder, Department
from models.enums import ComplaintStatus, Role
from portal import clock, settings
from portal.demo.company import BRANCHES, STAFF
from portal.demo.helpers import _AFTER_PROPOSAL, _Cust, _path_to
from portal.demo.words import COMPLAINT_TEXTS, INQUIRY_TEXTS, MAJOR_REASONS, REJECT_REASONS

# (days ago, status, type, severity, cause, options)
_Scenario = tuple[float, str, str, str, str, dict[str, Any]]

# One open complaint in each state of the workflow (R-COMP-6), some overdue or extended.
_OPEN_SCENARIOS: tuple[_Scenario, ...] = (
    (0.1, "registered", "inquiry", "general", "other", {}),
    (0.3, "registered", "complaint", "general", "delivery", {}),
    (0.5, "registered", "complaint", "major", "quality", {"major": 0}),
    (1, "assigned", "complaint", "general", "billing", {}),
    (1.5, "assigned", "suggestion", "general", "other", {}),
    (1, "investigating", "complaint", "general", "attitude", {"accused": "sales"}),
    (2, "investigating", "complaint", "general", "attitude", {"accused": "service2"}),
    (8, "investigating", "complaint", "general", "quality", {"overdue": 4}),
    (2, "proposed", "complaint", "general", "service", {}),
    (5, "proposed", "complaint", "major", "quality",
     {"major": 1, "overdue": 1, "regraded": True}),   # R-COMP-3: re-graded later
    (5, "approved", "complaint", "general", "billing", {"extended": True}),
    (6, "approved", "complaint", "major", "delivery",
     {"major": 2, "extended": True, "compensation": 8000}),
    (7, "replied", "complaint", "general", "service", {"extended": True}),
    (0.8, "replied", "inquiry", "general", "other", {}),
)
_MANAGER_OF = {"HD-XS1": "manager1", "HD-XS2": "manager2"}
_DEPARTMENT_OF_BRANCH = {b: d for b, _n, d, _c in BRANCHES}
_Built = tuple[Complaint, list[ComplaintEvent], list[ComplaintReminder]]


@dataclass(frozen=True)
class _ComplaintSettings:
    """The complaint settings the demo's dates and approvals follow (R-COMP-2/9/10)."""

    close_days: int
    extension_days: int
    inquiry_hours: int
    gm_threshold: Decimal
    retention: timedelta


@dataclass(frozen=True)
class _Handling:
    """Who handles one complaint at each step."""

    receiver: int
    assigner: int
    handler: int
    approver: int
    closer: int
    manager: int


class ComplaintsMixin:
    """Complaints in every state of the workflow (R-COMP-*)."""

    # provided by the demo builder (portal/demo/loader.py)
    s: Session
    rng: random.Random
    now: datetime
    today: date
    counts: dict[str, int]
    customers: list[_Cust]
    departments: dict[str, Department]
    uid: Callable[[str], int]
    work_time: Callable[[float], datetime]
    deadline: Callable[[datetime, int], datetime]

    def complaints(self) -> None:
        rules = self._complaint_settings()
        dealt = [c for c in self.customers if c.obj.deal_at is not None
                 and c.obj.status != "closed"]
        scenarios = [*_OPEN_SCENARIOS, *self._finished_scenarios()]
        built = [self._demo_complaint(rules, dealt, *scenario) for scenario in scenarios]
        self._number_complaints(built)
        self.counts["complaints"] = len(built)

    def _complaint_settings(self) -> _ComplaintSettings:
        return _ComplaintSettings(
            close_days=int(settings.get(self.s, "complaint.close_working_days")),
            extension_days=int(settings.get(self.s, "complaint.max_extension_working_days")),
            inquiry_hours=int(settings.get(self.s, "complaint.inquiry_hours")),
            gm_threshold=Decimal(str(settings.get(self.s,
                                                  "complaint.compensation_gm_threshold"))),
            retention=timedelta(days=int(settings.get(self.s, "complaint.retention_days"))))

    def _finished_scenarios(self) -> list[_Scenario]:
        """32 closed or rejected complaints over the past months, a few late or compensated."""
        rng = self.rng
        scenarios: list[_Scenario] = []
        for k in range(32):
            days = 12 + k * 3.4 + rng.uniform(0, 2)
            ctype = rng.choices(["complaint", "inquiry", "suggestion"], [6, 2, 1])[0]
            cause = "other" if ctype != "complaint" else rng.choice(
                ["quality", "service", "attitude", "delivery", "billing"])
            major = ctype == "complaint" and k % 6 == 2
            opts: dict[str, Any] = {"major": k % len(MAJOR_REASONS)} if major else {}
            if cause in ("attitude", "service") and rng.random() < 0.6:
                opts["accused"] = "sales"
            if k in (5, 17):
                opts["late"] = True
            if k == 9:
                opts["compensation"] = 6800
            status = "rejected" if k in (3, 14, 25) else "closed"
            scenarios.append((days, status, ctype, "major" if major else "general", cause, opts))
        return scenarios

    def _registration(self, rules: _ComplaintSettings, days: float, ctype: str,
                      opts: dict[str, Any]) -> tuple[datetime, datetime]:
        """The registration moment and the deadline (R-COMP-2); an "overdue" scenario is
        registered so that its deadline passed that many days ago."""
        reg = self.work_time(days) if days >= 1 else self.now - timedelta(hours=days * 24 + 1)
        if ctype == "inquiry":
            return reg, reg + timedelta(hours=rules.inquiry_hours)
        while True:
            deadline = self.deadline(
                reg, rules.extension_days if opts.get("extended") else rules.close_days)
            if deadline < self.now - timedelta(days=opts.get("overdue", -30)):
                return reg, deadline
            reg = self.work_time((self.today - reg.astimezone(clock.COMPANY_TZ).date()).days + 1)

    def _accused(self, c: _Cust, reg: datetime, opts: dict[str, Any]) -> int | None:
        if opts.get("accused") == "sales":
            return c.owner_at(reg)
        if opts.get("accused"):
            return self.uid(opts["accused"])
        return None

    def _first_responder(self, c: _Cust, channel: str, accused: int | None) -> int:
        """R-COMP-4: hotline → service, visit → reception, else the owner's colleagues in
        service; never the accused."""
        if channel == "visit":
            receiver = self.uid(next(s.username for s in STAFF if s.role == Role.RECEPTION
                                     and s.branch == c.branch))
        elif channel in ("hotline", "phone", "head_office"):
            receiver = self.uid("service1")
        else:
            receiver = self.uid(self.rng.choice(["service1", "service2"]))
        return self.uid("service1") if receiver == accused else receiver

    def _step_times(self, rules: _ComplaintSettings, reg: datetime, deadline: datetime,
                    status: str, opts: dict[str, Any], steps: int) -> list[datetime]:
        """The steps spread between registration and now (or the closing moment)."""
        rng = self.rng
        if status in ("closed", "rejected"):
            if opts.get("late"):
                end = self.deadline(reg, rules.close_days + 2) - timedelta(
                    hours=rng.uniform(3, 8))
            else:
                end = min(deadline - timedelta(hours=rng.uniform(1, 20)), self.now)
            end = max(end, reg + timedelta(hours=3))
        else:
            end = self.now - timedelta(minutes=rng.randint(5, 60))
        return [reg] + [reg + (end - reg) * (i / max(steps - 1, 1)) for i in range(1, steps)]

    def _demo_complaint(self, rules: _ComplaintSettings, dealt: list[_Cust], days: float,
                        status: str, ctype: str, severity: str, cause: str,
                        opts: dict[str, Any]) -> _Built:
        rng = self.rng
        reg, deadline = self._registration(rules, days, ctype, opts)
        c = rng.choice([d for d in dealt
                       if d.obj.deal_at is not None and d.obj.deal_at < reg - timedelta(days=1)])
        dept = _DEPARTMENT_OF_BRANCH[c.branch]
        description, resolution = rng.choice(
            INQUIRY_TEXTS if ctype == "inquiry" else COMPLAINT_TEXTS[cause])
        accused = self._accused(c, reg, opts)
        channel = rng.choice(["hotline", "phone", "visit", "online", "letter"])
        if opts.get("major") == 1:
            channel = "head_office"
        receiver = self._first_responder(c, channel, accused)
        # Conflict of interest (R-COMP-5): the handler and closer are never the accused.
        handler = self.uid(rng.choice(["service1", "service2"]))
        if handler == accused:
            handler = self.uid("service1")
        compensation = Decimal(str(opts.get("compensation",
                                            rng.choice([0, 0, 0, 200, 500, 800, 1500]))))
        obj = Complaint(
            number="", customer_id=c.obj.id, channel=channel, type=ctype, cause=cause,
            severity=severity, description=description, accused_user_id=accused,
            received_by_id=receiver,
            responsible_department_id=self.departments[dept].id, status=status,
            registered_at=reg, deadline_at=deadline, created_at=reg,
            major_reason=MAJOR_REASONS[opts["major"]] if "major" in opts else None,
            escalated_at=reg + timedelta(hours=2) if severity == "major" else None,
        )
        if opts.get("extended"):
            obj.extended = True
            obj.extension_reason = "需厂家技术鉴定/第三方核实，属特殊情况，延期一次。"
        path = _path_to(status)
        times = self._step_times(rules, reg, deadline, status, opts, len(path))
        manager = self.uid(_MANAGER_OF[dept])
        people = _Handling(
            receiver=receiver,
            assigner=self.uid("service1") if rng.random() < 0.7 else manager,
            handler=handler, approver=self.uid("gm") if severity == "major" else manager,
            closer=self.uid("service2") if accused != self.uid("service2")
            else self.uid("service1"),
            manager=manager)
        events = self._complaint_events(obj, path, times, people, resolution, opts)
        self._settle(obj, rules, people, resolution,
                     compensation if ctype == "complaint" else Decimal("0"), times[-1])
        return obj, events, self._overdue_reminders(deadline, people, severity, opts)

    def _complaint_events(self, obj: Complaint, path: list[str], times: list[datetime],
                          people: _Handling, resolution: str,
                          opts: dict[str, Any]) -> list[ComplaintEvent]:
        """One event per workflow step, by the person whose step it is (R-COMP-4/5/8)."""
        major = obj.severity == "major"
        notes = {
            "registered": (people.receiver, "登记受理" + (
                "；重大投诉，24小时内上报部门经理及总经理" if major else "")),
            "assigned": (people.assigner, "指派处理人"),
            "investigating": (people.handler, "开始调查核实"),
            "proposed": (people.handler, "提出处理意见：" + resolution),
            "approved": (people.approver, "总经理批准（重大投诉）" if major else "同意处理意见"),
            "replied": (people.handler, "已答复客户"),
            "closed": (people.closer, "满意度回访完成，结案"),
            "rejected": (people.handler, "投诉不成立，驳回"),
        }
        events: list[ComplaintEvent] = []
        prev: str | None = None
        for st, at in zip(path, times, strict=True):
            actor, note = notes[st]
            if opts.get("regraded") and st == "registered":
                note = "登记受理"
            events.append(ComplaintEvent(from_status=prev, to_status=st, actor_id=actor,
                                         at=at, note=note))
            prev = st
            if opts.get("regraded") and st == "investigating":
                # R-COMP-3: found major during the investigation, escalated at once
                obj.escalated_at = at + timedelta(hours=1)
                events.append(ComplaintEvent(
                    from_status=st, to_status=st, actor_id=people.manager,
                    at=obj.escalated_at,
                    note="re-graded major: 客户已向厂家总部投诉，升级为重大投诉并上报总经理"))
        return events

    def _settle(self, obj: Complaint, rules: _ComplaintSettings, people: _Handling,
                resolution: str, compensation: Decimal, last_step: datetime) -> None:
        """The outcome fields of the complaint's state: handler, resolution and compensation
        (R-COMP-10), rejection, closing and retention (R-COMP-9), satisfaction."""
        status = obj.status
        if status not in ("registered", "rejected"):
            obj.handler_id = people.handler
        if ComplaintStatus(status) in _AFTER_PROPOSAL:
            obj.resolution = resolution
            obj.compensation_amount = compensation
        if status in ("approved", "replied", "closed") and compensation > rules.gm_threshold:
            obj.compensation_approved_by_id = self.uid("gm")   # R-COMP-10
        if status == "rejected":
            obj.rejection_reason = self.rng.choice(REJECT_REASONS)
            obj.handler_id = people.handler
        if status in ("closed", "rejected"):
            obj.closed_at = last_step
            obj.retain_until = last_step + rules.retention            # R-COMP-9
            obj.updated_at = last_step
        if status == "closed":
            obj.satisfaction = self.rng.choices([5, 4, 3, 2], [5, 4, 2, 1])[0]

    def _overdue_reminders(self, deadline: datetime, people: _Handling, severity: str,
                           opts: dict[str, Any]) -> list[ComplaintReminder]:
        """Reminders on an overdue complaint; after three days the manager (or the GM for a
        major one) suggests handing it to someone else."""
        if not opts.get("overdue"):
            return []
        reminders = [ComplaintReminder(
            created_by_id=self.uid("service1"), at=min(deadline + timedelta(hours=2), self.now),
            note=f"已超过处理时限（{deadline.astimezone(clock.COMPANY_TZ):%m-%d %H:%M}），"
                 "请尽快处理并答复客户。")]
        if self.now - deadline > timedelta(days=3):
            reminders.append(ComplaintReminder(
                created_by_id=people.approver if severity == "major" else people.manager,
                at=deadline + timedelta(days=3),
                note="超期3天仍未解决：建议移交其他部门人员处理。"))
        return reminders

    def _number_complaints(self, built: list[_Built]) -> None:
        """Numbers: YYMM + 4-digit serial in registration order, gap-free per month (R-COMP-1),
        continuing after complaints registered before the demo was loaded, if any."""
        built.sort(key=lambda b: b[0].registered_at)
        existing = {c.period: c for c in self.s.scalars(select(ComplaintCounter))}
        serial: dict[str, int] = defaultdict(int, {p: c.last_serial for p, c in existing.items()})
        rows: list[object] = []
        for obj, events, reminders in built:
            period = f"{obj.registered_at.astimezone(clock.COMPANY_TZ):%y%m}"
            serial[period] += 1
            obj.number = f"{period}{serial[period]:04d}"
            obj.events = events
            obj.reminders = reminders
            rows.append(obj)
        for period, last in serial.items():
            counter = existing.get(period)
            if counter is None:
                rows.append(ComplaintCounter(period=period, last_serial=last))
            else:
                counter.last_serial = last
        self.s.add_all(rows)
