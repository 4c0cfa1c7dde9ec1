"""Customer archives: editable fields and input validation."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from datetime import timedelta
from typing import Any

from models.customer import Customer
from models.enums import CustomerKind, CustomerSource, Importance, Intent
from portal import policy
from portal.normalize import normalize_name, normalize_phone
from portal.services import identity
from portal.services.errors import N_, ValidationFailed

# Fields a user may set on an archive (create and correct); everything else is decided by rules.
EDITABLE_FIELDS = ("name", "phone", "credit_code", "kind", "special_category", "address",
                   "website", "source", "importance", "intent", "notes")
CONTACT_FIELDS = frozenset(policy.FIELD_GROUPS[Customer]["customer_contact"])
CREATE_EXTRA_FIELDS = ("owner_id", "branch_id", "referrer_id")
MAX_LENGTHS = {"name": 200, "phone": 32, "credit_code": 32, "special_category": 32,
               "address": 300, "website": 200, "notes": 5000}
MAX_BACKDATE = timedelta(days=2)  # a follow-up may be recorded late, not invented weeks later
FUTURE_TOLERANCE = timedelta(minutes=5)
_CREDIT_CODE_RE = re.compile(r"^[0-9A-Z]{8,18}$")
_UNSET: Any = object()


# ---------------------------------------------------------------------------------------------
# Input validation
# ---------------------------------------------------------------------------------------------


def _text(data: Mapping[str, Any], key: str, *, required: bool = False) -> str | None:
    value = data.get(key)
    if value is None:
        text = ""
    elif isinstance(value, str):
        text = value.strip()
    elif isinstance(value, int | float) and not isinstance(value, bool):
        text = str(value)
    else:
        raise ValidationFailed(N_("%(label)s must be text."), field=key, label=key)
    if not text:
        if required:
            raise ValidationFailed(N_("%(label)s is required."), field=key, label=key)
        return None
    limit = MAX_LENGTHS.get(key)
    if limit and len(text) > limit:
        raise ValidationFailed(N_("%(label)s is longer than %(max)s characters."), field=key, label=key,
                               max=limit)
    return text


def _choice(data: Mapping[str, Any], key: str, allowed: Iterable[str], default: str | None,
            *, upper: bool = False) -> str | None:
    value = data.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    text = str(value).strip()
    text = text.upper() if upper else text.lower()
    allowed = list(allowed)
    if text not in allowed:
        raise ValidationFailed(N_("%(value)s is not a valid %(label)s (choose one of "
                                  "%(choices)s)."), field=key, label=key, value=str(value)[:40],
                               choices=", ".join(allowed))
    return text


def _int_id(value: Any, field: str) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValidationFailed(N_("%(label)s must be an id."), field=field, label=field)
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValidationFailed(N_("%(label)s must be an id."), field=field, label=field) from None


def _clean_name(data: Mapping[str, Any], partial: bool) -> str | None:
    name = _text(data, "name", required=True)
    if not normalize_name(name or ""):
        raise ValidationFailed(N_("The name must contain letters or digits."), field="name")
    return name


def _clean_phone(data: Mapping[str, Any], partial: bool) -> str | None:
    phone = _text(data, "phone")
    if phone is not None:
        digits = normalize_phone(phone) or ""
        if not 5 <= len(digits) <= 15:
            raise ValidationFailed(N_("%(value)s is not a phone number."), field="phone",
                                   value=phone[:32])
    return phone


def _clean_credit_code(data: Mapping[str, Any], partial: bool) -> str | None:
    code = _text(data, "credit_code")
    if code is not None:
        try:  # R-CUST-1: check characters validated (portal/services/identity.py)
            identity.code_kind(code)
        except ValueError:
            raise ValidationFailed(N_("%(value)s is not a valid unified social credit "
                                      "code or ID number (check the check character)."),
                                   field="credit_code", value=code[:32]) from None
    return code


def _clean_kind(data: Mapping[str, Any], partial: bool) -> str | None:
    kind = _choice(data, "kind", [k.value for k in CustomerKind],
                   None if partial else CustomerKind.END.value)
    if kind is None:
        raise ValidationFailed(N_("%(label)s is required."), field="kind", label="kind")
    return kind


def _free_text(key: str) -> Callable[[Mapping[str, Any], bool], str | None]:
    return lambda data, partial: _text(data, key)


# The archive's fields before the classifications, in the order they are checked.
_FIELD_CHECKS: tuple[tuple[str, Callable[[Mapping[str, Any], bool], str | None]], ...] = (
    ("name", _clean_name), ("phone", _clean_phone), ("credit_code", _clean_credit_code),
    ("kind", _clean_kind), ("special_category", _free_text("special_category")),
    ("address", _free_text("address")), ("website", _free_text("website")),
)
_CLASSIFICATION_DEFAULTS = {"source": CustomerSource.WALK_IN.value,
                            "importance": Importance.C.value, "intent": Intent.WARM.value}


def _classification_choices() -> dict[str, list[str]]:
    return {"source": [s.value for s in CustomerSource],
            "importance": [i.value for i in Importance], "intent": [i.value for i in Intent]}


def clean_fields(data: Mapping[str, Any], *, partial: bool = False) -> dict[str, Any]:
    """Validate the user-settable fields of an archive (used by create, update and import).
    With ``partial`` only the keys present are checked and returned."""
    out: dict[str, Any] = {}

    def wanted(key: str) -> bool:
        return not partial or key in data

    for key, check in _FIELD_CHECKS:
        if wanted(key):
            out[key] = check(data, partial)
    for key, allowed in _classification_choices().items():
        if wanted(key):
            value = _choice(data, key, allowed, None if partial else _CLASSIFICATION_DEFAULTS[key],
                            upper=key == "importance")
            if value is not None:  # an explicit empty value keeps the current one
                out[key] = value
    if wanted("notes"):
        out["notes"] = _text(data, "notes")
    return out


def _check_keys(data: Mapping[str, Any], allowed: Iterable[str]) -> None:
    allowed = set(allowed)
    for key in data:
        if key not in allowed:
            raise ValidationFailed(N_("%(label)s cannot be set here."), field=str(key), label=str(key))


def _check_special(kind: str | None, special: str | None) -> None:
    if special and kind != CustomerKind.SPECIAL.value:
        raise ValidationFailed(N_("A special category only applies to special customers."),
                               field="special_category")
