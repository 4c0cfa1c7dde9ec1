"""The root query's arguments: search text, ordering and the filter inputs with the
conditions they add (every condition a service predicate or a plain column match)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import strawberry
from sqlalchemy import or_
from strawberry.types import Info

from graphql_api.ids import expect_id
from graphql_api.pagination import Order
from graphql_api.permissions import ShownError
from graphql_api.types import enums as E
from models import (
    Complaint,
    Customer,
    ReceptionRecord,
)
from models import enums as me
from portal.services import customers as customer_rules
from portal.services import list_presets
from portal.services.search import complaint_search


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _between(column, start: datetime | None, end: datetime | None) -> list:
    out = []
    if start is not None:
        out.append(column >= start)
    if end is not None:
        out.append(column < end)
    return out


def _search_text(text: str | None) -> str | None:
    text = (text or "").strip()
    if len(text) > 100:
        raise ShownError("search: at most 100 characters.", code="BAD_REQUEST")
    return text or None


# --- ordering ---------------------------------------------------------------------------


@strawberry.enum
class CustomerOrder(enum.Enum):
    ID_ASC = "id_asc"
    ID_DESC = "id_desc"
    NAME_ASC = "name_asc"
    CODE_ASC = "code_asc"
    REGISTERED_AT_ASC = "registered_at_asc"
    REGISTERED_AT_DESC = "registered_at_desc"


_CUSTOMER_ORDERS = {
    CustomerOrder.ID_ASC: Order("id", None),
    CustomerOrder.ID_DESC: Order("id-", None, True),
    CustomerOrder.NAME_ASC: Order("name", Customer.name),
    CustomerOrder.CODE_ASC: Order("code", Customer.code),
    CustomerOrder.REGISTERED_AT_ASC: Order("reg", Customer.registered_at),
    CustomerOrder.REGISTERED_AT_DESC: Order("reg-", Customer.registered_at, True),
}


@strawberry.enum
class TimeOrder(enum.Enum):
    """Generic order for lists that have one natural time column."""

    ID_ASC = "id_asc"
    ID_DESC = "id_desc"
    NEWEST_FIRST = "newest_first"
    OLDEST_FIRST = "oldest_first"


def _time_order(order: TimeOrder | None, column) -> Order:
    if order is None or order is TimeOrder.ID_ASC:
        return Order("id", None)
    if order is TimeOrder.ID_DESC:
        return Order("id-", None, True)
    if order is TimeOrder.NEWEST_FIRST:
        return Order("t-", column, True)
    return Order("t", column)


# --- filters ----------------------------------------------------------------------------


def _preset(table: dict[str, Any], name: str) -> Any:
    """An enum value carrying the service's description of the preset and its rule."""
    preset = table[name]
    return strawberry.enum_value(name, description=f"{preset.meaning} ({preset.rule})")


@strawberry.enum(description="Named customer lists, derived at read time by the services "
                 "(the portal's list presets; portal.services.list_presets).")
class CustomerPreset(enum.Enum):
    FOLLOW_UP_DUE = _preset(list_presets.CUSTOMER_PRESETS, "follow_up_due")  # 待回访
    VOID_OR_EXPIRED = _preset(list_presets.CUSTOMER_PRESETS, "void_or_expired")  # 废卡
    OWNERSHIP_EXPIRING = _preset(list_presets.CUSTOMER_PRESETS, "ownership_expiring")
    SERVICE_LAPSED = _preset(list_presets.CUSTOMER_PRESETS, "service_lapsed")  # 服务不到位
    OVER_LIMIT = _preset(list_presets.CUSTOMER_PRESETS, "over_limit")  # 超额度


@strawberry.enum(description="Named complaint lists, derived at read time by the services.")
class ComplaintPreset(enum.Enum):
    OPEN = _preset(list_presets.COMPLAINT_PRESETS, "open")  # 处理中
    OVERDUE = _preset(list_presets.COMPLAINT_PRESETS, "overdue")  # 超时


@strawberry.input
class CustomerFilter:
    owner: strawberry.ID | None = None
    branch: strawberry.ID | None = None
    department: strawberry.ID | None = None
    status: list[E.CustomerStatus] | None = None
    effective_status: list[me.CustomerStatus] | None = strawberry.field(
        default=None, description="The derived status (VOID = 废卡 from the follow-up cadence, "
                                  "PROSPECT = a prospect that is not void), as `effectiveStatus`.")
    importance: list[E.Importance] | None = None
    preset: CustomerPreset | None = strawberry.field(
        default=None, description="One of the portal's named lists (the same rows).")
    registered_from: datetime | None = None
    registered_before: datetime | None = None
    search: str | None = strawberry.field(
        default=None, description="Start of the name or of the code; or (where you may read "
                                  "contacts) the exact phone number or credit code.")


def customer_conditions(info: Info, f: CustomerFilter | None) -> list:
    if f is None:
        return []
    user = info.context.user
    out: list = []
    if f.owner is not None:
        out.append(Customer.owner_id == expect_id(f.owner, "User", "owner"))
    if f.branch is not None:
        out.append(Customer.branch_id == expect_id(f.branch, "Branch", "branch"))
    if f.department is not None:
        out.append(Customer.department_id == expect_id(f.department, "Department",
                                                       "department"))
    if f.status:
        out.append(Customer.status.in_([s.value for s in f.status]))
    if f.effective_status:
        out.append(customer_rules.effective_status_in_sql(
            info.context.loaders.session, [s.value for s in f.effective_status]))
    if f.importance:
        out.append(Customer.importance.in_([s.value for s in f.importance]))
    if f.preset is not None:
        out.append(list_presets.customer_preset_sql(info.context.loaders.session, user,
                                                    f.preset.value))
    out += _between(Customer.registered_at, f.registered_from, f.registered_before)
    text = _search_text(f.search)
    if text:
        out.append(customer_rules.search_condition(user, text))
    return out


@strawberry.input
class ComplaintFilter:
    customer: strawberry.ID | None = None
    status: list[E.ComplaintStatus] | None = None
    severity: E.Severity | None = None
    handler: strawberry.ID | None = None
    preset: ComplaintPreset | None = strawberry.field(
        default=None, description="One of the portal's named lists (the same rows).")
    registered_from: datetime | None = None
    registered_before: datetime | None = None
    search: str | None = strawberry.field(
        default=None, description="Complaint number, or the customer's name or code (prefix), "
        "or — where you may read contacts — their phone.")


def complaint_conditions(info: Info, f: ComplaintFilter | None) -> list:
    if f is None:
        return []
    out: list = []
    if f.customer is not None:
        out.append(Complaint.customer_id == expect_id(f.customer, "Customer", "customer"))
    if f.status:
        out.append(Complaint.status.in_([s.value for s in f.status]))
    if f.severity is not None:
        out.append(Complaint.severity == f.severity.value)
    if f.handler is not None:
        out.append(Complaint.handler_id == expect_id(f.handler, "User", "handler"))
    if f.preset is not None:
        out.append(list_presets.complaint_preset_sql(info.context.loaders.session,
                                                     info.context.user, f.preset.value))
    out += _between(Complaint.registered_at, f.registered_from, f.registered_before)
    text = _search_text(f.search)
    if text:
        out.append(complaint_search(info.context.user, text))
    return out


@strawberry.input
class ReceptionFilter:
    branch: strawberry.ID | None = None
    customer: strawberry.ID | None = None
    outcome: list[E.ReceptionOutcome] | None = None
    arrived_from: datetime | None = None
    arrived_before: datetime | None = None
    search: str | None = strawberry.field(default=None,
                                          description="Visitor name, company or phone.")


def reception_conditions(f: ReceptionFilter | None) -> list:
    if f is None:
        return []
    out: list = []
    if f.branch is not None:
        out.append(ReceptionRecord.branch_id == expect_id(f.branch, "Branch", "branch"))
    if f.customer is not None:
        out.append(ReceptionRecord.customer_id == expect_id(f.customer, "Customer",
                                                            "customer"))
    if f.outcome:
        out.append(ReceptionRecord.outcome.in_([o.value for o in f.outcome]))
    out += _between(ReceptionRecord.arrived_at, f.arrived_from, f.arrived_before)
    text = _search_text(f.search)
    if text:
        pattern = _like(text)
        out.append(or_(ReceptionRecord.visitor_name.like(pattern, escape="\\"),
                       ReceptionRecord.visitor_company.like(pattern, escape="\\"),
                       ReceptionRecord.visitor_phone.like(pattern, escape="\\")))
    return out


@strawberry.input
class CreditFilter:
    customer: strawberry.ID | None = None
    line_status: list[E.CreditLineStatus] | None = strawberry.field(
        default=None, description="Credit lines only.")
    rating: list[E.Rating] | None = strawberry.field(default=None,
                                                     description="Evaluations only.")
    from_: datetime | None = strawberry.field(default=None, name="from")
    before: datetime | None = None


@strawberry.enum(description="Named file lists, derived at read time by the services.")
class FilePreset(enum.Enum):
    DECLASSIFIED = _preset(list_presets.FILE_PRESETS, "declassified")  # 已过保密期限


@strawberry.input
class FileFilter:
    customer: strawberry.ID | None = None
    level: list[E.Level] | None = None
    preset: FilePreset | None = strawberry.field(
        default=None, description="One of the portal's named lists (the same rows).")
    search: str | None = strawberry.field(default=None, description="Title.")


@strawberry.input
class UserFilter:
    branch: strawberry.ID | None = None
    department: strawberry.ID | None = None
    search: str | None = strawberry.field(default=None, description="Username or full name.")


@strawberry.input
class AuditFilter:
    actor: strawberry.ID | None = None
    action: str | None = None
    outcome: E.AuditOutcome | None = None
    from_: datetime | None = strawberry.field(default=None, name="from")
    before: datetime | None = None
