"""Customer archives (客户档案): R-CUST-1 … R-CUST-8.

Every verb checks the policy, validates its input, applies the company rule, writes one audit
entry per change and lets ``@verb`` commit; a refusal raises a ``DomainError`` and changes
nothing.

Decisions where domain.md is silent (also in the helper's report):

- R-CUST-1 duplicates: a credit code (统一社会信用代码 / ID number) match is always a duplicate;
  a normalised name or phone match is a duplicate unless both archives carry *different*
  credit codes (then they are provably two entities). Closed archives still count (one archive
  per customer, for ever). The refusal points at the earliest matching archive by **code and
  name only** — never its owner, phone, branch or status — so a salesperson learns no more than
  what is needed to take it to a supervisor (重卡: the earlier registration wins).
- R-CUST-2 ownership validity: a prospect is protected for ``customer.ownership_validity_days``
  from registration (and afresh for a new owner after a reassignment); a deal makes it
  permanent. Expired archives can be claimed by a salesperson of the same branch or reassigned.
- R-CUST-3 first visit: the evidence of a staff member is their earliest reception record of
  the customer (served by them) or the registration that made them its first owner. A claim
  against a valid owner succeeds only with earlier evidence, and never for a former owner who
  lost the archive. Referral: the new archive goes to whoever originally received the
  referrer, or to its current owner if that person left (portal/services/referral.py).
- R-CUST-4 cadence: the clock starts at registration or at the last change of owner. The first
  follow-up is due within ``first_follow_up_days``, the next within ``second_follow_up_days``,
  then every ``follow_up_interval_days``. A run of ``sms_only_streak`` (3) or more text
  messages in a row does not count at all: the deadline falls back to the one in force before
  the run. A missed deadline makes the card void until a new owner, a claim or a deal (a late
  follow-up does not revive it). Each follow-up stores the deadline in force after it
  (``next_due_at``), so the SQL twin can filter without replaying the history.
- R-CUST-5 service lapse: no counting follow-up, visit or deal for ``service_lapse_days`` since
  the later of the last service and the last change of owner. Only holders of
  ``customer.reassign`` with department-wide (or wider) scope may reassign on that ground.
- Reassignment is allowed only on a ground: no owner, owner left or on leave, ownership
  expired, void card, service lapse (department), or the first-visit rule. Otherwise the
  owner's archive is protected (rule R-CUST-2).
- R-CUST-6 redistribution deals the archives out in random order (``secrets.SystemRandom``)
  round-robin over a shuffled list of the branch's remaining salespeople, so each gets a fair
  share; with nobody left the archives become unowned (claimable) and the move is recorded.
"""

from __future__ import annotations

from portal.services.customers.claims import (
    claim_preconditions_met,
    claimable_in_branch_sql,
    is_open_archive,
    may_claim,
)
from portal.services.customers.create import (
    create_customer,
    create_customer_inner,
    prepare_customer,
)
from portal.services.customers.derived import (
    EFFECTIVE_STATUSES,
    Cadence,
    cadence,
    cadence_baseline,
    claimable_sql,
    deadline_in_force,
    effective_status,
    effective_status_in_sql,
    follow_up_due,
    follow_up_due_sql,
    is_claimable,
    is_follow_up_due,
    is_void,
    is_void_sql,
    ownership_expired,
    ownership_expired_sql,
    planned_follow_up_on,
    planned_follow_up_reached,
    planned_follow_up_sql,
    service_lapsed,
    service_lapsed_sql,
    void_ids,
    void_or_expired_sql,
)
from portal.services.customers.duplicates import DuplicateMatch, find_duplicates
from portal.services.customers.lapse import may_hand_lapsed, reassign_candidates
from portal.services.customers.owners import _change_owner, first_visit_at
from portal.services.customers.reassign import (
    claim_customer,
    close_customer,
    reassign_grounds,
    reassign_owner,
    redistribute_customers_of,
    redistribute_inner,
    redistribute_on_departure,
)
from portal.services.customers.scheduled import tick
from portal.services.customers.search import search_condition
from portal.services.customers.update import (
    add_contact,
    last_service,
    record_deal,
    record_follow_up,
    update_customer,
)
from portal.services.customers.validation import (
    CONTACT_FIELDS,
    CREATE_EXTRA_FIELDS,
    EDITABLE_FIELDS,
    FUTURE_TOLERANCE,
    MAX_BACKDATE,
    MAX_LENGTHS,
    clean_fields,
)

__all__ = [
    "claim_preconditions_met",
    "claimable_in_branch_sql",
    "is_open_archive",
    "may_claim",
    "search_condition",
    "CONTACT_FIELDS",
    "CREATE_EXTRA_FIELDS",
    "DuplicateMatch",
    "EDITABLE_FIELDS",
    "FUTURE_TOLERANCE",
    "MAX_BACKDATE",
    "MAX_LENGTHS",
    "_change_owner",
    "add_contact",
    "Cadence",
    "cadence",
    "cadence_baseline",
    "deadline_in_force",
    "claim_customer",
    "claimable_sql",
    "is_claimable",
    "clean_fields",
    "close_customer",
    "create_customer",
    "create_customer_inner",
    "EFFECTIVE_STATUSES",
    "effective_status",
    "effective_status_in_sql",
    "find_duplicates",
    "first_visit_at",
    "follow_up_due",
    "follow_up_due_sql",
    "planned_follow_up_on",
    "planned_follow_up_reached",
    "planned_follow_up_sql",
    "is_follow_up_due",
    "is_void",
    "is_void_sql",
    "last_service",
    "ownership_expired",
    "ownership_expired_sql",
    "prepare_customer",
    "reassign_grounds",
    "reassign_owner",
    "record_deal",
    "record_follow_up",
    "redistribute_customers_of",
    "redistribute_inner",
    "redistribute_on_departure",
    "may_hand_lapsed",
    "reassign_candidates",
    "service_lapsed",
    "service_lapsed_sql",
    "void_ids",
    "void_or_expired_sql",
    "tick",
    "update_customer",
]
