"""Demo data, complaints area: complaints in every workflow state."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from models import Complaint, ComplaintCounter, ComplaintEvent, ComplaintReminder
from models.enums import ComplaintStatus, Role
from portal import clock, settings
from portal.demo.company import BRANCHES, STAFF
from portal.demo.helpers import _AFTER_PROPOSAL, _path_to
from portal.demo.words import COMPLAINT_TEXTS, INQUIRY_TEXTS, MAJOR_REASONS, REJECT_REASONS


class ComplaintsMixin:
    """Complaints in every state of the workflow (R-COMP-*)."""

    def complaints(self) -> None:
        rng = self.rng
        close_days = int(settings.get(self.s, "complaint.close_working_days"))
        ext_days = int(settings.get(self.s, "complaint.max_extension_working_days"))
        inquiry_hours = int(settings.get(self.s, "complaint.inquiry_hours"))
        threshold = Decimal(str(settings.get(self.s, "complaint.compensation_gm_threshold")))
        retention = timedelta(days=int(settings.get(self.s, "complaint.retention_days")))
        dealt = [c for c in self.customers if c.obj.deal_at is not None
                 and c.obj.status != "closed"]
        manager_of = {"HD-XS1": "manager1", "HD-XS2": "manager2"}
        dept_code = {b: d for b, _n, d, _c in BRANCHES}

        # (days ago, status, type, severity, cause, options)
        scenarios: list[tuple[float, str, str, str, str, dict]] = [
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
        ]
        for k in range(32):
            days = 12 + k * 3.4 + rng.uniform(0, 2)
            ctype = rng.choices(["complaint", "inquiry", "suggestion"], [6, 2, 1])[0]
            cause = "other" if ctype != "complaint" else rng.choice(
                ["quality", "service", "attitude", "delivery", "billing"])
            major = ctype == "complaint" and k % 6 == 2
            opts: dict = {"major": k % len(MAJOR_REASONS)} if major else {}
            if cause in ("attitude", "service") and rng.random() < 0.6:
                opts["accused"] = "sales"
            if k in (5, 17):
                opts["late"] = True
            if k == 9:
                opts["compensation"] = 6800
            status = "rejected" if k in (3, 14, 25) else "closed"
            scenarios.append((days, status, ctype, "major" if major else "general", cause, opts))

        built: list[tuple[Complaint, list[ComplaintEvent], list[ComplaintReminder]]] = []
        for days, status, ctype, severity, cause, opts in scenarios:
            reg = self.work_time(days) if days >= 1 else self.now - timedelta(hours=days * 24 + 1)
            if ctype == "inquiry":
                deadline = reg + timedelta(hours=inquiry_hours)
            else:
                while True:   # the overdue ones: registered so that the deadline passed N days ago
                    deadline = self.deadline(reg, ext_days if opts.get("extended") else close_days)
                    if deadline < self.now - timedelta(days=opts.get("overdue", -30)):
                        break
                    reg = self.work_time(
                        (self.today - reg.astimezone(clock.COMPANY_TZ).date()).days + 1)
            c = rng.choice([d for d in dealt if d.obj.deal_at < reg - timedelta(days=1)])
            dept = dept_code[c.branch]
            pool = (INQUIRY_TEXTS if ctype == "inquiry" else COMPLAINT_TEXTS[cause])
            description, resolution = rng.choice(pool)
            accused: int | None = None
            if opts.get("accused") == "sales":
                accused = c.owner_at(reg)
            elif opts.get("accused"):
                accused = self.uid(opts["accused"])
            # First responder (R-COMP-4): hotline → service, visit → reception, else the owner.
            channel = rng.choice(["hotline", "phone", "visit", "online", "letter"])
            if "major" in opts and opts["major"] == 1:
                channel = "head_office"
            if channel == "visit":
                receiver = self.uid(next(s.username for s in STAFF if s.role == Role.RECEPTION
                                         and s.branch == c.branch))
            elif channel in ("hotline", "phone", "head_office"):
                receiver = self.uid("service1")
            else:
                receiver = self.uid(rng.choice(["service1", "service2"]))
            if receiver == accused:
                receiver = self.uid("service1")
            # Conflict of interest (R-COMP-5): the handler and closer are never the accused.
            handler = self.uid(rng.choice(["service1", "service2"]))
            if handler == accused:
                handler = self.uid("service1")
            approver = self.uid("gm" if severity == "major" else manager_of[dept])
            comp_amount = Decimal(str(opts.get("compensation",
                                               rng.choice([0, 0, 0, 200, 500, 800, 1500]))))
            if ctype != "complaint":
                comp_amount = Decimal("0")
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
            # Spread the steps between registration and now (or the closing moment).
            if status in ("closed", "rejected"):
                if opts.get("late"):
                    end = self.deadline(reg, close_days + 2) - timedelta(hours=rng.uniform(3, 8))
                else:
                    end = min(deadline - timedelta(hours=rng.uniform(1, 20)), self.now)
                end = max(end, reg + timedelta(hours=3))
            else:
                end = self.now - timedelta(minutes=rng.randint(5, 60))
            steps = len(path)
            times = [reg] + [reg + (end - reg) * (i / max(steps - 1, 1))
                             for i in range(1, steps)]
            events: list[ComplaintEvent] = []
            prev: str | None = None
            assigner = self.uid("service1") if rng.random() < 0.7 else self.uid(manager_of[dept])
            for st, at in zip(path, times, strict=True):
                actor, note = {
                    "registered": (receiver, "登记受理" + ("；重大投诉，24小时内上报部门经理及总经理"
                                                      if severity == "major" else "")),
                    "assigned": (assigner, "指派处理人"),
                    "investigating": (handler, "开始调查核实"),
                    "proposed": (handler, "提出处理意见：" + resolution),
                    "approved": (approver, "同意处理意见" if severity == "general"
                                 else "总经理批准（重大投诉）"),
                    "replied": (handler, "已答复客户"),
                    "closed": (self.uid("service2") if accused != self.uid("service2")
                               else self.uid("service1"), "满意度回访完成，结案"),
                    "rejected": (handler, "投诉不成立，驳回"),
                }[st]
                if opts.get("regraded") and st == "registered":
                    note = "登记受理"
                events.append(ComplaintEvent(from_status=prev, to_status=st, actor_id=actor,
                                             at=at, note=note))
                prev = st
                if opts.get("regraded") and st == "investigating":
                    # R-COMP-3: found major during the investigation, escalated at once
                    obj.escalated_at = at + timedelta(hours=1)
                    events.append(ComplaintEvent(
                        from_status=st, to_status=st, actor_id=self.uid(manager_of[dept]),
                        at=obj.escalated_at,
                        note="re-graded major: 客户已向厂家总部投诉，升级为重大投诉并上报总经理"))
            if status != "registered" and status != "rejected":
                obj.handler_id = handler
            if ComplaintStatus(status) in _AFTER_PROPOSAL:
                obj.resolution = resolution
                obj.compensation_amount = comp_amount
            if status in ("approved", "replied", "closed") and comp_amount > threshold:
                obj.compensation_approved_by_id = self.uid("gm")   # R-COMP-10
            if status == "rejected":
                obj.rejection_reason = rng.choice(REJECT_REASONS)
                obj.handler_id = handler
            if status in ("closed", "rejected"):
                obj.closed_at = times[-1]
                obj.retain_until = times[-1] + retention            # R-COMP-9
                obj.updated_at = times[-1]
            if status == "closed":
                obj.satisfaction = rng.choices([5, 4, 3, 2], [5, 4, 2, 1])[0]
            reminders: list[ComplaintReminder] = []
            if opts.get("overdue"):
                first = deadline + timedelta(hours=2)
                reminders.append(ComplaintReminder(
                    created_by_id=self.uid("service1"), at=min(first, self.now),
                    note=f"已超过处理时限（{deadline.astimezone(clock.COMPANY_TZ):%m-%d %H:%M}），"
                         "请尽快处理并答复客户。"))
                if self.now - deadline > timedelta(days=3):
                    reminders.append(ComplaintReminder(
                        created_by_id=approver if severity == "major" else
                        self.uid(manager_of[dept]),
                        at=deadline + timedelta(days=3),
                        note="超期3天仍未解决：建议移交其他部门人员处理。"))
            built.append((obj, events, reminders))

        # Numbers: YYMM + 4-digit serial in registration order, gap-free per month (R-COMP-1).
        built.sort(key=lambda b: b[0].registered_at)
        # continue after complaints registered before the demo was loaded, if any
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
        self.counts["complaints"] = len(built)
