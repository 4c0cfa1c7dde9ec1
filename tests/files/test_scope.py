"""Knowledge scope (R-FILE-2) and no read up (R-FILE-1) on the service paths."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models import ConfidentialFile
from models.enums import Level
from portal import policy
from portal.services import files
from portal.services.errors import (
    NotFound,
    PermissionDenied,
    RuleViolation,
    ValidationFailed,
)


def _listed(session, user) -> set[int]:
    return set(session.scalars(policy.scope(select(ConfidentialFile.id), user,
                                            ConfidentialFile)))


def test_R_FILE_2_secret_file_is_known_to_the_owner_chain(cleared, session, upload):
    w = cleared
    f = upload(w.sales1, Level.SECRET, customer_id=w.customers["sales1"][0].id)
    for user, sees in ((w.sales1, True), (w.supervisor, True), (w.gm, True),
                       (w.sales2, False), (w.sales3, False), (w.manager2, False),
                       (w.sysadmin, False), (w.secadmin, False), (w.finance, False)):
        assert policy.can(user, "file.view", f) is sees, user.username
        assert (f.id in _listed(session, user)) is sees, user.username
    # the department manager's clearance covers it and the department is his chain
    assert policy.can_read_file(w.manager, f)
    # the owner names sales2 (cleared to secret): sales2 now reads it
    with pytest.raises(PermissionDenied):
        files.add_scope_member(session, w.sales2, f.id, w.sales2.id)
    files.add_scope_member(session, w.sales1, f.id, w.sales2.id)
    assert policy.can_read_file(w.sales2, f)
    with pytest.raises(ValidationFailed):
        files.add_scope_member(session, w.sales1, f.id, w.sales2.id)
    # someone whose clearance is below the level cannot be named
    with pytest.raises(RuleViolation):
        files.add_scope_member(session, w.sales1, f.id, w.sales3.id)


def test_R_FILE_2_confidential_file_is_known_to_the_responsible_manager(cleared, session,
                                                                        upload):
    w = cleared
    f = upload(w.manager, Level.CONFIDENTIAL, customer_id=w.customers["sales1"][0].id)
    assert f.responsible_manager_id == w.manager.id
    assert policy.can_read_file(w.manager, f)
    assert not policy.can_read_file(w.sales1, f)  # owner chain is not enough for 机密
    assert not policy.can_read_file(w.supervisor, f)
    assert policy.can_read_file(w.gm, f)  # the general manager reads all levels
    with pytest.raises(PermissionDenied):  # only the responsible manager names people
        files.add_scope_member(session, w.secadmin, f.id, w.supervisor.id)
    with pytest.raises(RuleViolation):  # supervisor's clearance is secret
        files.add_scope_member(session, w.manager, f.id, w.supervisor.id)
    w.supervisor.clearance = Level.CONFIDENTIAL
    session.commit()
    files.add_scope_member(session, w.manager, f.id, w.supervisor.id)
    assert policy.can_read_file(w.supervisor, f)
    assert f.id in _listed(session, w.supervisor)


def test_R_FILE_2_top_secret_only_for_people_named_by_the_general_manager(cleared, session,
                                                                          upload):
    w = cleared
    f = upload(w.gm, Level.TOP_SECRET)
    assert not policy.can_read_file(w.manager, f)  # top-secret clearance, not named
    assert f.id not in _listed(session, w.manager)
    for who in (w.manager, w.secadmin, w.sysadmin):
        with pytest.raises(PermissionDenied):
            files.add_scope_member(session, who, f.id, w.manager.id)
    files.add_scope_member(session, w.gm, f.id, w.manager.id)
    assert policy.can_read_file(w.manager, f)
    assert f.id in _listed(session, w.manager)
    with pytest.raises(NotFound):
        files.view_file(session, w.manager2, f.id)


def test_R_FILE_2_public_and_internal_files_need_no_scope(cleared, session, upload):
    w = cleared
    f = upload(w.sales1, Level.INTERNAL, customer_id=w.customers["sales1"][0].id)
    assert policy.can_read_file(w.sales2, f)
    with pytest.raises(ValidationFailed):
        files.add_scope_member(session, w.sales1, f.id, w.sales2.id)


def test_R_FILE_1_no_read_up_even_in_scope(cleared, session, upload):
    w = cleared
    f = upload(w.gm, Level.TOP_SECRET)
    files.add_scope_member(session, w.gm, f.id, w.manager.id)
    w.manager.clearance = Level.CONFIDENTIAL  # clearance lowered after being named
    session.commit()
    assert not policy.can_read_file(w.manager, f)
    assert f.id not in _listed(session, w.manager)
    with pytest.raises(NotFound):
        files.open_download(session, w.manager, f.id)
    with pytest.raises(NotFound):
        files.request_copy(session, w.manager, f.id, "需要")


def test_R_FILE_2_file_of_another_departments_customer_is_in_both_departments(cleared,
                                                                               session,
                                                                               upload):
    """Regression found by the property test: Python ``can`` and the SQL scope disagreed on a
    file whose department differs from its customer's."""
    w = cleared
    f = upload(w.sales1, Level.INTERNAL, customer_id=w.customers["sales1"][0].id,
               department_id=w.d2.id)
    assert f.department_id == w.d2.id
    for manager in (w.manager, w.manager2):
        assert policy.can(manager, "file.view", f)
        assert f.id in _listed(session, manager)
    assert not policy.can(w.sales4, "file.view", f) and f.id not in _listed(session, w.sales4)


def test_R_FILE_2_customer_owner_outside_the_department_is_in_the_chain(cleared, session,
                                                                         upload):
    """Regression found by the property test: the SQL scope missed files of a customer the
    user owns in another department, which ``policy.can`` allowed."""
    from tests.factories import make_customer

    w = cleared
    customer = make_customer(session, w.manager2, branch=w.b1)  # owned by d2's manager, in d1
    session.commit()
    f = upload(w.gm, Level.PUBLIC, customer_id=customer.id)
    assert policy.can(w.manager2, "file.view", f)
    assert f.id in _listed(session, w.manager2)
