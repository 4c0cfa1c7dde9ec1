"""Issue 16, confidential files as the confidentiality policy (保密管理制度) writes them:
declassification from the day after the end date (inclusive end), to 内部 not 公开 (R-FILE-4);
copying a confidential file needs the department manager's approval (R-FILE-3)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from models.enums import Level
from portal import clock, policy
from portal.services import files
from portal.services.errors import DomainError
from tests.files.conftest import cleared, upload  # noqa: F401


def _at(day) -> datetime:
    """Noon of a company day."""
    return datetime.combine(day, time(12), tzinfo=clock.COMPANY_TZ).astimezone(UTC)


def test_R_FILE_4_still_secret_on_the_end_date_internal_the_day_after(cleared, session, upload):  # noqa: F811
    w = cleared
    end = clock.today() + timedelta(days=10)
    f = upload(w.sales1, Level.SECRET, customer_id=w.customers["sales1"][0].id,
               secrecy_until=end.isoformat())
    with clock.frozen(_at(end)):  # the end date itself is inside the period
        assert policy.effective_level(f) == Level.SECRET
        assert not policy.can_read_file(w.sales2, f)
        assert files.tick(session, clock.now()) == {"file.declassify": 0}
    with clock.frozen(_at(end + timedelta(days=1))):
        assert policy.effective_level(f) == Level.INTERNAL  # 内部, not 公开
        assert policy.can_read_file(w.sales2, f)  # internal: no knowledge scope needed
        assert files.tick(session, clock.now()) == {"file.declassify": 1}
    session.refresh(f)
    assert f.level == Level.SECRET  # the original mark stays on the record


def test_R_FILE_3_copy_of_a_confidential_file_needs_the_managers_approval(
        cleared, session, upload):  # noqa: F811
    w = cleared
    f = upload(w.manager, Level.CONFIDENTIAL)
    assert policy.can_read_file(w.manager, f)
    with pytest.raises(DomainError):  # no approved copy request: no download
        files.open_download(session, w.manager, f.id)
    req = files.request_copy(session, w.manager, f.id, "董事会材料")
    with pytest.raises(DomainError):  # nobody approves their own request
        files.decide_copy(session, w.manager, req.id, True)
    with pytest.raises(DomainError):  # a salesperson approves nothing
        files.decide_copy(session, w.sales1, req.id, True)
    token = files.decide_copy(session, w.gm, req.id, True)
    with clock.frozen(clock.now() + timedelta(seconds=5)):
        copy, content, name = files.open_download(session, w.manager, f.id, token=token)
    assert copy.id == f.id and content
    assert "机密" in name or "confidential" in name.lower()  # the level on the copy's name
    with pytest.raises(DomainError):  # the token works once
        files.open_download(session, w.manager, f.id, token=token)


FILES = "{ files(first: 50) { edges { node { databaseId title } } } }"


def _titles_gql(api, user) -> set[str]:
    out = api(user)(FILES)
    assert "errors" not in out, out
    return {e["node"]["title"] for e in out["data"]["files"]["edges"]}


def test_R_FILE_1_standalone_public_and_internal_files_are_read_by_all_active_staff(
        cleared, session, upload, login, api):  # noqa: F811
    w = cleared
    public = upload(w.gm, Level.PUBLIC, title="公司简介")
    internal = upload(w.manager, Level.INTERNAL, title="2025年度销售政策")
    attached = upload(w.sales1, Level.INTERNAL, title="客户往来函",
                      customer_id=w.customers["sales1"][0].id)
    # sales4 (another department), customer service and reception: the company's documents
    for user in (w.sales4, w.service, w.reception, w.finance):
        assert policy.can(user, "file.view", public) and policy.can_read_file(user, public)
        assert policy.can(user, "file.view", internal), user.username
        assert not policy.can(user, "file.view", attached), user.username  # customer's scope
        titles = _titles_gql(api, user)
        assert {"公司简介", "2025年度销售政策"} <= titles and "客户往来函" not in titles
        page = login(user).get("/admin/file/").get_data(as_text=True)
        assert "公司简介" in page and "2025年度销售政策" in page and "客户往来函" not in page
        assert login(user).get(f"/files/{public.id}/download").status_code == 200
    # the attached file follows its customer's scope
    assert policy.can(w.sales1, "file.view", attached)
    # administrators hold no business reading (三员分立)
    assert not policy.can(w.sysadmin, "file.view", public)
