"""Demo data: small helpers (credit codes, name pools, workflow paths, the demo rating)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from models import Customer
from models.enums import ComplaintStatus
from portal.demo.words import COMPANY_WORDS, GIVEN, SURNAMES
from portal.normalize import normalize_name

_CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def credit_code(rng: random.Random, region: str, prefix: str = "91") -> str:
    """A unified social credit code (GB 32100-2015) with valid check characters: registration
    authority + type (2), region (6), organisation code (9, GB 11714 check), check (1)."""
    body = "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(8))
    s = sum(int(ch, 36) * w for ch, w in zip(body, _ORG_WEIGHTS, strict=True))
    c9 = 11 - s % 11
    org = body + ("X" if c9 == 10 else "0" if c9 == 11 else str(c9))
    code17 = prefix + region + org
    total = sum(_CODE_CHARS.index(ch) * w for ch, w in zip(code17, _CODE_WEIGHTS, strict=True))
    return code17 + _CODE_CHARS[(31 - total % 31) % 31]


_MOBILE_PREFIXES = ([f"13{i}" for i in range(10)] + ["150", "151", "152", "153", "155", "156",
                    "157", "158", "159"] + [f"18{i}" for i in range(10)])


class _Pools:
    """Unique phones, person names and company names."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.phones: set[str] = set()
        self.names: set[str] = set()

    def phone(self) -> str:
        while True:
            p = self.rng.choice(_MOBILE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"
            if p not in self.phones:
                self.phones.add(p)
                return p

    def person(self) -> str:
        while True:
            n = self.rng.choice(SURNAMES) + self.rng.choice(GIVEN)
            if normalize_name(n) not in self.names:
                self.names.add(normalize_name(n))
                return n

    def company(self, fmt: str) -> str:
        while True:
            n = fmt.format(word=self.rng.choice(COMPANY_WORDS))
            if normalize_name(n) not in self.names:
                self.names.add(normalize_name(n))
                return n


@dataclass
class _Cust:
    """A customer being built, with the facts the later generators need."""

    obj: Customer
    branch: str
    person: bool
    owner_timeline: list[tuple[datetime, int]] = field(default_factory=list)
    plan: str = "normal"   # normal | void_new | void_stalled | void_marked | expired | lapsed
    contact_name: str | None = None

    def owner_at(self, t: datetime) -> int:
        owner = self.owner_timeline[0][1]
        for since, uid in self.owner_timeline:
            if since <= t:
                owner = uid
        return owner


_AFTER_PROPOSAL = {ComplaintStatus.PROPOSED, ComplaintStatus.APPROVED, ComplaintStatus.REPLIED,
                   ComplaintStatus.CLOSED}
_MAIN_PATH = ["registered", "assigned", "investigating", "proposed", "approved", "replied",
              "closed"]


def _path_to(status: str) -> list[str]:
    """The workflow steps (R-COMP-6) from registration to ``status``."""
    if status == "rejected":
        return ["registered", "rejected"]
    return _MAIN_PATH[: _MAIN_PATH.index(status) + 1]


def _round_limit(amount: Decimal) -> Decimal:
    """Round down to whole thousands of yuan."""
    return (Decimal(amount) // 1000) * 1000

