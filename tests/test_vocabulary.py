"""Every area and action of the policy has a people's name (the grants matrix and the audit
log show them; a new grant without one showed its code, e.g. ``penalty.view``)."""

from __future__ import annotations

from portal import policy, vocabulary


def test_every_area_and_action_has_a_label() -> None:
    missing_areas = [a for a in policy.AREAS if a not in vocabulary.AREA_LABELS]
    missing = [f"{a}.{act}" for a, acts in policy.AREAS.items() for act in acts
               if f"{a}.{act}" not in vocabulary.ACTION_LABELS]
    assert not missing_areas and not missing, (missing_areas, missing)
