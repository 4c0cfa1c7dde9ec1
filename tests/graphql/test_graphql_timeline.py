"""``timeline`` in GraphQL (issue 14, part 6): complaints, credit lines and copy requests show
the same steps, people and comments as the portal's timeline (``portal.services.timeline``)."""

from __future__ import annotations

from models import Complaint, CopyRequest, CreditLine
from models.enums import Level
from portal.services import complaints, timeline
from portal.services.files import copies
from tests.graphql.data import add_credit, add_file


def _portal(session, record) -> list[tuple[str, str | None, str | None]]:
    return [(e.step, e.actor.full_name if e.actor else None, e.note)
            for e in timeline.events_of(session, record)]


def _api(nodes) -> list[tuple[str, str | None, str | None]]:
    return [(e["step"], e["actorName"], e["note"]) for e in nodes]


def test_complaint_timeline_is_the_portals(world, session, api) -> None:
    c = world.customers["sales1"][0]
    complaint = complaints.register_complaint(session, world.service, {
        "customer_id": c.id, "channel": "phone", "type": "complaint", "cause": "quality",
        "description": "门把手松了"})
    complaints.assign(session, world.service, complaint.id, world.service.id,
                      expected_version=complaint.version)
    body = api(world.gm)("""query($n: String!) { complaints(filter: {search: $n}) { nodes {
        number timeline { at kind step actorName note } } } }""", {"n": complaint.number})
    assert "errors" not in body, body
    (node,) = body["data"]["complaints"]["nodes"]
    assert [e["kind"] for e in node["timeline"]] == ["complaint"] * len(node["timeline"])
    assert _api(node["timeline"]) == _portal(session, session.get(Complaint, complaint.id))
    assert [e["step"] for e in node["timeline"]][:2] == ["registered", "assigned"]


def test_credit_line_timeline_is_the_portals(world, session, api) -> None:
    c = world.customers["sales1"][0]
    line = add_credit(session, c, world.manager)
    session.commit()
    body = api(world.gm)("""query($id: ID!) { node(id: $id) { ... on CreditLine {
        timeline { step actorName note } } } }""", {"id": f"CreditLine:{line.id}"})
    assert "errors" not in body, body
    steps = body["data"]["node"]["timeline"]
    assert steps and _api(steps) == _portal(session, session.get(CreditLine, line.id))


def test_copy_request_timeline_is_the_portals(world, session, api) -> None:
    c = world.customers["sales1"][0]
    secret = add_file(session, c, world.sales1, Level.SECRET.value)
    world.sales1.clearance = Level.SECRET.value
    session.commit()
    client = api(world.sales1)
    body = client(f'mutation {{ requestFileCopy(fileId: "ConfidentialFile:{secret.id}", '
                  'reason: "客户审计需要") { ok result { id timeline { step actorName note } } } }')
    payload = body["data"]["requestFileCopy"]
    assert payload["ok"], payload
    request = session.get(CopyRequest, int(payload["result"]["id"].split(":")[1]))
    assert _api(payload["result"]["timeline"]) == _portal(session, request)
    assert payload["result"]["timeline"][0] == {"step": "pending",
                                                "actorName": world.sales1.full_name,
                                                "note": "客户审计需要"}
    assert copies is not None


TIMELINES = """query($n: Int!) { customers(first: $n, orderBy: ID_DESC) { edges { node {
    complaints { number timeline { at step actorName note } }
    creditLines { status timeline { step actorName note } } } } } }"""


def test_timelines_of_a_page_cost_the_same_statements_at_any_page_size(world, session,
                                                                       api) -> None:
    from tests.factories import make_customer
    from tests.graphql.data import add_complaint
    from tests.graphql.test_graphql_nplus1 import count_statements

    for _ in range(30):
        c = make_customer(session, world.sales1)
        add_complaint(session, c, world.service, handler=world.service)
        add_credit(session, c, world.manager)
    session.commit()
    client = api(world.gm)
    client(TIMELINES, {"n": 1})  # warm-up (token last-used time)
    seen = {}
    for n in (5, 30):
        seen[n], body = count_statements(lambda n=n: client(TIMELINES, {"n": n}))
        assert "errors" not in body, body
        edges = body["data"]["customers"]["edges"]
        assert len(edges) == n
        assert all(e["node"]["complaints"][0]["timeline"] and
                   e["node"]["creditLines"][0]["timeline"] for e in edges)
    assert seen[5] == seen[30], seen
