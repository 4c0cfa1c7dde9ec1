"""``timeline`` on complaints, credit lines and copy requests: who did what when, with their
comments — one type for the three, the same list the portal shows on details and decision
pages (``portal.services.timeline``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.types import Info

from portal.services import timeline


@strawberry.type(name="TimelineEvent",
                 description="One step of a record's history (who did what when, with the "
                             "comment): the same list as the portal's timeline.")
class TimelineEventNode:
    at: datetime
    kind: str = strawberry.field(
        description="complaint, credit_line or copy_request")
    step: str = strawberry.field(
        description="The state reached: a complaint status, a credit approval step, or a copy "
                    "request's pending / approved / rejected / used")
    actor_name: str | None = strawberry.field(description="Who did it (full name)")
    note: str | None = strawberry.field(description="The comment given with the step")


def timeline_of(info: Info, node: Any, model: type) -> list[TimelineEventNode]:
    """The node's timeline; the timelines of all its siblings on the page are read at once
    (two statements for the page, not two per record)."""
    cache = node._b.cache
    if "timeline" not in cache:
        cache["timeline"] = timeline.events_of_many(
            info.context.loaders.session, model, [o.id for o in node._b.objs])
    return [TimelineEventNode(at=e.at, kind=e.kind, step=e.step,
                              actor_name=e.actor.full_name if e.actor is not None else None,
                              note=e.note)
            for e in cache["timeline"].get(node._m.id, ())]
