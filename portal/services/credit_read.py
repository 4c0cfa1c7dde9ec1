"""Read-side predicates of the credit area (issue 13): each is a SQL predicate for lists and
its Python twin for one record, over the rules that live in ``portal.services.credit``."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, select
from sqlalchemy.orm import Session, aliased, object_session
from sqlalchemy.sql.elements import ColumnElement

from models import CreditEvaluation
from portal import clock
from portal.services import credit


def _is_latest(evaluation: CreditEvaluation) -> bool:
    session = object_session(evaluation)
    if session is None:
        return True
    newer = session.scalar(
        select(CreditEvaluation.id).where(CreditEvaluation.customer_id == evaluation.customer_id,
                                          CreditEvaluation.evaluated_at > evaluation.evaluated_at)
        .limit(1))
    return newer is None


def evaluation_review_due(evaluation: CreditEvaluation, now: datetime | None = None) -> bool:
    """R-CRED-7 on one evaluation: it is its customer's latest and older than the review
    interval (``credit.review_due``), so the customer is due for a new evaluation."""
    return credit.review_due(evaluation, now) and _is_latest(evaluation)


def evaluation_review_due_sql(session: Session,
                              now: datetime | None = None) -> ColumnElement[bool]:
    """SQL twin of ``evaluation_review_due`` (filters CreditEvaluation)."""
    now = now or clock.now()
    newer = aliased(CreditEvaluation)
    has_newer = select(newer.id).where(newer.customer_id == CreditEvaluation.customer_id,
                                       newer.evaluated_at > CreditEvaluation.evaluated_at)
    cutoff = now - timedelta(days=credit._interval(session))
    return and_(CreditEvaluation.evaluated_at < cutoff, ~has_newer.exists())
