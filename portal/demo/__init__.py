"""Demo data: 华东汽车销售服务有限公司, a car dealer group with two sales departments and three
showrooms, and ~300 customer archives that show every rule of domain.md in action.

``load(session)`` is idempotent (a second run adds nothing) and reproducible: a fixed random
seed, with every date placed relative to ``clock.now()`` so that "overdue", "void card",
"review due" and "ownership expired" stay true whenever the demo is loaded.

The rows are written through the models directly (not the services), in one transaction and a
handful of flushes, so loading takes a second or two on SQLite. Classified files are added by
the files area, not here.
"""

from __future__ import annotations

from portal.demo.company import (
    BRANCHES,
    COMPANY_NAME,
    CUSTOMER_COUNT,
    DEMO_DEPARTMENT_CODE,
    DEMO_LOGINS,
    DEMO_PASSWORD,
    DEMO_TOTP_SECRET,
    DEMO_USERNAMES,
    DEPARTMENTS,
    SEED,
    STAFF,
    StaffSpec,
)
from portal.demo.complaints import ComplaintsMixin
from portal.demo.credit import CreditMixin
from portal.demo.customers import CustomersMixin
from portal.demo.helpers import credit_code
from portal.demo.loader import is_loaded, load
from portal.demo.reception import ReceptionMixin
from portal.demo.words import (
    CARS,
    COMPANY_WORDS,
    COMPLAINT_TEXTS,
    DEALER_TRADES,
    END_TRADES,
    FOLLOW_NOTES,
    GIVEN,
    INQUIRY_TEXTS,
    MAJOR_REASONS,
    PLACES,
    PURPOSES_BUSINESS,
    PURPOSES_CALL,
    PURPOSES_RETURN,
    PURPOSES_WALK_IN,
    REJECT_REASONS,
    SPECIALS,
    SUPPLIER_TRADES,
    SURNAMES,
    TITLES,
)

__all__ = [
    "BRANCHES",
    "CARS",
    "COMPANY_NAME",
    "COMPANY_WORDS",
    "COMPLAINT_TEXTS",
    "CUSTOMER_COUNT",
    "DEMO_TOTP_SECRET",
    "ComplaintsMixin",
    "CreditMixin",
    "CustomersMixin",
    "DEALER_TRADES",
    "DEMO_DEPARTMENT_CODE",
    "DEMO_LOGINS",
    "DEMO_PASSWORD",
    "DEMO_USERNAMES",
    "DEPARTMENTS",
    "END_TRADES",
    "FOLLOW_NOTES",
    "GIVEN",
    "INQUIRY_TEXTS",
    "MAJOR_REASONS",
    "PLACES",
    "PURPOSES_BUSINESS",
    "PURPOSES_CALL",
    "PURPOSES_RETURN",
    "PURPOSES_WALK_IN",
    "REJECT_REASONS",
    "ReceptionMixin",
    "SEED",
    "SPECIALS",
    "STAFF",
    "SUPPLIER_TRADES",
    "SURNAMES",
    "StaffSpec",
    "TITLES",
    "credit_code",
    "is_loaded",
    "load",
]
