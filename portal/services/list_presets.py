"""The named lists both doors offer (list presets): each one service predicate with its Python
twin (architecture principle 4, issue 13). The portal's ``?preset=<name>`` lists and GraphQL's
``filter.preset`` read this table, so the two doors select the same rows; the twin tests
compare them with the Python twins on the demo data (``tests/services/test_read_side_twins.py``).

A predicate takes ``(session, now)``; a twin takes ``(session, record, now)``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.orm import Session

from models import Complaint, ConfidentialFile, Customer
from portal import clock, policy
from portal.services import calendar, complaints, credit, files, row_states
from portal.services import customers as customer_rules


@dataclass(frozen=True)
class Preset:
    sql: Callable[[Session, datetime], ColumnElement[bool]]
    twin: Callable[[Session, Any, datetime], bool]
    rule: str
    # The list says something only this action may read (over the limit: a credit fact), so
    # it is also narrowed to that action's rows.
    reveals: str | None = None
    # What the list holds, in English (the API schema's description of the preset)
    meaning: str = ""


CUSTOMER_PRESETS: dict[str, Preset] = {
    # 待回访: the rules' deadline passed, or the agreed 下次回访日期 came
    "follow_up_due": Preset(customer_rules.follow_up_due_sql,
                            lambda s, c, now: customer_rules.is_follow_up_due(c, now),
                            "R-CUST-4",
                            meaning="Follow-up due: the rules' deadline has passed (from the owner-change baseline) or the agreed next follow-up date has come."),
    # 废卡 / 可重新分配: void from the cadence, or ownership expired without a deal
    "void_or_expired": Preset(
        customer_rules.void_or_expired_sql,
        lambda s, c, now: customer_rules.is_void(c, now) or customer_rules.ownership_expired(c, now),
        "R-CUST-2, R-CUST-4",
        meaning="Void cards (derived from the follow-up cadence) and archives whose ownership expired without a deal: may be reassigned."),
    # 建档即将到期: the ownership ends within row_states.EXPIRING_SOON_DAYS
    "ownership_expiring": Preset(row_states.ownership_expiring_sql,
                                 lambda s, c, now: row_states.is_ownership_expiring(c, now),
                                 "R-CUST-2",
                                 meaning="Ownership ends within the next few days."),
    # 服务不到位: no service for customer.service_lapse_days since the owner-change baseline
    "service_lapsed": Preset(customer_rules.service_lapsed_sql,
                             lambda s, c, now: customer_rules.service_lapsed(c, now),
                             "R-CUST-5",
                             meaning="No service since the owner-change baseline for longer than the service lapse setting."),
    # 超额度: outstanding balance above the limit in force
    "over_limit": Preset(lambda s, now: credit.over_limit_sql(calendar.company_date(now)),
                         lambda s, c, now: credit.is_over_limit(s, c, calendar.company_date(now)),
                         "R-CRED-8", reveals="credit.view",
                         meaning="Outstanding balance above the credit limit in force (only customers whose credit you may read)."),
}

COMPLAINT_PRESETS: dict[str, Preset] = {
    # 未结案
    "open": Preset(lambda s, now: complaints.open_sql(),
                   lambda s, c, now: complaints.is_open(c), "R-COMP-3",
                   meaning="Complaints not closed yet."),
    # 已超期: open and past its deadline (derived at read time, never stored)
    "overdue": Preset(lambda s, now: complaints.overdue_clause(now),
                      lambda s, c, now: complaints.is_overdue(c, now), "R-COMP-7",
                      meaning="Open complaints past their deadline (derived at read time)."),
}


FILE_PRESETS: dict[str, Preset] = {
    # 已过保密期限: classified, and the secrecy period has ended (reads as internal)
    "declassified": Preset(lambda s, now: files.declassified_sql(calendar.company_date(now)),
                           lambda s, f, now: files.is_declassified(f, calendar.company_date(now)),
                           "R-FILE-4",
                           meaning="Classified files whose secrecy period has ended (they read as internal)."),
}


def _condition(preset: Preset, model: Any, session: Session, user: Any,
               now: datetime | None) -> ColumnElement[bool]:
    condition = preset.sql(session, now or clock.now())
    if preset.reveals and user is not None:
        allowed = policy.scope(select(model.id), user, model, preset.reveals).whereclause
        if allowed is not None:
            condition = and_(condition, allowed)
    return condition


def customer_preset_sql(session: Session, user: Any, name: str, now: datetime | None = None
                        ) -> ColumnElement[bool]:
    """The customers of the preset ``name`` (a key of ``CUSTOMER_PRESETS``), for ``user``."""
    return _condition(CUSTOMER_PRESETS[name], Customer, session, user, now)


def file_preset_sql(session: Session, user: Any, name: str, now: datetime | None = None
                    ) -> ColumnElement[bool]:
    """The files of the preset ``name`` (a key of ``FILE_PRESETS``)."""
    return _condition(FILE_PRESETS[name], ConfidentialFile, session, user, now)


def complaint_preset_sql(session: Session, user: Any, name: str, now: datetime | None = None
                         ) -> ColumnElement[bool]:
    """The complaints of the preset ``name`` (a key of ``COMPLAINT_PRESETS``)."""
    return _condition(COMPLAINT_PRESETS[name], Complaint, session, user, now)
