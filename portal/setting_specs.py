"""What each rule setting means to the person who changes it: its area, a label and an
explanation (English msgids, Chinese in the zh catalog), its unit and its allowed range.

The rule ids stay in this module for developers; people see the words. A key without a spec
(a setting added by another area before its spec) is shown under "其他" with its key and
validated only by type.
"""

from __future__ import annotations

from dataclasses import dataclass

from portal.services.errors import N_


@dataclass(frozen=True)
class SettingSpec:
    area: str
    label: str
    help: str
    unit: str  # a key of UNITS
    minimum: float
    maximum: float

    @property
    def bounds(self) -> tuple[str, str]:
        """The range as people write it (10,000,000 rather than 1e+07)."""
        return _number(self.minimum), _number(self.maximum)


def _number(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,}"


AREAS: dict[str, str] = {
    "customer": N_("Customer archive"),
    "complaint": N_("Complaints"),
    "credit": N_("Credit"),
    "file": N_("Classified files"),
    "security": N_("Security"),
    "other": N_("Other"),
}

UNITS: dict[str, str] = {
    "days": N_("days"),
    "working_days": N_("working days"),
    "hours": N_("hours"),
    "minutes": N_("minutes"),
    "months": N_("months"),
    "yuan": N_("yuan"),
    "percent": "%",
    "digits": N_("digits"),
    "times": N_("times"),
    "characters": N_("characters"),
    "kinds": N_("kinds"),
    "passwords": N_("passwords"),
    "mb": "MB",
    "switch": "",
    "roles": "",
}

SPECS: dict[str, SettingSpec] = {
    # R-CUST-2..5
    "customer.ownership_validity_days": SettingSpec(
        "customer", N_("Ownership validity"),
        N_("A salesperson keeps a customer this long after registering or the last valid "
           "follow-up; afterwards the card is void and may be reassigned."), "days", 1, 365),
    "customer.first_follow_up_days": SettingSpec(
        "customer", N_("First follow-up within"),
        N_("After the first visit or call, the owner follows up within this many days."),
        "days", 1, 30),
    "customer.second_follow_up_days": SettingSpec(
        "customer", N_("Second follow-up within"),
        N_("After the first follow-up, the next one is due within this many days."),
        "days", 1, 30),
    "customer.follow_up_interval_days": SettingSpec(
        "customer", N_("Follow-up interval"),
        N_("Later follow-ups are due at this interval."), "days", 1, 90),
    "customer.duplicate_hits_per_hour": SettingSpec(
        "customer", N_("Duplicate look-ups per hour"),
        N_("How many times a person may, within an hour, be told that an archive outside "
           "their scope already exists (creating, importing or claiming); more are refused, so "
           "bulk checks cannot be used to look up colleagues' customers (R-CUST-1)."),
        "times", 1, 1000),
    "customer.lookups_per_hour": SettingSpec(
        "customer", N_("Front-desk look-ups per hour"),
        N_("How many exact look-ups of a customer by full name or phone a person at the front "
           "desk may make within an hour; more are refused, so the look-up cannot be used to "
           "browse the archives (R-ROLE-1)."),
        "times", 1, 1000),
    "customer.loan_max_working_days": SettingSpec(
        "customer", N_("Longest archive loan"),
        N_("A person outside an archive's scope may borrow it (read only, with the department "
           "manager's approval) for at most this many working days; one working day unless "
           "they ask for more (R-CUST-9)."),
        "working_days", 1, 30),
    "customer.sms_only_streak": SettingSpec(
        "customer", N_("Text-message-only follow-ups"),
        N_("A run of this many or more text-message follow-ups in a row does not count as "
           "following up."), "times", 1, 20),
    "customer.service_lapse_days": SettingSpec(
        "customer", N_("Service lapse"),
        N_("A customer with no follow-up for this long is listed for a service visit."),
        "days", 7, 730),
    # R-COMP-2, 3, 9, 10
    "complaint.inquiry_hours": SettingSpec(
        "complaint", N_("Inquiry answered within"),
        N_("An inquiry is answered within this many hours of registration."), "hours", 1, 168),
    "complaint.close_working_days": SettingSpec(
        "complaint", N_("Complaint closed within"),
        N_("A complaint is closed within this many working days after the registration day "
           "(weekends and holidays of the working-day calendar are skipped)."),
        "working_days", 1, 30),
    "complaint.max_extension_working_days": SettingSpec(
        "complaint", N_("Longest extension"),
        N_("A documented special case may be extended once, to at most this many working "
           "days."), "working_days", 1, 60),
    "complaint.escalation_hours": SettingSpec(
        "complaint", N_("Major complaint escalated within"),
        N_("A major complaint reaches the department manager and the general manager within "
           "this many hours."), "hours", 1, 72),
    "complaint.transfer_working_days": SettingSpec(
        "complaint", N_("Hand to another department after"),
        N_("A complaint not resolved this many working days after its registration allows "
           "handing the customer to staff of another department."), "working_days", 1, 30),
    "complaint.retention_days": SettingSpec(
        "complaint", N_("Keep complaint records"),
        N_("Complaint records cannot be deleted before this many days (at least one year)."),
        "days", 365, 3650),
    "complaint.penalties_enabled": SettingSpec(
        "complaint", N_("Penalty notices"),
        N_("Draft a penalty notice for the general manager when a substantiated complaint is "
           "closed; turn off if the company does not use penalties."),
        "switch", 0, 1),
    "complaint.penalty_staff_amount": SettingSpec(
        "complaint", N_("Penalty to the staff member"),
        N_("The penalty to the staff member for each substantiated complaint."),
        "yuan", 0, 100_000),
    "complaint.penalty_late_amount": SettingSpec(
        "complaint", N_("Penalty when resolved late"),
        N_("The penalty each to the staff member and the department manager when the "
           "complaint was not resolved in time."), "yuan", 0, 100_000),
    "complaint.penalty_late_working_days": SettingSpec(
        "complaint", N_("Late for penalties after"),
        N_("A complaint not resolved within this many working days counts as late for the "
           "penalty table."), "working_days", 1, 30),
    "complaint.compensation_gm_threshold": SettingSpec(
        "complaint", N_("Compensation needing the general manager"),
        N_("Compensation above this amount needs the general manager's approval."),
        "yuan", 0, 10_000_000),
    "complaint.serial_digits": SettingSpec(
        "complaint", N_("Digits of the complaint number"),
        N_("Complaint numbers are YYMM followed by a serial of this many digits."),
        "digits", 3, 8),
    "complaint.repeat_days": SettingSpec(
        "complaint", N_("Repeat complaint window"),
        N_("A complaint of the same customer within this many days of an earlier one is a "
           "repeat complaint (a major complaint)."), "days", 1, 730),
    # R-CRED
    "credit.review_interval_days": SettingSpec(
        "credit", N_("Credit evaluation review"),
        N_("A customer's credit evaluation is reviewed at this interval (quarterly by "
           "default)."), "days", 7, 366),
    "credit.max_term_days": SettingSpec(
        "credit", N_("Longest credit term"),
        N_("The longest payment term of a credit line."), "days", 1, 365),
    "credit.temporary_line_months": SettingSpec(
        "credit", N_("Temporary credit line runs for"),
        N_("A temporary credit line ends this many months after it starts."), "months", 1, 12),
    "credit.company_ceiling": SettingSpec(
        "credit", N_("Company credit ceiling"),
        N_("The credit limits in force together may not exceed this amount; 0 means no "
           "ceiling."), "yuan", 0, 10_000_000_000),
    "credit.max_temporary_term_days_b": SettingSpec(
        "credit", N_("Longest temporary term for B customers"),
        N_("A temporary credit line of a B-rated customer runs at most this long."),
        "days", 1, 365),
    # R-FILE
    "two_person.expiry_hours": SettingSpec(
        "security", N_("Two-person request valid for"),
        N_("A request that needs a second administrator's confirmation lapses after this "
           "many hours."), "hours", 1, 720),
    # R-ROLE-6
    "password.min_length": SettingSpec(
        "security", N_("Shortest password"),
        N_("A new password needs at least this many characters."), "characters", 8, 128),
    "password.min_classes": SettingSpec(
        "security", N_("Character kinds in a password"),
        N_("A new password mixes at least this many of: lower-case letters, upper-case "
           "letters, digits, symbols."), "kinds", 1, 4),
    "password.admin_max_age_days": SettingSpec(
        "security", N_("Administrator password valid for"),
        N_("An administrator must choose a new password after this many days; 0 means "
           "never."), "days", 0, 3650),
    "password.history_count": SettingSpec(
        "security", N_("Earlier passwords not reused"),
        N_("A new password may not be the current one or one of the earlier ones, counting "
           "this many in all; 0 allows reuse."), "passwords", 0, 24),
    "two_factor.required_roles": SettingSpec(
        "security", N_("Two-factor sign-in required for"),
        N_("Holders of these roles sign in with their password and a code from an "
           "authenticator app, and must set it up before doing anything else; anyone else may "
           "choose to."), "roles", 0, 0),
    "session.idle_minutes": SettingSpec(
        "security", N_("Sign-out after inactivity"),
        N_("A portal session without any request for this many minutes ends; the page warns "
           "two minutes before."), "minutes", 5, 240),
    "session.max_hours": SettingSpec(
        "security", N_("Longest portal session"),
        N_("A portal session ends this many hours after sign-in, active or not."),
        "hours", 1, 24),
    "file.copy_link_minutes": SettingSpec(
        "file", N_("Copy download link valid for"),
        N_("An approved copy of a classified file can be downloaded for this many minutes."),
        "minutes", 1, 1440),
    "file.max_upload_mb": SettingSpec(
        "file", N_("Largest upload"), N_("The largest file a user can upload."), "mb", 1, 1024),
    "file.user_quota_mb": SettingSpec(
        "file", N_("Storage per user"), N_("The total size of the files one user may store."),
        "mb", 10, 102_400),
}


def spec_for(key: str) -> SettingSpec | None:
    return SPECS.get(key)
