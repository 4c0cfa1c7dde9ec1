"""Campaign counters and helpers shared by the security tests (and, by one-line calls, by other
test packages: ``from tests.security.campaign import count`` then ``count("tamper_cases")``).

The counters live in this module for the whole pytest session; ``tests/security/conftest.py``
writes them to a JSON file (``CAMPAIGN_SUMMARY_FILE``, default ``<basetemp>/campaign.json``)
and prints ONE summary line at the end of the session (see ``summary_line``).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

COUNTERS: Counter[str] = Counter()

# Tables the database fingerprint ignores: the audit log (refusals append to it) and
# Alembic's bookkeeping.
AUDIT_TABLES = frozenset({"audit_entries", "audit_chain_head"})
FINGERPRINT_EXCLUDED = AUDIT_TABLES | {"alembic_version"}

# Every counter the summary line knows, so a missing area prints as 0 instead of vanishing.
KNOWN = (
    "cases", "responses", "responses_5xx",
    "authz_cases", "authz_unexpected",
    "noreadup_examples", "noreadup_mismatch",
    "bad_input", "bad_input_5xx", "bad_input_rows", "bad_input_files",
    "csrf_cases", "csrf_unexpected", "xss_cases", "xss_unescaped",
    "graphql_fuzz_ops", "graphql_fuzz_5xx",
    "policy_model_steps", "policy_model_checks", "policy_model_mismatch",
    "tamper_cases", "tamper_detected",
    "conflict_cases", "conflicts_detected",
    "sod_cases", "sod_unexpected",
    "account_cases", "account_unexpected",
    "pip_audit_vulns",
)


def count(name: str, n: int = 1) -> None:
    """Add ``n`` to a campaign counter (names: see ``KNOWN``; others are kept too)."""
    COUNTERS[name] += n


def add(**counts: int) -> None:
    """Add several counters at once: ``add(noreadup_examples=200, noreadup_mismatch=0)``."""
    for name, n in counts.items():
        COUNTERS[name] += int(n)


def tally(cases: str, hits: str, hit: bool) -> None:
    """One case of a kind, and whether it was a hit: ``tally("tamper_cases",
    "tamper_detected", not report.ok)``."""
    COUNTERS[cases] += 1
    COUNTERS[hits] += int(bool(hit))


def snapshot() -> dict[str, int]:
    data = {k: 0 for k in KNOWN}
    data.update(COUNTERS)
    return data


def summary_line(data: dict[str, int] | None = None) -> str:
    d = dict(snapshot() if data is None else data)
    for k in KNOWN:
        d.setdefault(k, 0)
    authz = d["authz_cases"] + d["csrf_cases"] + d["xss_cases"]
    authz_bad = d["authz_unexpected"] + d["csrf_unexpected"] + d["xss_unescaped"]
    parts = [
        f"authz {authz} cases {authz_bad} unexpected",
        f"no-read-up {d['noreadup_examples']} examples {d['noreadup_mismatch']} mismatch",
        f"bad input {d['bad_input']} {d['bad_input_5xx']} 5xx {d['bad_input_rows']} rows "
        f"{d['bad_input_files']} files",
        f"graphql fuzz {d['graphql_fuzz_ops']} ops {d['graphql_fuzz_5xx']} 5xx",
        f"policy model {d['policy_model_steps']} steps {d['policy_model_checks']} decisions "
        f"{d['policy_model_mismatch']} mismatch",
        f"audit tamper {d['tamper_detected']}/{d['tamper_cases']}",
        f"conflicts {d['conflicts_detected']}/{d['conflict_cases']}",
        f"sod {d['sod_cases']} cases {d['sod_unexpected']} unexpected",
        f"account security {d['account_cases']} cases {d['account_unexpected']} unexpected",
        f"5xx {d['responses_5xx']}/{d['responses']} responses",
    ]
    if "pip_audit_ran" in d:
        parts.append(f"pip-audit {d['pip_audit_vulns']} "
                     f"({d.get('pip_audit_audited', 0)}/{d.get('pip_audit_packages', 0)} audited)")
    return " | ".join(parts)


def write_summary(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = snapshot()
    path.write_text(json.dumps({"counters": data, "line": summary_line(data)}, indent=2,
                               sort_keys=True))


def pip_audit_from_env() -> None:
    """Fold a ``pip-audit -f json`` report (env ``PIP_AUDIT_JSON``) into the counters."""
    report = os.environ.get("PIP_AUDIT_JSON")
    if not report or not Path(report).is_file():
        return
    try:
        raw = json.loads(Path(report).read_text() or "{}")
    except json.JSONDecodeError:
        return
    deps = raw.get("dependencies", raw) if isinstance(raw, dict) else raw
    deps = [d for d in deps if isinstance(d, dict)]
    COUNTERS["pip_audit_ran"] = 1
    COUNTERS["pip_audit_vulns"] = sum(len(d.get("vulns", [])) for d in deps)
    COUNTERS["pip_audit_packages"] = len(deps)
    COUNTERS["pip_audit_audited"] = sum(1 for d in deps if "skip_reason" not in d)


# ------------------------------------------------------------------------------ responses


def check_response(resp: Any, what: str = "", *, bad_input: bool = False) -> Any:
    """Count one response; fail on any 5xx (``what`` says which request it was)."""
    count("responses")
    if bad_input:
        count("bad_input")
    if resp.status_code >= 500:
        count("responses_5xx")
        if bad_input:
            count("bad_input_5xx")
        raise AssertionError(f"{what or 'request'} answered {resp.status_code}: "
                             f"{resp.get_data(as_text=True)[:400]}")
    return resp


# ------------------------------------------------------------------------------ fingerprints


def table_prints(session: Any, exclude: frozenset[str] | set[str] = frozenset()
                 ) -> dict[str, str]:
    """Table name → hash of its rows, for every table except the audit log (and ``exclude``)."""
    from portal.extensions import db

    prints = {}
    session.expire_all()
    for table in db.metadata.sorted_tables:
        if table.name in FINGERPRINT_EXCLUDED or table.name in exclude:
            continue
        digest = hashlib.sha256()
        order = list(table.primary_key.columns) or list(table.columns)
        for row in session.execute(select(table).order_by(*order)):
            digest.update(repr(tuple(row)).encode())
        prints[table.name] = digest.hexdigest()
    session.rollback()
    return prints


def db_fingerprint(session: Any, exclude: frozenset[str] | set[str] = frozenset()) -> str:
    """A hash of every row of every table except the audit log (and ``exclude``)."""
    digest = hashlib.sha256()
    for name, value in sorted(table_prints(session, exclude).items()):
        digest.update(f"{name}={value};".encode())
    return digest.hexdigest()


def changed_tables(before: dict[str, str], after: dict[str, str]) -> list[str]:
    return sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))


def storage_fingerprint(root: str | Path) -> str:
    """A hash of every file (relative name and content) under the storage folder."""
    root = Path(root)
    digest = hashlib.sha256()
    if root.exists():
        for p in sorted(root.rglob("*")):
            if p.is_file():
                digest.update(str(p.relative_to(root)).encode() + b"\0")
                digest.update(hashlib.sha256(p.read_bytes()).digest())
    return digest.hexdigest()


def audit_mark(session: Any) -> int:
    from models import AuditEntry

    session.expire_all()
    return session.scalar(select(func.coalesce(func.max(AuditEntry.seq), 0))) or 0


def audit_since(session: Any, mark: int) -> list[Any]:
    from models import AuditEntry

    session.expire_all()
    rows = list(session.scalars(select(AuditEntry).where(AuditEntry.seq > mark)
                                .order_by(AuditEntry.seq)))
    session.rollback()
    return rows
