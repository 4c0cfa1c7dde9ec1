"""Credit: the evaluation verb (R-CRED-1..3): rate the answers, store the evaluation, and a C
suspends the line in force (R-CRED-3)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from models import CreditEvaluation, Customer, User
from models.enums import Rating
from portal import audit, clock, policy
from portal.services import notifications
from portal.services.accepts import accepts
from portal.services.credit.lines import line_in_force
from portal.services.credit.rating import ANSWER_FIELDS, _clean_answers, explain, rate
from portal.services.errors import N_, PermissionDenied
from portal.services.unit import load, verb


@verb
@accepts(*ANSWER_FIELDS, arg="answers")
def evaluate(session: Session, actor: User, customer_id: int, answers: dict[str, Any]
             ) -> CreditEvaluation:
    """Record a credit evaluation (客户信用评定表) with the computed rating and its reason."""
    customer = load(session, actor, Customer, customer_id, "customer.view")
    if not policy.can(actor, "credit.evaluate", customer):
        raise PermissionDenied("credit.evaluate", customer)
    clean = _clean_answers(dict(answers))
    result = rate(clean)
    now = clock.now()
    in_force = line_in_force(session, customer.id) if result.rating == Rating.C.value else None
    columns = {k: v for k, v in clean.items() if v is not None}
    ev = CreditEvaluation(customer_id=customer.id, rating=result.rating,
                          rating_reason=explain(result), evaluated_by_id=actor.id,
                          evaluated_at=now, created_at=now, updated_at=now, **columns)
    session.add(ev)
    session.flush()
    audit.record(session, actor, "credit.evaluate", ev, after=audit.snapshot(ev))
    if in_force is not None:
        # R-CRED-4: a C rating suspends the line in force at once (see in_force_clause).
        audit.record(session, actor, "credit.suspend", in_force,
                     detail=f"rated C by evaluation {ev.id}")
        recipients = [in_force.approved_by_id, in_force.proposed_by_id, customer.owner_id]
        notifications.notify(
            session, user_ids=[u for u in recipients if u], kind="credit.suspended",
            message=N_("The credit line of %(customer)s is suspended: the customer is now "
                       "rated C."),
            params={"customer": customer.name}, target=in_force,
            dedupe_key=f"credit.suspended:{in_force.id}", now=now)
    return ev
