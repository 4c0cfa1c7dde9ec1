"""Shared names of the credit services."""

from __future__ import annotations

from decimal import Decimal

from models.enums import CreditLineStatus

LS = CreditLineStatus
ZERO = Decimal("0")
