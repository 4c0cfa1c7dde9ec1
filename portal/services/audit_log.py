"""The audit log as people read it (R-AUD-3): who (full name and login), what (the action in
words), on which record (its type and display name, linked where the reader may open it),
when (company time) and what changed (field by field), with filters by person, action group,
object and date range.

Values a reader may not see on the record are masked with the policy's field visibility
(``policy.visible_fields``); internal columns are never shown. The chain's integrity is checked
from the page (the same walk as ``flask portal audit-verify``) and recorded as an
``audit.verify`` entry, so the page shows the last result. The command itself writes nothing:
it must be able to examine a chain without changing it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from models.audit import AuditEntry
from models.enums import AuditOutcome
from models.org import User
from portal import audit, policy, vocabulary
from portal.services import calendar
from portal.services.errors import N_, PermissionDenied, ValidationFailed
from portal.services.unit import verb

MASK = "***"
PAGE_SIZE = 50
# Columns people never need to read in a change (bookkeeping of the database).
INTERNAL_FIELDS = frozenset({"id", "version", "created_at", "updated_at", "updated_by_id",
                             "seq", "hash", "prev_hash"})

# Actions the audit log records besides the policy's actions (vocabulary.ACTION_LABELS).
EXTRA_ACTION_LABELS: dict[str, str] = {
    "auth.login": N_("Sign in"),
    "auth.logout": N_("Sign out"),
    "auth.lockout": N_("Account locked"),
    "auth.session_timeout": N_("Session ended (timeout)"),
    "auth.csrf": N_("Form check failed"),
    "user.create": N_("Create users"),
    "user.change_password": N_("Change own password"),
    "user.set_on_leave": N_("Set on leave"),
    "role.grant": N_("Give a role"),
    "role.revoke": N_("Take a role away"),
    "grant.add": N_("Add a grant"),
    "grant.remove": N_("Remove a grant"),
    "grant.matrix_change": N_("Change a role's permissions"),
    "setting.calendar_add": N_("Set a calendar day"),
    "setting.calendar_change": N_("Change a calendar day"),
    "setting.calendar_delete": N_("Make a calendar day normal"),
    "setting.calendar_import": N_("Import public holidays"),
    "customer.deal": N_("Record a deal"),
    "customer_contact.add": N_("Add a contact"),
    "complaint.regrade": N_("Re-grade a complaint"),
    "complaint.hand_over": N_("Hand a customer to another department"),
    "credit.suspend": N_("Suspend a credit line"),
    "credit.approve_summary": N_("Approve a credit summary"),
    "file.declassify": N_("Declassify files"),
    "file.reconcile": N_("Reconcile the file store"),
    "file.request_copy": N_("Request a copy"),
    "file.collect_copy": N_("Collect a copy"),
    "file.add_scope_member": N_("Add someone who may know"),
    "file.extend_secrecy": N_("Extend secrecy"),
    "file.reclassify": N_("Reclassify files"),
    "file.integrity": N_("File integrity check"),
    "token.revoke": N_("Revoke API tokens"),
    "reception.set_availability": N_("Set reception availability"),
    "audit.verify": N_("Verify the audit chain"),
    "demo.load": N_("Load demo data"),
    "archive_loan.refuse": N_("Refuse an archive loan"),
    "archive_loan.return": N_("Return a borrowed archive"),
    "archive_loan.revoke": N_("Revoke an archive loan"),
    "archive_loan.read": N_("Read a borrowed archive"),
    "joint_event.rule": N_("Rule on a joint-event conflict"),
    "joint_event.escalate": N_("Escalate a joint-event conflict to the general manager"),
    "joint_event.record_attendance": N_("Record attendance and sales at a joint event"),
}

GROUP_LABELS: dict[str, str] = {"auth": N_("Sign-in and security"),
                                "role": N_("Grants"),
                                **vocabulary.AREA_LABELS}

# Stored target type → the model (for display names, links and field visibility).
MODELS: dict[str, type] = {m.__name__: m for m in policy.MODEL_AREA}

TYPE_LABELS: dict[str, str] = {
    "Customer": N_("Customer"), "CustomerContact": N_("Contact"),
    "FollowUp": N_("Follow-up"), "Complaint": N_("Complaint"),
    "CreditLine": N_("Credit line"), "CreditEvaluation": N_("Credit evaluation"),
    "ConfidentialFile": N_("Classified file"), "User": N_("User"),
    "Department": N_("Department"), "Branch": N_("Showroom"), "Setting": N_("Setting"),
    "CalendarDay": N_("Calendar day"), "Grant": N_("Grant"), "Role": N_("Role"),
    "ReceptionRecord": N_("Visit or call"), "ApiToken": N_("API token"),
    "ArchiveLoan": N_("Archive loan"),
    "JointEvent": N_("Joint event"), "JointRuling": N_("Joint-event ruling"),
    "JointAttendance": N_("Joint-event attendance"),
    "JointInvitation": N_("Confirmed-invitation list line"),
}


def action_label(action: str) -> str:
    return (vocabulary.ACTION_LABELS.get(action) or EXTRA_ACTION_LABELS.get(action)
            or GROUP_LABELS.get(action.split(".", 1)[0]) or N_("Other action"))


@dataclass
class Filters:
    person: str = ""
    group: str = ""
    target_type: str = ""
    target: str = ""
    start: date | None = None
    end: date | None = None
    outcome: str = ""
    page: int = 0

    @classmethod
    def parse(cls, args: Any) -> Filters:
        def day(name: str) -> date | None:
            raw = (args.get(name) or "").strip()
            if not raw:
                return None
            try:
                return date.fromisoformat(raw)
            except ValueError:
                raise ValidationFailed(N_("Give a date like 2026-10-01."), field=name) from None

        try:
            page = max(0, int(args.get("page") or 0))
        except ValueError:
            page = 0
        return cls((args.get("person") or "").strip()[:64], (args.get("group") or "")[:32],
                   (args.get("type") or "")[:64], (args.get("target") or "").strip()[:64],
                   day("start"), day("end"), (args.get("outcome") or "")[:8], min(page, 10_000))


@dataclass
class Change:
    field: str
    before: Any
    after: Any
    masked: bool = False


@dataclass
class Row:
    entry: AuditEntry
    actor_full_name: str | None
    action_label: str
    type_label: str | None
    target: Any  # the record, when it still exists and the reader may see it
    target_name: str | None
    can_open: bool
    changes: list[Change] = field(default_factory=list)

    @property
    def refused(self) -> bool:
        """The attempt was refused or failed (its ``detail`` then says why)."""
        return self.entry.outcome != AuditOutcome.OK.value


def _require(reader: User) -> None:
    if not policy.can(reader, "audit.view", AuditEntry):
        raise PermissionDenied("audit.view", AuditEntry)


def search(session: Session, reader: User, f: Filters) -> tuple[list[Row], bool]:
    """One page of entries (newest first) matching ``f``; whether there is a next page."""
    _require(reader)
    stmt = policy.scope(select(AuditEntry), reader, AuditEntry, "view")
    if f.person:
        like = f"%{f.person}%"
        ids = select(User.id).where(or_(User.full_name.like(like), User.username.like(like)))
        stmt = stmt.where(or_(AuditEntry.actor_name.like(like), AuditEntry.actor_id.in_(ids)))
    if f.group:
        stmt = stmt.where(AuditEntry.action.like(f"{f.group}.%"))
    if f.target_type:
        stmt = stmt.where(AuditEntry.target_type == f.target_type)
    if f.target:
        stmt = stmt.where(AuditEntry.target_id == f.target)
    if f.outcome:
        stmt = stmt.where(AuditEntry.outcome == f.outcome)
    if f.start:
        stmt = stmt.where(AuditEntry.at >= calendar.start_of_company_day(f.start))
    if f.end:
        stmt = stmt.where(AuditEntry.at < calendar.start_of_company_day(f.end + timedelta(1)))
    entries = list(session.scalars(stmt.order_by(AuditEntry.seq.desc())
                                   .offset(f.page * PAGE_SIZE).limit(PAGE_SIZE + 1)))
    more = len(entries) > PAGE_SIZE
    return describe(session, reader, entries[:PAGE_SIZE]), more


def _load_targets(session: Session, entries: list[AuditEntry]) -> dict[tuple[str, str], Any]:
    wanted: dict[str, set[int]] = {}
    for e in entries:
        if e.target_type in MODELS and e.target_id and e.target_id.isdigit():
            wanted.setdefault(e.target_type, set()).add(int(e.target_id))
    found: dict[tuple[str, str], Any] = {}
    for type_name, ids in wanted.items():
        model = MODELS[type_name]
        pk = getattr(model, "id", None)
        if pk is None:
            continue
        for obj in session.scalars(select(model).where(pk.in_(ids))):
            found[(type_name, str(obj.id))] = obj
    return found


def _changes(reader: User, model: type | None, obj: Any, before: dict[str, Any] | None,
             after: dict[str, Any] | None) -> list[Change]:
    before, after = before or {}, after or {}
    shown_before, masked = _mask_values(reader, model, obj, before)
    shown_after, masked_after = _mask_values(reader, model, obj, after)
    masked |= masked_after
    rows = []
    for name in list(dict.fromkeys([*shown_before, *shown_after])):
        if name in INTERNAL_FIELDS:
            continue
        b, a = before.get(name), after.get(name)
        if b == a and (name in before) == (name in after) or (b is None and a is None):
            continue
        rows.append(Change(name, shown_before.get(name), shown_after.get(name), name in masked))
    return rows


def _mask_values(reader: Any, model: type | None, obj: Any,
                 data: dict[str, Any]) -> tuple[dict[str, Any], set[str]]:
    """R-AUD-3, the one masking rule for before/after values: secrets and normalised copies are
    dropped; a column the reader may not read on the record (``policy.visible_fields``, on
    ``obj`` when given, else on the model) becomes ``***``. Returns the shown values and the
    names that were masked."""
    visible = policy.visible_fields(reader, model, obj) if model is not None else None
    shown: dict[str, Any] = {}
    masked: set[str] = set()
    for name, value in data.items():
        if name in policy.NEVER_VISIBLE or name.endswith("_normalized"):
            continue
        if visible is not None and model is not None and name not in visible \
                and _is_column(model, name):
            masked.add(name)
            shown[name] = MASK
        else:
            shown[name] = value
    return shown, masked


def masked_snapshot(reader: Any, target_type: str | None, text: str | None,
                    obj: Any = None) -> str | None:
    """R-AUD-3, the one masking function for an entry's before/after snapshot (JSON text):
    every value of a column the reader may not read on the record (``policy.visible_fields``,
    on ``obj`` when given, else on the model) becomes ``***``; secrets never leave. Used by the
    log for people (field by field), the raw rows and their export, and GraphQL."""
    data = _json(text)
    if data is None:
        return text if text is None else MASK
    shown, _masked = _mask_values(reader, MODELS.get(target_type or ""), obj, data)
    return json.dumps(shown, ensure_ascii=False, sort_keys=True)


def _is_column(model: type, name: str) -> bool:
    from sqlalchemy import inspect as sa_inspect

    mapper = sa_inspect(model)
    return name in {a.key for a in mapper.column_attrs} | {r.key for r in mapper.relationships}


def _json(text: str | None) -> dict[str, Any] | None:
    if not text:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def describe(session: Session, reader: User, entries: list[AuditEntry]) -> list[Row]:
    """Entries in people's words: names, labels, links and field changes (two statements for
    the actors and one per target type, not one per entry)."""
    actor_ids = {e.actor_id for e in entries if e.actor_id}
    names = dict(session.execute(select(User.id, User.full_name)
                                 .where(User.id.in_(actor_ids))).all()) if actor_ids else {}
    targets = _load_targets(session, entries)
    rows = []
    for e in entries:
        obj = targets.get((e.target_type or "", e.target_id or ""))
        model = MODELS.get(e.target_type or "")
        can_open = obj is not None and policy.can(reader, "view", obj)
        # a record's name only where the reader may see the record; days, settings and
        # roles are named by their key (the page puts it in words)
        obj_name = str(obj) if can_open else (
            e.target_id if e.target_type in ("CalendarDay", "Setting", "Role") else None)
        rows.append(Row(
            e, names.get(e.actor_id), action_label(e.action),
            TYPE_LABELS.get(e.target_type or "") if e.target_type else None,
            obj if can_open else None, obj_name, can_open,
            _changes(reader, model, obj, _json(e.before), _json(e.after))))
    return rows


@dataclass
class ChainStatus:
    at: datetime | None
    verified: int | None
    ok: bool | None


def chain_status(session: Session, reader: User) -> ChainStatus:
    """The last verification of the chain recorded from the page."""
    _require(reader)
    last = session.scalars(select(AuditEntry).where(AuditEntry.action == "audit.verify")
                           .order_by(AuditEntry.seq.desc()).limit(1)).first()
    if last is None:
        return ChainStatus(None, None, None)
    data = _json(last.after) or {}
    return ChainStatus(last.at, data.get("verified"), bool(data.get("ok")))


def record_verification(session: Session, actor: User | None) -> audit.VerifyReport:
    report = audit.verify(session)
    audit.record(session, actor, "audit.verify", None,
                 after={"verified": report.verified, "ok": report.ok,
                        "broken_at": report.broken_at},
                 outcome="ok", detail=report.problem)
    return report


@verb
def verify_now(session: Session, reader: User) -> audit.VerifyReport:
    """An auditor checks the chain from the page; the result is itself an entry."""
    _require(reader)
    return record_verification(session, reader)
