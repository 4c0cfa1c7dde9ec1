"""The work-first home page: for the signed-in user, the lists of what waits on them today
(from ``portal.services.worklist`` and the inbox), each row one click from its action. Which
lists a person sees follows from their grants (through the policy), never from a role name."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import url_for
from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l

from admin_views import display
from models import Complaint, ConfidentialFile, CopyRequest, CreditLine, Customer, User
from portal import clock, policy
from portal.extensions import db, orm_session
from portal.services import notifications, worklist

TONES = {"overdue": "danger", "due_today": "warning", "due_soon": "warning",
         "expiring": "warning", "expired": "secondary", "void": "secondary",
         "waiting": "info", "open": "primary", "out": "secondary", "busy": "warning",
         "next": "success", "planned": "info"}


@dataclass
class Row:
    title: str
    sub: str = ""
    badge: str = ""
    tone: str = "info"
    url: str | None = None
    action: str = ""


@dataclass
class Section:
    key: str
    title: Any
    rows: list[Row] = field(default_factory=list)
    empty: Any = ""
    more_url: str | None = None
    lead: str = ""  # a sentence above the rows (the rotation's "next")


def _u(endpoint: str, **kw: Any) -> str | None:
    try:
        return url_for(endpoint, **kw)
    except Exception:
        return None


def _late(days: int | None) -> str:
    if not days:
        return gettext("今天到期")
    return ngettext("逾期 %(num)s 天", "逾期 %(num)s 天", days)


def _dt(value: Any) -> str:
    from admin_views.base import company_time

    return company_time(value)


def _customer(c: Customer) -> str:
    return f"{c.code} {c.name}"


def inbox_section(user: User) -> Section | None:
    if not policy.can(user, "token.view", notifications.Notification):
        return None
    notes = notifications.inbox(db.session, user, unread_only=True, limit=5)
    links = notifications.targets(db.session, user, notes)
    rows = [Row(notifications.render(n, gettext), _dt(n.created_at), gettext("未读"), "danger",
                url_for("inbox.open_view", id=n.id) if n.id in links else None,
                gettext("打开")) for n in notes]
    return Section("inbox", _l("待办消息"), rows, _l("没有未读的待办。"),
                   url_for("inbox.index_view"))


def sales_sections(user: User) -> list[Section]:
    if not policy.can(user, "customer.be_owner"):
        return []
    now = clock.now()
    rows = []
    for r in worklist.my_follow_ups(db.session, user, now):
        if r.state == worklist.PLANNED:
            note = gettext("约定回访：%(date)s", date=r.extra["planned_on"].isoformat())
            badge = gettext("约定回访")
        else:
            note = gettext("应回访：%(due)s", due=_dt(r.due))
            badge = _late(r.days_overdue) if r.state == worklist.OVERDUE else gettext("今天到期")
        rows.append(Row(_customer(r.record), note, badge,
                        TONES[r.state],
                        _u("customer.follow_up_view", ids=r.record.id), gettext("记录回访")))
    sections = [Section("follow_ups", _l("我的回访（今日到期与逾期）"), rows,
                        _l("今天没有到期的回访。"),
                        _u("customer.index_view", preset="follow_up_due"))]
    exp = [Row(_customer(r.record), gettext("建档有效期至 %(date)s", date=_dt(r.due)),
               ngettext("还剩 %(num)s 天", "还剩 %(num)s 天", r.extra["days_left"]),
               TONES[r.state], _u("customer.details_view", id=r.record.id), gettext("查看"))
           for r in worklist.ownership_expiring(db.session, user, now)]
    sections.append(Section("expiring", _l("建档即将到期（7 天内）"), exp,
                            _l("7 天内没有到期的建档。")))
    return sections


def reception_sections(user: User) -> list[Section]:
    sections = []
    rot = worklist.rotation(db.session, user)
    if rot is not None:
        labels = {"next": gettext("下一位"), "out": gettext("外出"), "busy": gettext("接待中"),
                  "waiting": gettext("排队中")}
        rows = []
        for r in rot.queue:
            badge = labels[r.state]
            if r.state == worklist.NEXT and r.extra.get("busy"):
                badge = gettext("下一位（接待中）")
            sub = ngettext("补 %(num)s 次", "补 %(num)s 次", r.extra["owed"]) \
                if r.extra.get("owed") else ""
            rows.append(Row(r.record.full_name, sub, badge, TONES[r.state]))
        lead = gettext("下一位接待：%(name)s", name=rot.next_user.full_name) \
            if rot.next_user else gettext("今天没有可接待的销售员。")
        sections.append(Section("rotation", _l("今日轮流接待"), rows,
                                _l("今天的轮值还没有销售员。"),
                                _u("receptionrecord.rotation_view")
                                if policy.can(user, "reception.manage_rotation") else None, lead))
    if user.branch_id is not None and (policy.can(user, "reception.manage_rotation")
                                       or policy.can(user, "reception.add")):
        walk = [Row(r.record.visitor_name, gettext("到访：%(at)s", at=_dt(r.due)),
                    gettext("无人接待"), TONES["waiting"],
                    _u("receptionrecord.edit_view", id=r.record.id), gettext("安排接待"))
                for r in worklist.unassigned_walk_ins(db.session, user)]
        sections.append(Section("walk_ins", _l("未分配的来访"), walk, _l("没有未分配的来访。"),
                                _u("receptionrecord.index_view")))
    if policy.can(user, "customer.reassign"):
        labels = {"void": gettext("废卡"), "expired": gettext("建档已过期")}
        void = [Row(_customer(r.record),
                    f"{r.record.owner.full_name if r.record.owner else ''} · "
                    + _late(r.days_overdue), labels[r.state], TONES[r.state],
                    _u("customer.reassign_view", ids=r.record.id), gettext("重新分配"))
                for r in worklist.void_cards(db.session, user)]
        sections.append(Section("void", _l("废卡与建档过期"), void, _l("没有废卡。"),
                                _u("customer.index_view", preset="void")))
    return sections


def service_sections(user: User) -> list[Section]:
    if not policy.can(user, "complaint.handle"):
        return []
    rows = []
    for r in worklist.complaints_by_deadline(db.session, user):
        c = r.record
        if r.state == worklist.OVERDUE:
            badge = ngettext("超期 %(num)s 天", "超期 %(num)s 天", r.days_overdue) \
                if r.days_overdue else gettext("已超期")
        elif r.state == worklist.DUE_SOON:
            badge = gettext("24 小时内到期")
        else:
            badge = gettext("处理中")
        name = c.customer.name if c.customer else ""
        rows.append(Row(f"{c.number} {name}", gettext("期限：%(at)s", at=_dt(r.due)), badge,
                        TONES[r.state], _u("complaint.details_view", id=c.id), gettext("处理")))
    return [Section("complaints", _l("待处理的投诉（按期限）"), rows, _l("没有待处理的投诉。"),
                    _u("complaint.index_view"))]


STEP_LABELS = {"approve": _l("审批处理方案"), "review": _l("审核授信"),
               "copy": _l("审批复制申请")}


def approval_sections(user: User) -> list[Section]:
    rows = []
    for r in worklist.approvals_waiting(db.session, user):
        obj, step = r.record, r.extra["step"]
        if isinstance(obj, Complaint):
            title = f"{obj.number} {obj.customer.name if obj.customer else ''}"
            url, action = _u("complaint.details_view", id=obj.id), gettext("审批处理方案")
        elif isinstance(obj, CreditLine):
            title = gettext("%(customer)s 的授信 #%(line)s", customer=obj.customer.name,
                            line=obj.id)
            action = gettext("审核授信") if step == "review" else gettext("审批授信")
            url = _u("creditline.details_view", id=obj.id)
        elif isinstance(obj, CopyRequest):
            title = gettext("复制申请 #%(id)s（文件 #%(file)s）", id=obj.id, file=obj.file_id)
            url, action = _u("copyrequest.details_view", id=obj.id), gettext("审批复制申请")
        else:  # pragma: no cover - approvals_waiting returns only these
            continue
        when = gettext("期限：%(at)s", at=_dt(r.due)) if isinstance(obj, Complaint) \
            else gettext("提交于 %(at)s", at=_dt(r.due))
        rows.append(Row(title, when, gettext("待我审批"), TONES["waiting"], url, action))
    if not rows and not any(policy.can(user, a) for a in (
            "complaint.approve", "credit.review", "credit.approve", "file.approve_copy")):
        return []
    return [Section("approvals", _l("等待我审批"), rows, _l("没有等待您审批的事项。"))]


def finance_sections(user: User) -> list[Section]:
    sections = []
    if policy.can(user, "credit.record_transaction"):
        rows = [Row(_customer(r.record),
                    gettext("额度 %(limit)s", limit=display.money_text(r.extra["limit"])),
                    gettext("超额 %(excess)s", excess=display.money_text(r.extra["excess"])),
                    TONES["overdue"], _u("customer.details_view", id=r.record.id),
                    gettext("催收"))
                for r in worklist.over_limit(db.session, user)]
        sections.append(Section("over_limit", _l("超额度客户"), rows, _l("没有超额度的客户。"),
                                _u("reports.over_limit")))
    if policy.can(user, "credit.record_transaction"):
        rows = [Row(_customer(r.record), r.extra["owner"],
                    gettext("逾期 %(amount)s", amount=display.money_text(r.extra["past_due"])),
                    TONES["overdue"], _u("receivables.index"), gettext("催收"))
                for r in worklist.past_due(db.session, user)]
        sections.append(Section("past_due", _l("逾期应收（赊销冻结）"), rows,
                                _l("没有逾期的应收账款。"), _u("receivables.collection")))
    if policy.can(user, "credit.evaluate"):
        rows = [Row(_customer(r.record), "", gettext("待复评"), TONES["due_today"],
                    _u("customer.details_view", id=r.record.id), gettext("复评"))
                for r in worklist.credit_reviews_due(db.session, user)]
        sections.append(Section("reviews", _l("到期待复评的信用评定"), rows,
                                _l("没有到期的信用评定。")))
    return sections


def admin_sections(user: User) -> list[Section]:
    sections = []
    if policy.can(user, "file.classify"):
        rows = [Row(f"#{f.id} {f.title}",
                    gettext("保密期至 %(date)s", date=r.extra["until"].isoformat()),
                    ngettext("还剩 %(num)s 天", "还剩 %(num)s 天", r.extra["days_left"])
                    if r.extra["days_left"] >= 0 else gettext("已到期"),
                    TONES["expiring"], _u("file.details_view", id=f.id), gettext("延期或解密"))
                for r in worklist.secrecy_ending(db.session, user)
                for f in [r.record] if isinstance(f, ConfidentialFile)]
        sections.append(Section("secrecy", _l("30 天内到期的保密期"), rows,
                                _l("30 天内没有到期的保密期。"), _u("file.index_view")))
    if policy.can(user, "two_person.view"):
        from admin_views.pending import KIND_LABELS

        rows = [Row(f"{KIND_LABELS.get(p.kind, p.kind)} #{p.id}",
                    gettext("有效至 %(at)s", at=_dt(r.due)),
                    gettext("我的申请") if r.extra["mine"] else gettext("待确认"),
                    "secondary" if r.extra["mine"] else "warning",
                    _u("pendingaction.details_view", id=p.id),
                    gettext("查看") if r.extra["mine"] else gettext("确认或拒绝"))
                for r in worklist.pending_confirmations(orm_session(), user) for p in [r.record]]
        sections.append(Section("pending", _l("待确认操作（双人确认）"), rows,
                                _l("没有待确认的操作。"), _u("pendingaction.index_view")))
    problems = worklist.outbox_problems(db.session, user)
    if problems:
        labels = {"failed": gettext("发送失败，将重试"), "dead": gettext("已放弃发送")}
        rows = [Row(labels[k], "", str(n), "danger" if k == "dead" else "warning",
                    _u("outbox.index_view"), gettext("查看")) for k, n in problems.items()]
        sections.append(Section("outbox", _l("通知发送问题"), rows))
    if policy.can(user, "user.change"):
        rows = [Row(f"{u.full_name} ({u.username})",
                    gettext("锁定至 %(at)s", at=_dt(r.due)), gettext("已锁定"), "danger",
                    _u("user.details_view", id=u.id), gettext("查看"))
                for r in worklist.locked_accounts(db.session, user) for u in [r.record]]
        sections.append(Section("locked", _l("被锁定的账号"), rows, _l("没有被锁定的账号。"),
                                _u("user.index_view")))
    if policy.can(user, "audit.view") and (policy.is_read_only(user)
                                          or not policy.can(user, "customer.view")):
        rows = [Row(f"{e.actor_name} · {e.action}", _dt(e.at), gettext("拒绝"), "danger",
                    _u("auditentry.details_view", id=e.id), gettext("查看"))
                for e in worklist.recent_denials(db.session, user)]
        sections.append(Section("denials", _l("近 7 天被拒绝的操作"), rows,
                                _l("近 7 天没有被拒绝的操作。"), _u("auditentry.index_view")))
    return sections


def sections(user: User) -> list[Section]:
    """Every list the user's grants make meaningful, most urgent kinds first."""
    out: list[Section] = []
    for build in (sales_sections, reception_sections, service_sections, approval_sections,
                  finance_sections, admin_sections):
        out += build(user)
    inbox = inbox_section(user)
    if inbox is not None:
        out.append(inbox)
    return out
