"""SQLAlchemy 2.x models, one module per aggregate. Importing this package registers them all."""

from models.audit import AuditChainHead, AuditEntry
from models.base import Base
from models.complaint import Complaint, ComplaintCounter, ComplaintEvent, ComplaintReminder
from models.credit import (
    CreditApproval,
    CreditEvaluation,
    CreditLine,
    CreditUsageReview,
    OverLimitApproval,
)
from models.customer import (
    CorrectionRequest,
    Customer,
    CustomerContact,
    CustomerCorrection,
    CustomerTransaction,
    FollowUp,
    OwnerChange,
)
from models.document import ConfidentialFile, CopyRequest, FileLevelChange, FileScopeMember
from models.joint_event import JointAttendance, JointEvent, JointInvitation, JointRuling
from models.loan import ArchiveLoan
from models.operations import ImportStaging, NotificationChannel, OutboxMessage
from models.org import ApiToken, Branch, Department, Grant, RoleAssignment, User
from models.penalty import PenaltyLine, PenaltyNotice
from models.pending import PendingAction
from models.receivable import CreditSummaryApproval, Receivable, ReceivableSettlement
from models.reception import ReceptionRecord, RotationSlot
from models.settings import CalendarDay, Notification, Setting

__all__ = [
    "ApiToken", "ArchiveLoan", "AuditChainHead", "AuditEntry", "Base", "Branch", "CalendarDay", "Complaint", "ComplaintCounter",
    "ComplaintEvent", "ComplaintReminder", "ConfidentialFile", "CopyRequest", "CreditApproval",
    "CreditSummaryApproval", "PenaltyLine", "PenaltyNotice", "Receivable", "ReceivableSettlement",
    "CreditEvaluation", "CreditLine", "CreditUsageReview", "Customer", "CustomerContact",
    "CorrectionRequest", "CustomerCorrection", "CustomerTransaction", "Department", "FileLevelChange",
    "FileScopeMember", "FollowUp", "Grant", "ImportStaging", "Notification",
    "NotificationChannel", "OutboxMessage", "OverLimitApproval", "OwnerChange", "PendingAction",
    "ReceptionRecord", "RoleAssignment", "RotationSlot", "Setting", "User",
    "JointAttendance", "JointEvent", "JointInvitation", "JointRuling",
]
