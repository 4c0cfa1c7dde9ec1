"""Response bodies of ours and PostGraphile for G2, mapped to one shape and diffed (issue 21):
the same customers, owners, credit lines and complaints with the same values, not only as many.

Field names are mapped (``userByOwnerId`` → ``owner``, ``creditLinesByCustomerId.nodes`` →
``creditLines`` …), ids become integers (ours are global ids ``Customer:42``), enum values
compare case-insensitively (ours ``ACTIVE``, the column ``active``) and amounts as decimals."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

# our name → PostGraphile's, for the nested G2 fields
PGL_NAMES = {"customers": "allCustomers", "owner": "userByOwnerId",
             "creditLines": "creditLinesByCustomerId", "complaints": "complaintsByCustomerId"}


def _nodes(value: Any) -> list:
    """A list, a connection with ``nodes`` or one with ``edges { node }``."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    if "nodes" in value:
        return value["nodes"] or []
    return [e["node"] for e in value.get("edges") or []]


def _id(value: Any) -> Any:
    if isinstance(value, str) and ":" in value:
        value = value.rsplit(":", 1)[1]
    try:
        return int(value)
    except (TypeError, ValueError):
        return value


def _scalar(key: str, value: Any) -> Any:
    if key == "id":
        return _id(value)
    if key == "limitAmount" and value is not None:
        try:
            return str(Decimal(str(value)).normalize())
        except InvalidOperation:
            return value
    if key == "status" and isinstance(value, str):
        return value.lower()
    return value


def _row(row: dict, children: dict[str, str]) -> dict:
    out: dict[str, Any] = {}
    for key, value in row.items():
        ours = next((o for o, t in children.items() if t == key), key)
        if ours == "owner":
            out["owner"] = None if value is None else {
                k: _scalar(k, v) for k, v in value.items()}
        elif ours in ("creditLines", "complaints"):
            out[ours] = sorted(({k: _scalar(k, v) for k, v in n.items()}
                                for n in _nodes(value)), key=lambda n: n.get("id") or 0)
        else:
            out[ours] = _scalar(ours, value)
    return out


def normalize(body: dict, side: str) -> list[dict]:
    """The G2 answer of ``side`` ("ours" or "theirs") as a list of customers in one shape."""
    names = PGL_NAMES if side == "theirs" else {k: k for k in PGL_NAMES}
    conn = (body.get("data") or {}).get(names["customers"])
    children = {k: v for k, v in names.items() if k != "customers"}
    return [_row(r, children) for r in _nodes(conn)]


def diff(ours: dict, theirs: dict, limit: int = 3) -> list[str]:
    """Differences between the two answers (empty: equal), at most ``limit`` described."""
    problems: list[str] = []
    for side, body in (("ours", ours), ("PostGraphile", theirs)):
        if body.get("errors"):
            problems.append(f"{side} answered errors: {str(body['errors'])[:200]}")
    if problems:
        return problems
    a, b = normalize(ours, "ours"), normalize(theirs, "theirs")
    if not a:
        problems.append("ours returned no customers: an empty page proves nothing")
    ids_a, ids_b = [r.get("id") for r in a], [r.get("id") for r in b]
    if ids_a != ids_b:
        only_a = sorted(set(ids_a) - set(ids_b))[:5]
        only_b = sorted(set(ids_b) - set(ids_a))[:5]
        problems.append(f"different customers: {len(a)} vs {len(b)}; only ours {only_a}, "
                        f"only PostGraphile {only_b}"
                        + ("" if only_a or only_b else " (same set, other order)"))
        return problems
    for ra, rb in zip(a, b, strict=True):
        if ra != rb:
            keys = sorted(k for k in set(ra) | set(rb) if ra.get(k) != rb.get(k))
            problems.append(f"customer {ra.get('id')}: " + "; ".join(
                f"{k}: ours {ra.get(k)!r} vs PostGraphile {rb.get(k)!r}"[:300] for k in keys))
            if len(problems) >= limit:
                break
    return problems
