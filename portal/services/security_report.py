"""The monthly security report for the security auditor (R-AUD-5, 等保 2.0 安全审计).

For one company-time month it counts, from the audit log only: sign-ins and failures,
lockouts, two-factor events, refused attempts by kind (permission, scope, separation of
duties, business rule), administrators' actions (roles, grants, clearances, accounts,
two-person requests and confirmations), and the reads and copies of classified files (秘密 and
above). One service for every door: the portal page, its CSV and GraphQL's ``securityReport``.

The figures are company-wide counts (no record content, no names of customers); the grant
``security_report.view`` guards them (by default the security auditor only), and a refused
attempt leaves one denied audit entry (``@verb``).

The action tables below are the report's definition: an audit action added later (for example
a new two-factor event) appears in its section by being named here, or — for two-factor events —
by its prefix (``TWO_FACTOR_PREFIXES``).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import String, and_, cast, func, select
from sqlalchemy.orm import Session

from models import ConfidentialFile
from models.audit import AuditEntry
from models.enums import AuditOutcome, Level
from models.org import User
from portal import policy
from portal.services import complaint_slices
from portal.services.audit_log import action_label
from portal.services.cells import csv_cell
from portal.services.complaints import month_bounds
from portal.services.errors import N_, PermissionDenied
from portal.services.unit import verb

ACTION = "security_report.view"
EXPORT = "security_report.export"
OK = AuditOutcome.OK.value
DENIED = AuditOutcome.DENIED.value

# (audit action, label). A line counts the action's successful and refused entries.
SIGN_IN_EVENTS: tuple[tuple[str, str], ...] = (
    ("auth.login", N_("Sign-ins (succeeded / failed)")),
    ("auth.lockout", N_("Accounts locked after repeated failures")),
    ("auth.logout", N_("Sign-outs")),
    ("auth.session_timeout", N_("Sessions ended by the timeout")),
    ("user.change_password", N_("Own password changed")),
)

# Two-factor events (R-ROLE-6): the ones known today, and any other action with these prefixes.
TWO_FACTOR_EVENTS: tuple[tuple[str, str], ...] = (
    ("auth.two_factor", N_("Sign-in codes (accepted / refused)")),
    ("two_factor.enrol", N_("Two-factor enrolments")),
    ("two_factor.recovery_used", N_("Recovery codes used")),
    ("two_factor.reset", N_("Second factors reset")),
    ("user.reset_two_factor", N_("Second-factor resets (two-person)")),
)
TWO_FACTOR_PREFIXES = ("two_factor.", "auth.two_factor")

# Administrators' actions (三员): accounts, roles and grants, clearances, two-person steps.
ADMIN_EVENTS: tuple[tuple[str, str], ...] = (
    ("user.create", N_("Accounts created")),
    ("user.reset_password", N_("Passwords reset")),
    ("user.deactivate", N_("Accounts deactivated")),
    ("user.reactivate", N_("Accounts reactivated")),
    ("role.grant", N_("Roles given")),
    ("role.revoke", N_("Roles taken away")),
    ("grant.add", N_("Grants added")),
    ("grant.remove", N_("Grants removed")),
    ("grant.change", N_("Grants changed")),
    ("grant.matrix_change", N_("Role permissions changed")),
    ("user.set_clearance", N_("Clearances set")),
    ("two_person.request", N_("Two-person requests")),
    ("two_person.confirm", N_("Two-person confirmations")),
    ("two_person.refuse", N_("Two-person refusals")),
    ("two_person.cancel", N_("Two-person requests withdrawn")),
    ("token.revoke", N_("API tokens revoked")),
    ("token.revoke_all", N_("All API tokens of a user revoked")),
    ("setting.change", N_("Settings changed")),
    ("audit.verify", N_("Audit chain verified")),
)

# Copies and classification of classified files (R-FILE-3, R-FILE-5).
FILE_EVENTS: tuple[tuple[str, str], ...] = (
    ("file.request_copy", N_("Copy requests")),
    ("file.approve_copy", N_("Copy requests approved")),
    ("file.reject_copy", N_("Copy requests rejected")),
    ("file.collect_copy", N_("Approved copies collected")),
    ("file.reclassify", N_("Files reclassified")),
    ("file.declassify", N_("Files declassified")),
    ("file.extend_secrecy", N_("Secrecy extended")),
    ("file.add_scope_member", N_("People added to a knowledge scope")),
    ("file.remove_scope_member", N_("People taken out of a knowledge scope")),
)

CLASSIFIED_LEVELS = (Level.SECRET, Level.CONFIDENTIAL, Level.TOP_SECRET)
LEVEL_LABELS = {Level.SECRET: N_("Secret"), Level.CONFIDENTIAL: N_("Confidential"),
                Level.TOP_SECRET: N_("Top secret")}

# Kinds of refused attempts (R-AUD-4 records the reason in the entry's detail).
REFUSAL_KINDS: tuple[tuple[str, str], ...] = (
    ("permission", N_("Permission (no grant)")),
    ("scope", N_("Scope (record outside the user's scope)")),
    ("separation_of_duties", N_("Separation of duties (three administrators, two-person)")),
    ("rule", N_("Business rule")),
    ("form_check", N_("Form check failed (CSRF)")),
)
# Sign-in family: counted in their own sections, not as refused attempts.
SIGN_IN_FAMILY = ("auth.login", "auth.lockout", "auth.two_factor", "auth.logout",
                  "auth.session_timeout")
SOD_RULES = ("R-ROLE-2",)
SCOPE_RULES = ("R-ROLE-1",)
_RULE = re.compile(r"^(R-[A-Z]+-\d+)\b")
_SCOPE_WORDS = ("outside scope", "out of scope", "Not found.")
TOP_PEOPLE = 10


def refusal_kind(action: str, detail: str | None) -> str | None:
    """The kind of a refused attempt from its audit entry (``None``: a sign-in event, counted
    in the sign-in and two-factor sections). Denied entries carry their rule id first
    (``"R-ROLE-2: …"``, ``portal.services.unit.record_denied``); an out-of-scope refusal says
    so or answers "Not found." (the same answer as a missing record); a refusal without a rule
    is a missing grant."""
    if action in SIGN_IN_FAMILY or action.startswith(TWO_FACTOR_PREFIXES):
        return None
    if action == "auth.csrf":
        return "form_check"
    text = (detail or "").strip()
    match = _RULE.match(text)
    if match:
        rule = match.group(1)
        if rule in SOD_RULES:
            return "separation_of_duties"
        return "scope" if rule in SCOPE_RULES else "rule"
    if any(w in text for w in _SCOPE_WORDS):
        return "scope"
    return "permission"


@dataclass
class Row:
    key: str
    label: str  # msgid, or data (a person's login) when ``data`` is True
    values: list[int]
    data: bool = False


@dataclass
class Section:
    key: str
    title: str
    header: list[str]
    # per value column, the badge colour when the value is not zero
    tones: list[str]
    rows: list[Row] = field(default_factory=list)


@dataclass
class SecurityReport:
    year: int
    month: int
    start: datetime
    end: datetime
    figures: list[tuple[str, str, int]] = field(default_factory=list)  # (key, label, value)
    sections: list[Section] = field(default_factory=list)

    @property
    def month_text(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    def section(self, key: str) -> Section:
        return next(s for s in self.sections if s.key == key)

    def figure(self, key: str) -> int:
        return next(v for k, _label, v in self.figures if k == key)


def _lines(counts: Counter[tuple[str, str]], events: tuple[tuple[str, str], ...]) -> list[Row]:
    return [Row(action, label, [counts[(action, OK)], counts[(action, DENIED)]])
            for action, label in events]


@verb
def monthly_report(session: Session, actor: User, month: str) -> SecurityReport:
    """R-AUD-5: the security report of ``month`` (``YYYY-MM``, company time)."""
    if not policy.can(actor, ACTION):
        raise PermissionDenied(ACTION, "security_report")
    year, mon = complaint_slices.parse_month(month)
    start, end = month_bounds(year, mon)
    in_month = and_(AuditEntry.at >= start, AuditEntry.at < end)
    report = SecurityReport(year, mon, start, end)

    # 1. every action × outcome of the month (one grouped query)
    counts: Counter[tuple[str, str]] = Counter()
    for action, outcome, n in session.execute(
            select(AuditEntry.action, AuditEntry.outcome, func.count(AuditEntry.id))
            .where(in_month).group_by(AuditEntry.action, AuditEntry.outcome)):
        counts[(action, outcome)] += int(n)

    done_refused = [N_("Succeeded"), N_("Refused or failed")]
    report.sections.append(Section("sign_in", N_("Sign-ins and sessions"),
                                   [N_("Event"), *done_refused], ["success", "danger"],
                                   _lines(counts, SIGN_IN_EVENTS)))
    known = {a for a, _label in TWO_FACTOR_EVENTS}
    extra = sorted({a for a, _o in counts if a.startswith(TWO_FACTOR_PREFIXES)} - known)
    report.sections.append(Section(
        "two_factor", N_("Two-factor sign-in"), [N_("Event"), *done_refused],
        ["success", "danger"],
        _lines(counts, TWO_FACTOR_EVENTS + tuple((a, action_label(a)) for a in extra))))

    # 2. refused attempts by kind, and who was refused most
    kinds: Counter[str] = Counter()
    for action, detail, n in session.execute(
            select(AuditEntry.action, AuditEntry.detail, func.count(AuditEntry.id))
            .where(in_month, AuditEntry.outcome == DENIED)
            .group_by(AuditEntry.action, AuditEntry.detail)):
        kind = refusal_kind(action, detail)
        if kind is not None:
            kinds[kind] += int(n)
    report.sections.append(Section(
        "refusals", N_("Refused attempts by kind"), [N_("Kind"), N_("Refused attempts")],
        ["danger"], [Row(k, label, [kinds[k]]) for k, label in REFUSAL_KINDS]))
    people = session.execute(
        select(AuditEntry.actor_name, func.count(AuditEntry.id).label("n"))
        .where(in_month, AuditEntry.outcome == DENIED)
        .group_by(AuditEntry.actor_name)
        .order_by(func.count(AuditEntry.id).desc(), AuditEntry.actor_name)
        .limit(TOP_PEOPLE)).all()
    report.sections.append(Section(
        "refused_people", N_("Most refused sign-in names and users (refusals and failed "
                             "sign-ins)"),
        [N_("Login name"), N_("Refused or failed")], ["danger"],
        [Row(name or "-", name or "-", [int(n)], data=True) for name, n in people]))

    # 3. administrators' actions
    report.sections.append(Section("admin", N_("Administrators' actions"),
                                   [N_("Action"), *done_refused], ["secondary", "danger"],
                                   _lines(counts, ADMIN_EVENTS)))

    # 4. classified files: reads and copies by the file's level (as it stands today)
    by_level: Counter[tuple[int, str, str]] = Counter()
    for level, action, outcome, n in session.execute(
            select(ConfidentialFile.level, AuditEntry.action, AuditEntry.outcome,
                   func.count(AuditEntry.id))
            .join(ConfidentialFile, and_(AuditEntry.target_type == "ConfidentialFile",
                                         AuditEntry.target_id == cast(ConfidentialFile.id,
                                                                      String)))
            .where(in_month, AuditEntry.action.in_(("file.view", "file.download")),
                   ConfidentialFile.level >= int(Level.SECRET))
            .group_by(ConfidentialFile.level, AuditEntry.action, AuditEntry.outcome)):
        by_level[(int(level), action, outcome)] += int(n)
    report.sections.append(Section(
        "classified_files", N_("Classified files: reads and copies by level"),
        [N_("Level"), N_("Views"), N_("Downloads (copies)"), N_("Refused")],
        ["secondary", "warning", "danger"],
        [Row(str(int(lv)), LEVEL_LABELS[lv],
             [by_level[(int(lv), "file.view", OK)], by_level[(int(lv), "file.download", OK)],
              by_level[(int(lv), "file.view", DENIED)]
              + by_level[(int(lv), "file.download", DENIED)]])
         for lv in CLASSIFIED_LEVELS]))
    report.sections.append(Section("file_copies", N_("Copies and classification of files"),
                                   [N_("Action"), *done_refused], ["secondary", "danger"],
                                   _lines(counts, FILE_EVENTS)))

    def total(section: str, column: int) -> int:
        return sum(r.values[column] for r in report.section(section).rows)

    report.figures = [
        ("sign_ins", N_("Successful sign-ins"), counts[("auth.login", OK)]),
        ("failed_sign_ins", N_("Failed sign-ins"), counts[("auth.login", DENIED)]),
        ("lockouts", N_("Lockouts"), counts[("auth.lockout", DENIED)]
         + counts[("auth.lockout", OK)]),
        ("two_factor_failures", N_("Refused two-factor codes"), total("two_factor", 1)),
        ("refused", N_("Refused attempts"), sum(kinds.values())),
        ("admin_actions", N_("Administrators' actions"), total("admin", 0)),
        ("classified_reads", N_("Reads and copies of classified files"),
         total("classified_files", 0) + total("classified_files", 1)),
    ]
    return report


def to_csv(report: SecurityReport, gettext: Any = None) -> str:
    """The report as one CSV (UTF-8 with BOM for Excel), in the reader's language when
    ``gettext`` is given; every cell through ``cells.csv_cell`` (formula text neutralised)."""
    import csv
    import io

    def t(text: str) -> str:
        return gettext(text) if gettext else text

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([csv_cell(t("Monthly security report")), csv_cell(report.month_text)])
    for _key, label, value in report.figures:
        writer.writerow([csv_cell(t(label)), csv_cell(value)])
    for s in report.sections:
        writer.writerow([])
        writer.writerow([csv_cell(t(s.title))])
        writer.writerow([csv_cell(t(h)) for h in s.header])
        for r in s.rows:
            writer.writerow([csv_cell(r.label if r.data else t(r.label)),
                             *(csv_cell(v) for v in r.values)])
    return "\ufeff" + out.getvalue()
