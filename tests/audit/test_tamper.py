"""R-AUD-2: the chain is tamper-evident. An attacker with write access to the database (the
append-only triggers switched off) edits, deletes, swaps, truncates, forges and re-chains
entries without the HMAC key; ``audit.verify`` and ``flask portal audit-verify`` detect each
one and name the first broken link."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest
from sqlalchemy import select, text

from models.audit import AuditChainHead, AuditEntry
from models.base import utcnow
from portal import audit
from tests.audit.conftest import disable_append_only
from tests.security import campaign  # campaign figures (tests/security/campaign.py)

GUESSED_KEY = b"attacker-does-not-know-the-key"


def _payload_hash(entry: AuditEntry, key: bytes) -> str:
    return hmac.new(key, audit._payload(entry), hashlib.sha256).hexdigest()


def _entry(session, seq: int) -> AuditEntry:
    return session.scalar(select(AuditEntry).where(AuditEntry.seq == seq))


def edit_content(session, n: int) -> int:
    session.execute(text("UPDATE audit_entries SET detail = 'nothing happened', "
                         "actor_name = 'nobody' WHERE seq = 4"))
    return 4


def delete_middle(session, n: int) -> tuple[int, int]:
    session.execute(text("DELETE FROM audit_entries WHERE seq = 4"))
    return 5, 3  # the gap is seen at the next entry; 1..3 still verify


def swap_two(session, n: int) -> int:
    session.execute(text("UPDATE audit_entries SET seq = -1 WHERE seq = 3"))
    session.execute(text("UPDATE audit_entries SET seq = 3 WHERE seq = 4"))
    session.execute(text("UPDATE audit_entries SET seq = 4 WHERE seq = -1"))
    return 3


def truncate_tail(session, n: int) -> tuple[int, int]:
    session.execute(text(f"DELETE FROM audit_entries WHERE seq > {n - 3}"))
    return n - 2, n - 3


def forge_entry(session, n: int) -> int:
    last = _entry(session, n)
    forged = AuditEntry(seq=n + 1, at=utcnow(), actor_id=None, actor_name="secadmin1",
                        action="role.grant", target_type="User", target_id="1",
                        outcome="ok", before=None, after=json.dumps({"role": "secadmin"}),
                        detail=None, remote_addr="10.0.0.1", request_id="forged",
                        prev_hash=last.hash)
    forged.hash = _payload_hash(forged, GUESSED_KEY)
    session.add(forged)
    head = session.get(AuditChainHead, 1)
    head.seq, head.last_hash = n + 1, forged.hash
    head.mac = hmac.new(GUESSED_KEY, f"head:{n + 1}:{forged.hash}".encode(),
                        hashlib.sha256).hexdigest()
    session.flush()
    return n + 1


def recompute_without_key(session, n: int) -> int:
    """Edit entry 4, then re-link and re-hash everything after it (with a guessed key) and
    rewrite the head, so every link looks consistent."""
    edit_content(session, n)
    session.expire_all()
    prev = _entry(session, 3).hash
    for seq in range(4, n + 1):
        e = _entry(session, seq)
        e.prev_hash = prev
        new_hash = _payload_hash(e, GUESSED_KEY)
        session.execute(text("UPDATE audit_entries SET prev_hash = :p, hash = :h "
                             "WHERE seq = :s"), {"p": prev, "h": new_hash, "s": seq})
        prev = new_hash
    session.expire_all()
    head = session.get(AuditChainHead, 1)
    head.last_hash = prev
    head.mac = hashlib.sha256(f"head:{head.seq}:{prev}".encode()).hexdigest()
    session.flush()
    return 4


ATTACKS = {
    "edit an entry": edit_content,
    "delete a middle entry": delete_middle,
    "swap two entries": swap_two,
    "truncate the tail": truncate_tail,
    "forge an entry": forge_entry,
    "recompute the chain without the key": recompute_without_key,
}


@pytest.mark.parametrize("attack", list(ATTACKS), ids=list(ATTACKS))
def test_R_AUD_2_tampering_is_detected(app, session, chain, attack):
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["portal", "audit-verify"])
    assert ok.exit_code == 0 and f"{chain} entries verified" in ok.output

    disable_append_only(session)
    outcome = ATTACKS[attack](session, chain)
    first_broken, still_verified = outcome if isinstance(outcome, tuple) else \
        (outcome, outcome - 1)
    session.commit()
    session.expire_all()

    report = audit.verify(session)
    campaign.tally("tamper_cases", "tamper_detected", not report.ok)
    assert not report.ok, attack
    assert report.broken_at == first_broken, (attack, report)
    assert report.verified == still_verified  # everything before the break still verifies
    result = runner.invoke(args=["portal", "audit-verify"])
    assert result.exit_code == 1
    assert f"BROKEN at entry #{first_broken}" in result.output


def test_R_AUD_2_truncation_with_a_rewound_head_is_detected(app, session, chain):
    disable_append_only(session)
    session.execute(text(f"DELETE FROM audit_entries WHERE seq > {chain - 3}"))
    head = session.get(AuditChainHead, 1)
    head.seq, head.last_hash = chain - 3, _entry(session, chain - 3).hash  # mac not redone
    session.commit()
    report = audit.verify(session)
    assert not report.ok and report.problem == "chain head was forged"


def test_R_AUD_2_every_tamper_attack_has_its_own_test():
    """Order-independent (it used to skip unless the parametrised tests had run first, in the
    same process): each attack is its own parametrised test, which asserts the detection and
    counts it into the campaign figure ``audit tamper N/M``; this keeps the list complete."""
    assert len(ATTACKS) == 6
    marks = test_R_AUD_2_tampering_is_detected.pytestmark
    assert [list(m.args[1]) for m in marks if m.name == "parametrize"] == [list(ATTACKS)]
