"""Reception records (接待 / 来人来电登记) and the daily rotation (轮流接待): R-RECV-1..3.

Decisions where domain.md is silent (also in the helper's report):

- Rotation (R-RECV-1) is a round robin per branch per company day over the branch's present
  salespeople (``policy.owner_candidates_stmt``). Slots are created on first use of the day;
  the starting position rotates with the date so nobody is always first. The next salesperson
  is: an available one who is owed turns (lowest position first), else the one with the fewest
  turns (then position). A salesperson whose turn comes while they are out is skipped: the
  turn counts as theirs and is added to ``owed_turns``, served first when they are back.
  Only walk-in visits use the rotation; calls go to the named person or stay with the desk.
- A visitor naming a salesperson goes to them without consuming a turn; so does a returning
  visitor, who goes to the archive's owner when present (R-RECV-2, first-visit rule); when
  the owner is not there, the next colleague of the rotation assists without using a turn
  and the archive stays with its owner.
- Busy (R-RECV-1): receiving a walk-in of today who has not left (no departure time). A busy
  salesperson is skipped and keeps their place; when everyone in is busy, the visitor waits
  for the next of them. Out: only an approved go-out (外出申请, registered by the supervisor,
  grant ``reception.approve_go_out``) earns the missed turns back; an unapproved absence
  (e.g. marking oneself out) loses them.
- Returning visitors are matched like duplicates (R-CUST-1): normalised phone, or the
  normalised company name (or the visitor's name when no company is given). Their record is
  linked, flagged ``is_returning`` and not counted as a new reception; a visit counts as
  service for R-CUST-5. An unowned archive goes to the person who serves the visitor.
- Statistics (R-RECV-3): counts per bucket (company day, ISO week starting Monday, month) and
  by class, staff (who served, else who received), branch and outcome. ``visits`` and
  ``calls`` count new receptions only; ``returning`` counts the others; ``deals`` counts new
  receptions that converted (outcome "deal", or the linked archive closed a deal at or after
  the arrival); conversion = deals / new receptions.
"""

from __future__ import annotations

from portal.services.reception._common import (
    CREATE_FIELDS,
    DEFAULT_VENUE,
    FUTURE_TOLERANCE,
    MAX_STAT_DAYS,
    UPDATE_FIELDS,
    company_day,
)
from portal.services.reception.records import register_reception, update_reception
from portal.services.reception.rotation import (
    RotationPlace,
    busy_user_ids,
    next_colleague,
    rotation_queue,
    rotation_today,
    set_availability,
)
from portal.services.reception.statistics import (
    PERIODS,
    Counts,
    ReceptionStatistics,
    arrived_today_sql,
    bucket_of,
    statistics,
)

__all__ = ['CREATE_FIELDS', 'Counts', 'DEFAULT_VENUE', 'FUTURE_TOLERANCE', 'MAX_STAT_DAYS', 'PERIODS', 'ReceptionStatistics', 'RotationPlace', 'UPDATE_FIELDS', 'arrived_today_sql', 'bucket_of', 'busy_user_ids', 'company_day', 'next_colleague', 'register_reception', 'rotation_queue', 'rotation_today', 'set_availability', 'statistics', 'update_reception']
