"""Parts of the benchmark harness (issue 21): the body diff of ours vs PostGraphile, the
PostGraphile row rules compiled from the policy, and when ``--reuse`` may keep a database."""

from __future__ import annotations

import copy

import pytest
from sqlalchemy import create_engine, text

from bench import appdb, bodies, datagen, pgl, suite


def _ours() -> dict:
    return {"data": {"customers": {"nodes": [
        {"id": "Customer:1", "code": "C1", "name": "客户1", "status": "ACTIVE",
         "owner": {"id": "User:7", "fullName": "Sales 1", "username": "s1"},
         "creditLines": {"nodes": [{"id": "CreditLine:3", "limitAmount": "20000.00",
                                    "status": "APPROVED"}]},
         "complaints": {"nodes": [{"id": "Complaint:9", "number": "K9", "status": "OPEN"},
                                  {"id": "Complaint:8", "number": "K8", "status": "OPEN"}]}},
    ]}}}


def _theirs() -> dict:
    return {"data": {"allCustomers": {"nodes": [
        {"id": 1, "code": "C1", "name": "客户1", "status": "active",
         "userByOwnerId": {"id": 7, "fullName": "Sales 1", "username": "s1"},
         "creditLinesByCustomerId": {"nodes": [{"id": 3, "limitAmount": "20000",
                                                "status": "approved"}]},
         "complaintsByCustomerId": {"nodes": [{"id": 8, "number": "K8", "status": "open"},
                                              {"id": 9, "number": "K9", "status": "open"}]}},
    ]}}}


def test_bodies_equal_after_mapping_names_ids_enums_and_amounts() -> None:
    assert bodies.diff(_ours(), _theirs()) == []


def test_bodies_differing_nested_value_is_reported() -> None:
    theirs = _theirs()
    theirs["data"]["allCustomers"]["nodes"][0]["complaintsByCustomerId"]["nodes"][0][
        "number"] = "K-other"
    found = bodies.diff(_ours(), theirs)
    assert len(found) == 1 and "customer 1" in found[0] and "complaints" in found[0]


def test_bodies_other_customers_or_errors_are_reported() -> None:
    theirs = _theirs()
    theirs["data"]["allCustomers"]["nodes"][0]["id"] = 2
    assert "different customers" in bodies.diff(_ours(), theirs)[0]
    assert "errors" in bodies.diff(_ours(), {"errors": [{"message": "boom"}]})[0]
    empty = copy.deepcopy(_ours())
    empty["data"]["customers"]["nodes"] = []
    assert bodies.diff(empty, {"data": {"allCustomers": {"nodes": []}}})


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory):
    """A small generated SQLite database in a work directory of its own."""
    work = tmp_path_factory.mktemp("benchwork")
    mp = pytest.MonkeyPatch()
    mp.setenv("BENCH_WORK", str(work))
    url = appdb.fresh_database(None, 200)
    engine = create_engine(url)
    layout, timings = datagen.generate(engine, 200, "x")
    engine.dispose()
    yield url, layout, timings
    mp.undo()


def test_supervisor_row_rule_for_postgraphile_is_the_policys(generated) -> None:
    """The RLS condition is compiled from portal.policy.scope: a supervisor sees the
    branch's customers OR the customers they own (the old hand-written rule left it out)."""
    url, layout, _ = generated
    who = suite.identities(layout)
    sup = who["supervisor"]
    conds = pgl.policy_conditions(appdb.make_app(url), sup)
    assert f"customers.owner_id = {sup.user_id}" in conds["customers"]
    assert f"customers.branch_id = {sup.branch_id}" in conds["customers"]
    # the rows hanging off a customer: through that customer, correlated with the row
    assert "scope_customer.id = credit_lines.customer_id" in conds["credit_lines"]
    assert "FROM customers AS scope_customer \n" in conds["credit_lines"]
    assert "credit_lines," not in conds["credit_lines"]
    assert pgl.policy_conditions(appdb.make_app(url), who["gm"]) == {
        t: "true" for t in pgl.RLS_TABLES}
    # the floor's hand-written rule is the same rule
    assert sup.customer_rule_sql("customers") == (
        f"(customers.owner_id = {sup.user_id} OR customers.branch_id = {sup.branch_id})")


def test_reuse_keeps_a_marked_database_and_regenerates_an_unknown_revision(generated) -> None:
    url, _, timings = generated
    assert appdb.reusable(url, 200) == (None, "no generation mark (generation unfinished or "
                                              "an older harness)")
    appdb.write_mark(url, 200, timings)
    mark, why = appdb.reusable(url, 200)
    assert mark is not None and mark["timings"] == timings and "at head" in why
    assert appdb.reusable(url, 300)[0] is None  # another size
    engine = create_engine(url)
    with engine.begin() as conn:
        head = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        conn.execute(text("UPDATE alembic_version SET version_num = '0099_renumbered'"))
    try:
        mark, why = appdb.reusable(url, 200)
        assert mark is None and "not in this checkout" in why
    finally:
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = :h"), {"h": head})
        engine.dispose()
