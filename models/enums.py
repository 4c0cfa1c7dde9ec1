"""Closed vocabularies of domain.md, stored as text with CHECK constraints."""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    SALES = "sales"
    SUPERVISOR = "supervisor"
    DEPT_MANAGER = "dept_manager"
    GENERAL_MANAGER = "general_manager"
    FINANCE = "finance"
    SERVICE = "service"
    RECEPTION = "reception"
    AUDITOR = "auditor"
    SYSADMIN = "sysadmin"
    SECADMIN = "secadmin"
    SECAUDITOR = "secauditor"


class Level(enum.IntEnum):
    """Classification levels (密级), in the Chinese order: 公开 < 内部 < 秘密 < 机密 < 绝密."""

    PUBLIC = 0
    INTERNAL = 1
    SECRET = 2
    CONFIDENTIAL = 3
    TOP_SECRET = 4


class Scope(enum.StrEnum):
    OWN = "own"
    BRANCH = "branch"
    DEPARTMENT = "department"
    ALL = "all"


class CustomerKind(enum.StrEnum):
    END = "end"
    DEALER = "dealer"
    SUPPLIER = "supplier"
    SPECIAL = "special"


class CustomerSource(enum.StrEnum):
    WALK_IN = "walk_in"
    CALL = "call"
    REFERRAL = "referral"
    EVENT = "event"
    CAMPAIGN = "campaign"
    OTHER = "other"


class Importance(enum.StrEnum):
    A = "A"
    B = "B"
    C = "C"
    D = "D"


class Intent(enum.StrEnum):
    HOT = "hot"
    WARM = "warm"
    COLD = "cold"


class CustomerStatus(enum.StrEnum):
    PROSPECT = "prospect"
    ACTIVE = "active"
    DORMANT = "dormant"
    VOID = "void"
    CLOSED = "closed"


class FollowUpKind(enum.StrEnum):
    CALL = "call"
    VISIT = "visit"
    SMS = "sms"
    WECHAT = "wechat"
    INVITATION = "invitation"
    EMAIL = "email"
    # 邀不来: invited, but the customer did not come; a contact, not service (R-CUST-5)
    INVITATION_MISSED = "invite_missed"


class ReceptionKind(enum.StrEnum):
    VISIT = "visit"
    CALL = "call"


class VisitorClass(enum.StrEnum):
    VIP = "a"
    BUSINESS = "b"
    GENERAL = "c"


class Venue(enum.StrEnum):
    VIP_ROOM = "vip_room"
    BUSINESS_ROOM = "business_room"
    LOUNGE = "lounge"
    PHONE = "phone"


class ReceptionOutcome(enum.StrEnum):
    PENDING = "pending"
    FOLLOW_UP = "follow_up"
    DEAL = "deal"
    NO_INTEREST = "no_interest"
    OTHER = "other"


class ComplaintChannel(enum.StrEnum):
    PHONE = "phone"
    VISIT = "visit"
    LETTER = "letter"
    HOTLINE = "hotline"
    ONLINE = "online"
    HEAD_OFFICE = "head_office"


class ComplaintType(enum.StrEnum):
    INQUIRY = "inquiry"
    SUGGESTION = "suggestion"
    COMPLAINT = "complaint"


class ComplaintCause(enum.StrEnum):
    QUALITY = "quality"
    SERVICE = "service"
    ATTITUDE = "attitude"
    DELIVERY = "delivery"
    BILLING = "billing"
    OTHER = "other"


class Severity(enum.StrEnum):
    GENERAL = "general"
    MAJOR = "major"


class ComplaintStatus(enum.StrEnum):
    REGISTERED = "registered"
    ASSIGNED = "assigned"
    INVESTIGATING = "investigating"
    PROPOSED = "proposed"
    APPROVED = "approved"
    REPLIED = "replied"
    CLOSED = "closed"
    REJECTED = "rejected"


class Rating(enum.StrEnum):
    A = "A"
    B = "B"
    C = "C"


class Quality3(enum.StrEnum):
    """good / fair / poor, used for promise keeping and operating condition."""

    GOOD = "good"
    FAIR = "fair"
    POOR = "poor"


class CapitalStrength(enum.StrEnum):
    STRONG = "strong"
    MEDIUM = "medium"
    WEAK = "weak"


class CreditLineKind(enum.StrEnum):
    LONG_TERM = "long_term"
    TEMPORARY = "temporary"


class CreditLineStatus(enum.StrEnum):
    PROPOSED = "proposed"
    REVIEWED = "reviewed"
    APPROVED = "approved"
    REJECTED = "rejected"
    SUPERSEDED = "superseded"


class TransactionKind(enum.StrEnum):
    ORDER = "order"  # a credit sale (赊销)
    PAYMENT = "payment"  # a receipt from the customer
    PREPAYMENT = "prepayment"  # a prepayment to a supplier (预付)
    DELIVERY = "delivery"  # goods delivered against prepayments (到货)


class CorrectionStatus(enum.StrEnum):
    """A correction request to an archive's original fields (R-CUST-8)."""

    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"


class CopyRequestStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    USED = "used"


class AuditOutcome(enum.StrEnum):
    OK = "ok"
    DENIED = "denied"
    ERROR = "error"


class LoanStatus(enum.StrEnum):
    """An archive loan (档案借阅, R-CUST-9). "Active" and "expired" are not stored: an approved
    loan is active until its end time and expired after it (derived at read time)."""

    REQUESTED = "requested"
    APPROVED = "approved"
    REFUSED = "refused"
    RETURNED = "returned"
    REVOKED = "revoked"


class EventSession(enum.StrEnum):
    """The part of the day a joint event (联谊会/会议营销) is held in (R-CUST-10)."""

    AFTERNOON = "afternoon"  # 下午场: the day's list closes at 10:00
    EVENING = "evening"  # 晚场: the day's list closes at 16:00


class InvitationStatus(enum.StrEnum):
    """A line of a department's confirmed-invitation list (邀约敲定名单, R-CUST-10)."""

    CONFIRMED = "confirmed"  # the department invites this customer
    REFUSED = "refused"  # another department confirmed the customer first, for the same day
    LOST = "lost"  # another department's list counted for an earlier day (late submission)
    RULED = "ruled"  # the coordinator's (or the GM's) ruling gave the customer to another


class RulingStatus(enum.StrEnum):
    """A conflict over one customer at one joint event (R-CUST-10)."""

    ESCALATED = "escalated"  # waits for the general manager
    DECIDED = "decided"  # final
