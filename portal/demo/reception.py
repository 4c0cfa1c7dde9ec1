"""Demo data, reception area: showroom and phone reception records."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import insert, select

from models import Branch, ReceptionRecord, RotationSlot
from models.enums import ReceptionOutcome, Role, Venue
from portal import clock
from portal.demo.company import BRANCHES, STAFF
from portal.demo.helpers import _Cust
from portal.demo.words import PURPOSES_BUSINESS, PURPOSES_CALL, PURPOSES_RETURN, PURPOSES_WALK_IN


class ReceptionMixin:
    """Reception records (R-RECV-*)."""

    def receptions(self) -> None:
        rng = self.rng
        rows: list[dict] = []
        reception_of = {s.branch: s.username for s in STAFF if s.role == Role.RECEPTION}
        window = self.now - timedelta(days=60)
        venue_of = {"a": Venue.VIP_ROOM.value, "b": Venue.BUSINESS_ROOM.value,
                    "c": Venue.LOUNGE.value}

        def record(c: _Cust | None, branch: str, kind: str, arrived: datetime, *,
                   assigned: int, returning: bool, rotation: bool, outcome: str,
                   designated: int | None = None, purpose: str | None = None,
                   visitor_class: str | None = None) -> None:
            if c is not None:
                person = c.person
                visitor = c.obj.name if person else (c.contact_name or self.pools.person())
                company = None if person else c.obj.name
                phone = c.obj.phone
            else:
                person = True
                visitor, company, phone = self.pools.person(), None, self.pools.phone()
            cls = visitor_class or rng.choices("abc", [1, 3, 6] if person else [2, 6, 2])[0]
            stay = timedelta(minutes=rng.randint(3, 15) if kind == "call"
                             else rng.randint(20, 150))
            rows.append(dict(
                kind=kind, visitor_class=cls,
                venue=Venue.PHONE.value if kind == "call" else venue_of[cls],
                visitor_name=visitor, visitor_company=company, visitor_phone=phone,
                purpose=purpose or rng.choice(PURPOSES_CALL if kind == "call"
                                              else PURPOSES_WALK_IN),
                arrived_at=arrived, departed_at=min(arrived + stay, self.now),
                branch_id=self.branches[branch].id,
                department_id=self.branches[branch].department_id,
                received_by_id=self.uid(reception_of[branch]), assigned_to_id=assigned,
                designated_staff_id=designated, customer_id=c.obj.id if c else None,
                is_returning=returning, used_rotation_turn=rotation, outcome=outcome,
                counts_as_evidence=True,  # the front desk, on the day (R-CUST-3)
                created_at=arrived, updated_at=arrived))

        # First contact of the customers registered from a visit or a call in the window.
        for c in self.customers:
            o = c.obj
            if o.registered_at < window:
                continue
            if o.source in ("walk_in", "call"):
                kind = "visit" if o.source == "walk_in" else "call"
                named = rng.random() < 0.15
                owner = c.owner_timeline[0][1]
                record(c, c.branch, kind, o.registered_at - timedelta(minutes=rng.randint(10, 40)),
                       assigned=owner, returning=False, rotation=not named,
                       designated=owner if named else None,
                       outcome=ReceptionOutcome.FOLLOW_UP.value)
            # Deals closed in the window happened in the showroom.
            if o.deal_at and o.deal_at >= window:
                record(c, c.branch, "visit", o.deal_at - timedelta(minutes=90),
                       assigned=c.owner_at(o.deal_at), returning=True, rotation=False,
                       outcome=ReceptionOutcome.DEAL.value, purpose="签订购车合同",
                       visitor_class="b" if not c.person else None)
        # Returning visitors (R-RECV-2): linked to their archive, served by the owner.
        regulars = [c for c in self.customers if c.obj.status in ("active", "prospect")
                    and c.plan == "normal"]
        for c in rng.sample(regulars, 70):
            start = max(c.obj.registered_at + timedelta(days=1), window)
            if start >= self.now - timedelta(hours=2):
                continue
            t = start + (self.now - start) * rng.random()
            t = self.at(t.astimezone(clock.COMPANY_TZ).date(), rng.randint(9, 17))
            if t > self.now or t < c.obj.registered_at:
                continue
            kind = rng.choices(["visit", "call"], [3, 1])[0]
            record(c, c.branch, kind, t, assigned=c.owner_at(t), returning=True, rotation=False,
                   outcome=ReceptionOutcome.FOLLOW_UP.value,
                   purpose=rng.choice(PURPOSES_RETURN if c.person else PURPOSES_BUSINESS),
                   visitor_class=None if c.person else rng.choice("ab"))
        # Walk-ins and calls that did not become archives, served in rotation (R-RECV-1).
        for code, *_rest in BRANCHES:
            turn = 0
            for back in range(59, -1, -1):
                day = self.today - timedelta(days=back)
                for _ in range(rng.randint(1, 4) if day.weekday() < 5 else rng.randint(2, 6)):
                    t = self.at(day, rng.randint(9, 17), rng.randrange(0, 60, 5))
                    if t > self.now:
                        continue
                    staff = self.sales_of(code, t)
                    kind = rng.choices(["visit", "call"], [3, 2])[0]
                    if rng.random() < 0.12:
                        named = self.uid(rng.choice(staff))
                        record(None, code, kind, t, assigned=named, designated=named,
                               returning=False, rotation=False,
                               outcome=rng.choice(["no_interest", "pending", "other"]))
                    else:
                        turn += 1
                        record(None, code, kind, t, assigned=self.uid(staff[turn % len(staff)]),
                               returning=False, rotation=True,
                               outcome=rng.choices(["no_interest", "pending", "other"],
                                                   [5, 3, 1])[0])
        self.s.execute(insert(ReceptionRecord.__table__), rows)
        self.counts["reception records"] = len(rows)
        self._rotation_today()

    def _rotation_today(self) -> None:
        """R-RECV-1: today's rotation of the first showroom — one salesperson out on a go-out
        the supervisor approved (外出申请), owed the two turns missed so far."""
        code = BRANCHES[0][0]
        staff = self.sales_of(code, self.now)
        branch_id = self.s.scalar(select(Branch.id).where(Branch.code == code))
        if len(staff) < 2 or branch_id is None:
            return
        for i, username in enumerate(staff, start=1):
            out = i == 2
            self.s.add(RotationSlot(branch_id=branch_id, day=self.today,
                                    user_id=self.uid(username), position=i,
                                    available=not out, approved_go_out=out,
                                    turns_taken=3, owed_turns=2 if out else 0))
