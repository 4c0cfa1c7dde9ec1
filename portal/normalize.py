"""Normalisation of the keys duplicate detection compares (R-CUST-1)."""

from __future__ import annotations

import re
import unicodedata

_COMPANY_SUFFIXES = ("股份有限公司", "有限责任公司", "有限公司", "集团", "公司")
_PHONE_PREFIXES = ("0086", "+86", "86")


def normalize_name(name: str) -> str:
    """Full-width → half-width, case-folded, spaces and punctuation removed, and common
    company suffixes dropped, so 「华为技术有限公司」 and 「华为技术 」 compare equal."""
    text = unicodedata.normalize("NFKC", name or "").casefold()
    text = re.sub(r"[\s\W_]+", "", text)
    for suffix in _COMPANY_SUFFIXES:
        if text.endswith(suffix) and len(text) > len(suffix):
            text = text[: -len(suffix)]
            break
    return text


def normalize_phone(phone: str | None) -> str | None:
    """Digits only, without the +86 country prefix; None when nothing is left."""
    if not phone:
        return None
    text = unicodedata.normalize("NFKC", phone).strip()
    plus = text.startswith("+")
    digits = re.sub(r"\D", "", text)
    for prefix in _PHONE_PREFIXES:
        p = prefix.lstrip("+")
        if (plus or prefix == "0086") and digits.startswith(p) and len(digits) > 11:
            digits = digits[len(p):]
            break
        if prefix == "86" and digits.startswith("86") and len(digits) == 13:
            digits = digits[2:]
            break
    return digits or None


def normalize_credit_code(code: str | None) -> str | None:
    """Unified social credit code / ID number: NFKC, upper case, no separators."""
    if not code:
        return None
    text = re.sub(r"[\s\-]", "", unicodedata.normalize("NFKC", code)).upper()
    return text or None
