"""The one policy: scopes, field visibility, hard rules (R-ROLE-1, R-ROLE-3, R-ROLE-5)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models import Complaint, Customer, Grant, User
from models.enums import Role
from portal import policy
from tests.factories import make_user


def _visible_customer_ids(session, user) -> set[int]:
    return set(session.scalars(policy.scope(select(Customer.id), user, Customer)))


def _ids(customers) -> set[int]:
    return {c.id for c in customers}


def test_R_ROLE_1_sales_see_only_their_own_customers(world, session):
    assert _visible_customer_ids(session, world.sales1) == _ids(world.customers["sales1"])


def test_R_ROLE_1_supervisor_sees_the_branch(world, session):
    expected = _ids(world.customers["sales1"] + world.customers["sales2"])
    assert _visible_customer_ids(session, world.supervisor) == expected


def test_R_ROLE_1_manager_sees_the_department(world, session):
    expected = _ids(world.customers["sales1"] + world.customers["sales2"]
                    + world.customers["sales3"])
    assert _visible_customer_ids(session, world.manager) == expected


@pytest.mark.parametrize("role", ["general_manager", "finance", "service", "auditor"])
def test_R_ROLE_1_company_wide_roles_see_all(world, session, role):
    everyone = set().union(*(_ids(cs) for cs in world.customers.values()))
    assert _visible_customer_ids(session, world.roles[role]) == everyone


@pytest.mark.parametrize("role", ["sysadmin", "secadmin", "secauditor"])
def test_R_ROLE_1_administrators_see_no_customers(world, session, role):
    assert _visible_customer_ids(session, world.roles[role]) == set()


def test_R_ROLE_1_object_checks_agree_with_the_sql_scope(world, session):
    customers = session.scalars(select(Customer)).all()
    for user in world.roles.values():
        visible = _visible_customer_ids(session, user)
        assert {c.id for c in customers if policy.can(user, "customer.view", c)} == visible


def test_R_ROLE_1_finance_reads_credit_fields_but_not_contact_data(world, session):
    c = world.customers["sales1"][0]
    fields = policy.visible_fields(world.finance, Customer, c)
    assert "outstanding_balance" in fields and "name" in fields
    assert "phone" not in fields and "address" not in fields


def test_R_ROLE_1_service_reads_contact_data_but_not_credit(world, session):
    c = world.customers["sales1"][0]
    fields = policy.visible_fields(world.service, Customer, c)
    assert "phone" in fields and "outstanding_balance" not in fields


def test_R_ROLE_1_finance_does_not_see_complaint_details(world, session):
    assert not policy.scopes_for(world.finance, "view", Complaint)
    assert "description" not in policy.visible_fields(world.sales1, Complaint) or \
        policy.group_visible(world.sales1, "complaint_detail")


def test_normalised_keys_and_secrets_are_never_visible(world):
    for user in world.roles.values():
        fields = policy.visible_fields(user, User, world.sales1)
        assert "password_hash" not in fields and "session_version" not in fields
        assert "phone_normalized" not in policy.visible_fields(user, Customer)


def test_R_ROLE_3_auditor_is_read_only_even_when_a_grant_says_otherwise(world, session):
    session.add(Grant(role=Role.AUDITOR.value, area="customer", action="change", scope="all"))
    session.commit()
    c = world.customers["sales1"][0]
    assert policy.can(world.auditor, "customer.view", c)
    assert not policy.can(world.auditor, "customer.change", c)
    assert policy.scope(select(Customer), world.auditor, Customer, "change") is not None
    assert session.scalars(policy.scope(select(Customer), world.auditor, Customer,
                                        "change")).all() == []


def test_R_ROLE_5_grants_are_data_and_apply_on_the_next_transaction(world, session):
    assert not policy.can(world.finance, "complaint.view")
    session.add(Grant(role=Role.FINANCE.value, area="complaint", action="view", scope="all"))
    session.commit()
    assert policy.can(world.finance, "complaint.view")
    session.execute(Grant.__table__.delete().where(Grant.role == Role.FINANCE.value,
                                                   Grant.area == "complaint"))
    session.commit()
    assert not policy.can(world.finance, "complaint.view")


def test_deny_by_default_without_roles(world, session):
    nobody = make_user(session, "nobody", [], branch=world.b1)
    session.commit()
    for area, actions in policy.AREAS.items():
        for action in actions:
            assert not policy.can(nobody, f"{area}.{action}")
    assert _visible_customer_ids(session, nobody) == set()


def test_inactive_user_can_do_nothing(world, session):
    world.sales1.is_active = False
    session.commit()
    assert not policy.can(world.sales1, "customer.view")
    assert _visible_customer_ids(session, world.sales1) == set()


def test_several_roles_get_the_union(world, session):
    both = make_user(session, "both", ["sales", "finance"], branch=world.b1)
    session.commit()
    assert policy.can(both, "credit.review")
    assert policy.can(both, "customer.change")
    assert len(_visible_customer_ids(session, both)) == sum(len(v) for v in
                                                            world.customers.values())


def test_R_ROLE_2_admin_roles_conflict():
    assert policy.admin_role_conflict(["sysadmin"], "secadmin") == "sysadmin"
    assert policy.admin_role_conflict(["secauditor"], "sysadmin") == "secauditor"
    assert policy.admin_role_conflict(["sales"], "sysadmin") is None
    assert policy.admin_role_conflict(["sysadmin"], "sales") is None


def test_every_default_grant_names_a_known_area_and_action():
    for role, area, action, scope_name in policy.all_grant_rows():
        assert role in {r.value for r in Role}
        assert action in policy.AREAS[area], (role, area, action)
        assert scope_name in {"own", "branch", "department", "all"}


def test_migrated_grants_equal_the_policy_defaults(session):
    rows = {tuple(r) for r in session.execute(
        select(Grant.role, Grant.area, Grant.action, Grant.scope))}
    assert rows == set(policy.all_grant_rows())


def test_every_model_has_an_area_and_a_scope_filter():
    import models

    for name in models.__all__:
        model = getattr(models, name)
        if name in ("Base", "AuditChainHead", "ComplaintCounter"):
            continue
        assert model in policy.MODEL_AREA, name
        assert model in policy.SCOPE_FILTERS, name
