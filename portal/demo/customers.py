"""Demo data, customers area: archives, special cases, referrals, redistribution, follow-ups."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import bindparam
from sqlalchemy.orm.attributes import set_committed_value

from models import Customer, CustomerContact, FollowUp, OwnerChange
from models.enums import CustomerKind, CustomerSource, FollowUpKind
from portal import clock, settings
from portal.demo.company import BRANCHES, CUSTOMER_COUNT
from portal.demo.helpers import _Cust, credit_code
from portal.demo.words import (
    CARS,
    DEALER_TRADES,
    END_TRADES,
    FOLLOW_NOTES,
    PLACES,
    SPECIALS,
    SUPPLIER_TRADES,
    TITLES,
)
from portal.normalize import normalize_credit_code, normalize_name, normalize_phone
from portal.services import customers as customer_rules


class CustomersMixin:
    """Customer archives and their follow-ups (R-CUST-*)."""

    def _address(self, city_key: str, person: bool) -> tuple[str, str]:
        city, district, region, roads = self.rng.choice(PLACES[city_key])
        road = self.rng.choice(roads)
        if person:
            addr = (f"{city}{district}{road}{self.rng.randint(100, 3999)}弄"
                    f"{self.rng.randint(1, 60)}号{self.rng.randint(1, 28)}0{self.rng.randint(1, 4)}室")
        else:
            addr = f"{city}{district}{road}{self.rng.randint(1, 2999)}号"
        return addr, region

    def _kind_plan(self) -> list[str]:
        plan = (["person"] * 178 + ["end"] * 52 + ["dealer"] * 30 + ["supplier"] * 22
                + ["special"] * 18)
        self.rng.shuffle(plan)
        return plan[:CUSTOMER_COUNT]

    def make_customers(self) -> None:
        rng = self.rng
        branch_weights = [("HD-PD", 0.4), ("HD-MH", 0.3), ("HD-SZ", 0.3)]
        city_of = {code: city for code, _n, _d, city in BRANCHES}
        for n, kind in enumerate(self._kind_plan(), start=1):
            branch = rng.choices([b for b, _w in branch_weights],
                                 [w for _b, w in branch_weights])[0]
            person = kind == "person"
            addr, region = self._address(city_of[branch], person)
            special_category = None
            code = None
            website = None
            if person:
                name = self.pools.person()
                ckind = CustomerKind.END
            else:
                prefix = "91"
                city_short = addr[:2]
                if kind == "special":
                    special_category, trade, prefix = rng.choice(SPECIALS)
                    ckind = CustomerKind.SPECIAL
                    tmpl = city_short + "{word}" + trade.format(district=addr[3:5],
                                                                city=city_short)
                else:
                    ckind = CustomerKind(kind)
                    trades = {"end": END_TRADES, "dealer": DEALER_TRADES,
                              "supplier": SUPPLIER_TRADES}[kind]
                    tmpl = city_short + "{word}" + rng.choice(trades)
                name = self.pools.company(tmpl)
                code = credit_code(rng, region, prefix)
                if rng.random() < 0.4:
                    website = f"https://www.{kind}{n:03d}.example.cn"
            status, reg = self._status_and_registration(kind)
            phone = self.pools.phone()
            importance = rng.choices("ABCD", [1, 3, 4, 2] if person else [3, 4, 2, 1])[0]
            source = rng.choices(
                [s.value for s in (CustomerSource.WALK_IN, CustomerSource.CALL,
                                   CustomerSource.REFERRAL, CustomerSource.EVENT,
                                   CustomerSource.CAMPAIGN)],
                [5, 3, 2, 1, 1] if person else [2, 3, 2, 2, 1])[0]
            c = Customer(
                code=f"tmp-demo-{n:05d}", name=name, name_normalized=normalize_name(name),
                kind=ckind.value, special_category=special_category, phone=phone,
                phone_normalized=normalize_phone(phone), credit_code=code,
                credit_code_normalized=normalize_credit_code(code), address=addr,
                website=website, source=source, importance=importance,
                intent=rng.choice(["hot", "warm", "warm", "cold"]), status=status,
                branch=self.branches[branch], department=self.branches[branch].department,
                registered_at=reg, created_at=reg, updated_at=reg,
            )
            owner = rng.choice(self.sales_of(branch, reg))
            self.customers.append(_Cust(c, branch, person, [(reg, self.uid(owner))]))
        self._special_cases()
        self._referrals()
        self._redistribution()
        self._finish_customers()

    def _status_and_registration(self, kind: str) -> tuple[str, datetime]:
        rng = self.rng
        if kind == "person":
            status = rng.choices(["active", "prospect", "dormant", "closed"], [45, 40, 10, 5])[0]
        else:
            status = rng.choices(["active", "prospect", "dormant", "closed"], [75, 15, 8, 2])[0]
        if status == "prospect":
            days = rng.uniform(0, 55)
        elif status == "active":
            days = rng.uniform(15, 1000) if kind == "person" else rng.uniform(30, 1800)
        else:
            days = rng.uniform(300, 1100)
        return status, self.work_time(days)

    def _special_cases(self) -> None:
        """Pin the customers that show a time-driven rule (R-CUST-2, R-CUST-4, R-CUST-5)."""
        prospects = [c for c in self.customers if c.obj.status == "prospect" and c.person]
        plans = [("void_new", 12), ("void_stalled", 26), ("void_marked", 40), ("expired", 72)]
        for c, (plan, days) in zip(prospects, plans, strict=False):
            c.plan = plan
            c.obj.registered_at = c.obj.created_at = c.obj.updated_at = self.work_time(days)
            c.owner_timeline = [(c.obj.registered_at, c.owner_timeline[0][1])]
            if plan == "void_marked":
                c.obj.notes = "首次回访后再未跟进，已成废卡，待展厅主管移交其他销售顾问。"
            if plan == "void_new":
                c.obj.source = CustomerSource.WALK_IN.value
                c.obj.notes = "来店登记后未做首次回访。"
            if plan == "expired":
                c.obj.notes = "建档已满两个月仍未成交，建档有效期届满，可被认领或重新分配。"
        # R-CUST-1: two different people called 王先生 (different phones): two archives.
        namesakes = [c for c in self.customers if c.person and c.plan == "normal"
                     and c.obj.status == "active"][:2]
        for c in namesakes:
            c.obj.name, c.obj.name_normalized = "王先生", normalize_name("王先生")
        if len(namesakes) == 2:
            namesakes[1].obj.notes = "与另一位王先生同名，电话不同，是两位不同的客户（一户一档）。"
        # Service lapse: the dormant customers have no service for > 3 months (R-CUST-5);
        # two of them were already reassigned by the department manager.
        for c in [c for c in self.customers if c.obj.status == "dormant"]:
            c.plan = "lapsed"

    def _referrals(self) -> None:
        """老带新: a referred customer belongs to whoever received the referrer (R-CUST-3)."""
        by_branch: dict[str, list[_Cust]] = defaultdict(list)
        for c in self.customers:
            if c.person and c.obj.status == "active":
                by_branch[c.branch].append(c)
        for c in self.customers:
            if c.obj.source != CustomerSource.REFERRAL.value or not c.person or c.plan != "normal":
                continue
            earlier = [r for r in by_branch[c.branch]
                       if r.obj.registered_at < c.obj.registered_at - timedelta(days=30)]
            if not earlier:
                c.obj.source = CustomerSource.WALK_IN.value
                continue
            ref = self.rng.choice(earlier)
            c.obj.referrer = ref.obj
            # the original receiver of the referrer (原始接待者), else its owner then
            original = ref.owner_timeline[0][1]
            here = {self.uid(u) for u in self.sales_of(c.branch, c.obj.registered_at)}
            owner = original if original in here else ref.owner_at(c.obj.registered_at)
            c.owner_timeline = [(c.obj.registered_at, owner)]
            c.obj.notes = f"老客户{ref.obj.name}介绍，归其原始接待人。"

    def _redistribution(self) -> None:
        """赵强 left 20 days ago: his customers went at random to the branch's salespeople."""
        zhao = self.uid("zhaoqiang")
        remaining = self.sales_of("HD-PD")
        for c in self.customers:
            if c.owner_timeline[-1][1] == zhao:
                if c.obj.registered_at >= self.left_at:
                    c.owner_timeline = [(c.obj.registered_at, self.uid(self.rng.choice(remaining)))]
                else:
                    c.owner_timeline.append((self.left_at, self.uid(self.rng.choice(remaining))))
        # Two lapsed customers in 闵行 reassigned by the department manager (服务不到位).
        lapsed = [c for c in self.customers if c.plan == "lapsed" and c.branch == "HD-MH"][:2]
        for c in lapsed:
            current = c.owner_timeline[-1][1]
            others = [self.uid(u) for u in self.sales_of("HD-MH") if self.uid(u) != current]
            c.owner_timeline.append((self.work_time(6), self.rng.choice(others)))
            c.plan = "reassigned_lapse"

    def customer_codes(self) -> None:
        """Archive codes as the customers service gives them (``KH`` + id), in one statement."""
        table = Customer.__table__
        rows = [{"cid": c.obj.id, "new_code": f"KH{c.obj.id:08d}"} for c in self.customers]
        self.s.execute(table.update().where(table.c.id == bindparam("cid"))
                       .values(code=bindparam("new_code")), rows)
        for c, row in zip(self.customers, rows, strict=True):
            set_committed_value(c.obj, "code", row["new_code"])

    def _summary(self, o: Customer) -> str:
        """交易概况: what the customer bought or does with the company."""
        rng = self.rng
        since = f"{o.deal_at.astimezone(clock.COMPANY_TZ):%Y-%m}" if o.deal_at else ""
        if o.kind == CustomerKind.SUPPLIER.value:
            return f"{since}起为本公司供货，年采购额约¥{rng.randint(20, 300) * 10000:,}"
        if o.kind == CustomerKind.SPECIAL.value:
            work = {"lawyer": "常年法律顾问", "bank": "汽车消费贷款合作", "insurer": "新车保险合作",
                    "advisor": "经营管理咨询"}[o.special_category or "advisor"]
            return f"{since}起{work}"
        if o.kind == CustomerKind.DEALER.value:
            cars = rng.randint(20, 200)
            return f"{since}起合作，累计提车{cars}台，累计金额¥{cars * rng.randint(10, 25) * 10000:,}"
        cars = rng.randint(1, 2) if o.credit_code is None else rng.randint(3, 40)
        amount = cars * rng.randint(12, 38) * 10000
        return f"{since} 购车{cars}台（{rng.choice(CARS)}），累计金额¥{amount:,}"

    def _finish_customers(self) -> None:
        rng = self.rng
        validity = timedelta(days=int(settings.get(self.s, "customer.ownership_validity_days")))
        contacts: list[dict] = []
        changes: list[dict] = []
        reasons = {
            "zhaoqiang": "原跟进人赵强离职，按制度在本展厅销售顾问中随机抽数分配",
            "reassigned_lapse": "三个月无回访、无邀约（服务不到位），部门经理重新分配",
        }
        for c in self.customers:
            o = c.obj
            o.owner_id = c.owner_timeline[-1][1]
            reg = o.registered_at
            if o.status == "prospect":
                o.ownership_expires_at = reg + validity
                o.intent = rng.choice(["hot", "warm", "warm", "cold"])
            else:
                o.deal_at = min(reg + timedelta(days=rng.uniform(3, 40)),
                                self.now - timedelta(hours=6))
                o.transaction_summary = self._summary(o)
                o.intent = "hot" if o.status == "active" else "cold"
            if o.status == "closed":
                o.closed_at = self.work_time(rng.uniform(30, 200))
                o.notes = ("客户已移居外地，档案关闭（保留）。" if c.person
                           else "公司已注销，档案关闭（保留）。")
            o.first_contact_at = reg
            # contacts
            if not c.person:
                for k in range(rng.randint(1, 3)):
                    name = self.pools.person()
                    if k == 0:
                        c.contact_name = name
                    contacts.append(dict(
                        _c=c, name=name, title=TITLES[k if k < 2 else rng.randint(2, 5)],
                        phone=self.pools.phone(), is_primary=k == 0,
                        email=f"contact{o.code[-5:]}{k}@example.cn"))
            elif rng.random() < 0.25:
                contacts.append(dict(_c=c, name=self.pools.person(), title="家属",
                                     phone=self.pools.phone(), is_primary=False, email=None))
            # owner history (R-CUST-7): the first owner on registration, then every move
            first_at, first_owner = c.owner_timeline[0]
            changes.append(dict(_c=c, from_user_id=None, to_user_id=first_owner,
                                changed_by_id=first_owner, changed_at=first_at,
                                reason="新建档案" if o.source != "referral"
                                else "老带新：归接待介绍人的销售顾问"))
            prev = first_owner
            for since, uid in c.owner_timeline[1:]:
                who = (self.uid("supervisor1") if c.plan != "reassigned_lapse"
                       else self.uid("manager1"))
                reason = reasons["reassigned_lapse" if c.plan == "reassigned_lapse"
                                 else "zhaoqiang"]
                changes.append(dict(_c=c, from_user_id=prev, to_user_id=uid,
                                    changed_by_id=who, changed_at=since, reason=reason))
                prev = uid
        self.s.add_all([c.obj for c in self.customers])
        self.later[CustomerContact] += contacts
        self.later[OwnerChange] += changes
        self.counts["customers"] = len(self.customers)
        self.counts["contacts"] = len(contacts)
        self.counts["owner changes"] = len(changes)

    # -- follow-ups ------------------------------------------------------------------------

    def _kind(self, history: list[str], sms_streak: int) -> str:
        kinds = [FollowUpKind.CALL, FollowUpKind.WECHAT, FollowUpKind.VISIT, FollowUpKind.SMS,
                 FollowUpKind.INVITATION, FollowUpKind.EMAIL]
        k = self.rng.choices(kinds, [5, 4, 2, 2, 1, 1])[0].value
        if k == "sms" and history[1 - sms_streak:] == ["sms"] * (sms_streak - 1):
            k = "call"  # a text-message-only run does not count as service (R-CUST-4)
        return k

    def _cadence(self, rules: customer_rules.Cadence, start: datetime,
                 end: datetime) -> list[datetime]:
        """Follow-ups that keep the service's cadence (R-CUST-4): the first within its window
        of ``start``, the next within the second window, then within every interval, each
        with some margin; none after ``end``."""
        rng = self.rng
        day = timedelta(days=1)
        out: list[datetime] = []
        t = start + timedelta(days=rng.uniform(0.2, rules.first / day - 0.5))
        if t > end:
            return out
        out.append(t)
        t += timedelta(hours=rng.uniform(4, rules.second / timedelta(hours=1) - 2))
        while t <= end:
            out.append(t)
            t += timedelta(days=rng.uniform(2.5, rules.interval / day - 0.5))
        return out

    def follow_ups(self) -> None:
        rng = self.rng
        now = self.now
        rules = customer_rules.cadence(self.s)
        everyone = self.customers
        rows: list[dict] = []
        for c in everyone:
            o = c.obj
            reg = o.registered_at
            times: list[datetime]
            if c.plan == "void_new":
                times = []                                   # no first follow-up in time
            elif c.plan == "void_stalled":
                times = self._cadence(rules, reg, reg + rules.interval)   # then silence
            elif c.plan == "void_marked":
                times = [reg + timedelta(days=1.5)]          # and no second one in time
            elif o.status == "prospect":
                # the cadence restarts with each owner (registration, hand-over)
                bounds = [since for since, _uid in c.owner_timeline] + [now]
                times = []
                for a, b in zip(bounds, bounds[1:], strict=False):
                    times += self._cadence(rules, a, b)
            else:
                deal = o.deal_at or reg
                times = self._cadence(rules, reg, deal)
                after = max(deal, now - timedelta(days=365))
                if c.plan in ("lapsed", "reassigned_lapse"):
                    stop = now - timedelta(days=rng.uniform(100, 200))
                elif o.status == "closed":
                    stop = o.closed_at or now
                else:
                    stop = now - timedelta(days=rng.uniform(0, 40))
                t = after + timedelta(days=rng.uniform(5, 30))
                while t < stop:
                    times.append(t)
                    t += timedelta(days=rng.uniform(15, 60))
                if o.status == "active" and (not times or times[-1] < stop - timedelta(days=30)):
                    times.append(stop)   # active customers are served (no R-CUST-5 lapse)
                if c.plan == "reassigned_lapse":
                    times.append(c.owner_timeline[-1][0] + timedelta(days=1))
            history: list[str] = []
            mine: list[dict] = []
            for t in times:
                if t > now:
                    break
                kind = self._kind(history, rules.sms_streak)
                history.append(kind)
                mine.append(dict(_c=c, user_id=c.owner_at(t), kind=kind, happened_at=t,
                                 notes=rng.choice(FOLLOW_NOTES[FollowUpKind(kind)]),
                                 next_due_at=None))
            baseline = c.owner_timeline[-1][0]
            if mine and mine[-1]["happened_at"] >= baseline:
                # the deadline in force after them, stored as the customers service does
                mine[-1]["next_due_at"] = customer_rules.deadline_in_force(
                    self.s, baseline, [(f["happened_at"], f["kind"]) for f in mine
                                       if f["happened_at"] >= baseline])
            o.last_service_at = mine[-1]["happened_at"] if mine else None
            rows += mine
        rows += _missed_invitations(everyone, rng, now)
        self.later[FollowUp] += rows
        self.counts["follow-ups"] = len(rows)


def _missed_invitations(customers: list[_Cust], rng: random.Random,
                        now: datetime) -> list[dict]:
    """邀不来: the lapsed customers were invited lately and did not come; a contact but not
    service (R-CUST-5), so they stay lapsed (the department may hand them to another
    department). ``last_service_at`` stays at the last real service."""
    rows = []
    for c in customers:
        if c.plan != "lapsed" or c.obj.last_service_at is None:
            continue
        at = now - timedelta(days=rng.uniform(10, 30))
        rows.append(dict(_c=c, user_id=c.owner_at(at), happened_at=at, next_due_at=None,
                         kind=FollowUpKind.INVITATION_MISSED.value,
                         notes=rng.choice(FOLLOW_NOTES[FollowUpKind.INVITATION_MISSED])))
    return rows
