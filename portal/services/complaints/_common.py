"""Complaints: statuses, the allowed transitions (R-COMP-6) and the major-complaint flags
(R-COMP-3)."""

from __future__ import annotations

from models.enums import ComplaintStatus
from portal.services.errors import N_

S = ComplaintStatus
OPEN_STATUSES = (S.REGISTERED.value, S.ASSIGNED.value, S.INVESTIGATING.value, S.PROPOSED.value,
                 S.APPROVED.value, S.REPLIED.value)
TERMINAL_STATUSES = (S.CLOSED.value, S.REJECTED.value)

# R-COMP-6: the only allowed transitions. Re-assignment (to another handler, e.g. after the
# R-COMP-7 transfer suggestion) goes back to "assigned"; a refused approval goes back to
# "investigating".
TRANSITIONS: dict[str, tuple[str, ...]] = {
    S.REGISTERED.value: (S.ASSIGNED.value, S.REJECTED.value),
    S.ASSIGNED.value: (S.ASSIGNED.value, S.INVESTIGATING.value),
    S.INVESTIGATING.value: (S.ASSIGNED.value, S.PROPOSED.value),
    S.PROPOSED.value: (S.APPROVED.value, S.INVESTIGATING.value),
    S.APPROVED.value: (S.REPLIED.value,),
    S.REPLIED.value: (S.CLOSED.value,),
    S.CLOSED.value: (),
    S.REJECTED.value: (),
}

# R-COMP-3: registration flags that make a complaint major, with their reason text.
MAJOR_FLAGS: dict[str, str] = {
    "repeat": N_("repeat complaint"),
    "to_manufacturer_or_media": N_("complained to the manufacturer or the media"),
    "collective": N_("collective complaint (3 or more customers)"),
    "refund_or_exchange": N_("refund or exchange demanded"),
    "threats_or_disturbance": N_("threats or disturbances"),
}
COLLECTIVE_MIN_CUSTOMERS = 3
