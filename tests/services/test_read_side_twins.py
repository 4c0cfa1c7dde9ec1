"""Twin tests (issue 13, architecture principle 4): each portal list preset is the service's SQL
predicate, and the SQL predicate agrees with its Python twin, on the demo data."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from admin_views.customers import CustomerView
from models import Customer
from portal import clock, demo
from portal.services import customers as customer_service
from tests.graphql.conftest import api  # noqa: F401 - the ``api(user)`` fixture


@pytest.fixture
def demo_customers(session):
    demo.load(session)
    return session.scalars(select(Customer)).all()


def _ids(session, condition) -> set[int]:
    return set(session.scalars(select(Customer.id).where(condition)))


def test_R_CUST_4_void_preset_twins_the_service(app, session, demo_customers) -> None:
    now = clock.now()
    service_sql = _ids(session, customer_service.void_or_expired_sql(session, now))
    service_py = {c.id for c in demo_customers
                  if customer_service.is_void(c, now) or customer_service.ownership_expired(c, now)}
    with app.test_request_context():
        portal = _ids(session, CustomerView.presets["void"][1](None))
    assert service_sql == service_py == portal
    void_sql = _ids(session, customer_service.is_void_sql(session, now))
    assert void_sql == {c.id for c in demo_customers if customer_service.is_void(c, now)}
    assert void_sql and void_sql <= portal
    # the derived status, not the stored one, decides
    assert all(customer_service.effective_status(c, now) == "void"
               for c in demo_customers if c.id in void_sql)


def test_R_CUST_4_follow_up_due_preset_twins_the_service(app, session, demo_customers) -> None:
    now = clock.now()
    service_sql = _ids(session, customer_service.follow_up_due_sql(session, now))
    service_py = {c.id for c in demo_customers if customer_service.is_follow_up_due(c, now)}
    with app.test_request_context():
        portal = _ids(session, CustomerView.presets["follow_up_due"][1](None))
    assert service_sql and service_sql == service_py == portal
    # every void card is also due (void is a prospect past its deadline)
    assert _ids(session, customer_service.is_void_sql(session, now)) <= service_sql


def _portal_ids(client, area: str, query: str) -> set[int]:
    """The ids of every row of the portal list ``/admin/<area>/?<query>``, all pages."""
    import re

    ids: set[int] = set()
    page = 0
    while True:
        html = client.get(f"/admin/{area}/?{query}&page_size=100&page={page}"
                          ).get_data(as_text=True)
        found = {int(i) for i in re.findall(rf"/admin/{area}/details/\?id=(\d+)", html)}
        if not found - ids:
            return ids
        ids |= found
        page += 1


def _portal_status_filter_ids(app, client, status: str) -> set[int]:
    """The customer list of the portal filtered on 状态 (the derived status), all pages."""

    from admin_views.common import EffectiveStatusFilter

    view = next(v for v in app.extensions["admin"][0]._views
                if isinstance(v, CustomerView))
    index = next(i for i, f in enumerate(view._filters) if isinstance(f, EffectiveStatusFilter))
    arg = f"flt0_{view.get_filter_arg(index, view._filters[index])}"
    return _portal_ids(client, "customer", f"{arg}={status}")


def test_R_CUST_4_effective_status_is_the_same_in_both_doors(app, session, demo_customers,
                                                             login, api) -> None:  # noqa: F811
    """废卡 and 意向客户 as the service derives them: the portal's 状态 filter, GraphQL's
    ``effectiveStatus`` (field and filter) and the Python twin list the same customers."""
    from models import User

    now = clock.now()
    gm = session.scalars(select(User).where(User.username == "gm")).one()
    portal_client, graphql = login(gm, demo.DEMO_PASSWORD), api(gm)
    for status in ("void", "prospect", "active"):
        service = {c.id for c in demo_customers
                   if customer_service.effective_status(c, now) == status}
        sql = _ids(session, customer_service.effective_status_in_sql(session, [status], now))
        nodes, after = [], None
        while True:
            body = graphql("""query($s: [CustomerStatus!], $a: String) { customers(first: 100,
                after: $a, filter: {effectiveStatus: $s}) { nodes { databaseId effectiveStatus }
                pageInfo { hasNextPage endCursor } } }""", {"s": [status.upper()], "a": after})
            assert "errors" not in body, body
            nodes += body["data"]["customers"]["nodes"]
            info = body["data"]["customers"]["pageInfo"]
            if not info["hasNextPage"]:
                break
            after = info["endCursor"]
        assert {n["effectiveStatus"] for n in nodes} <= {status.upper()}
        portal = _portal_status_filter_ids(app, portal_client, status)
        assert service == sql == {n["databaseId"] for n in nodes} == portal, status
    assert _ids(session, customer_service.effective_status_in_sql(session, ["void"], now))
def test_R_CRED_7_review_due_preset_twins_the_service(app, session, demo_customers) -> None:
    from admin_views.credit import CreditEvaluationView
    from models import CreditEvaluation
    from portal.services import credit, credit_read

    now = clock.now()
    evaluations = session.scalars(select(CreditEvaluation)).all()
    service_sql = set(session.scalars(select(CreditEvaluation.id).where(
        credit_read.evaluation_review_due_sql(session, now))))
    service_py = {e.id for e in evaluations if credit_read.evaluation_review_due(e, now)}
    with app.test_request_context():
        portal = set(session.scalars(select(CreditEvaluation.id).where(
            CreditEvaluationView.presets["review_due"][1](None))))
    assert service_sql and service_sql == service_py == portal
    # one row per customer, the same customers as the customer-level rule (home page)
    customers_due = _ids(session, credit.review_due_clause(session, now))
    by_id = {e.id: e.customer_id for e in evaluations}
    assert sorted(by_id[i] for i in service_sql) == sorted(customers_due)


def test_doors_hold_no_date_arithmetic() -> None:
    """Issue 13: date windows are service predicates; no door computes one with timedelta."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    offenders = [str(p.relative_to(root)) for door in ("admin_views", "graphql_api")
                 for p in (root / door).rglob("*.py") if "timedelta" in p.read_text("utf-8")]
    assert offenders == []


# A status, state or step compared with a literal, a status column filtered on literals, or a
# moment compared in a door: each of these is a derived state, and belongs in a service.
_RULE_IN_DOOR = (
    r"""(status|state\([^)]*\)|\.step|\.outcome)\s*(==|!=|not in|in)\s*[\(\[{]?\s*["']"""
    r"""|\.(status|step)\.(in_|notin_)\(\s*[\(\[]\s*["']"""
    r"""|(clock\.(now|today)\(\)|_at|_on|_until)\s*[<>]=?|[<>]=?\s*clock\.(now|today)\(\)""")


def test_doors_hold_no_status_literal_or_date_comparison() -> None:
    """Issue 13: no door — its Python or its templates — decides a derived state itself
    (``obj.status == "draft"``,
    ``Complaint.status.in_(("registered", …))``, ``deadline_at < clock.now()``): the services'
    predicates do (portal.services.list_presets and the area modules)."""
    import re
    from pathlib import Path

    pattern = re.compile(_RULE_IN_DOOR)
    for sample in ('if obj.status == "draft":', 'Complaint.status.in_(("open", "x"))',
                   "Complaint.deadline_at < clock.now()", 'two_person.state(p) == "pending"'):
        assert pattern.search(sample), sample
    root = Path(__file__).resolve().parents[2]
    offenders = [f"{p.relative_to(root)}:{n}: {line.strip()}"
                 for door in ("admin_views", "graphql_api")
                 for p in sorted([*(root / door).rglob("*.py"), *(root / door).rglob("*.html")])
                 for n, line in enumerate(p.read_text("utf-8").splitlines(), 1)
                 if pattern.search(line)]
    assert offenders == []


def test_calendar_month_arrows_cross_the_year() -> None:
    from portal.services import workcalendar

    assert workcalendar.adjacent_months(2026, 1) == ("2025-12", "2026-02")
    assert workcalendar.adjacent_months(2026, 12) == ("2026-11", "2027-01")


def test_R_CUST_2_claimable_preset_twins_the_service(app, session, demo_customers) -> None:
    from admin_views.customers import _claimable
    from models import User

    now = clock.now()
    service_sql = _ids(session, customer_service.claimable_sql(session, now))
    service_py = {c.id for c in demo_customers if customer_service.is_claimable(c, now)}
    assert service_sql and service_sql == service_py
    branch_id = next(c.branch_id for c in demo_customers if c.id in service_sql)
    user = session.scalars(select(User).where(User.branch_id == branch_id)).first()
    with app.test_request_context():
        portal = _ids(session, _claimable(user))
    assert portal == {c.id for c in demo_customers
                      if c.id in service_sql and c.branch_id == branch_id}


def test_R_CUST_2_home_expiring_list_is_the_list_badge_predicate(session, demo_customers) -> None:
    """The sales home's 建档即将到期 list and the customer list's expiring highlight come from one
    predicate (row_states.ownership_expiring_sql): for every owner, the home list holds exactly
    that owner's customers the row badge marks as expiring."""
    from models import User
    from portal.services import row_states, worklist

    now = clock.now()
    expiring = _ids(session, row_states.ownership_expiring_sql(session, now))
    badges = row_states.customer_states(session, [c.id for c in demo_customers], now)
    assert expiring == {i for i, s in badges.items() if row_states.OWNERSHIP_EXPIRING in s}
    owners = {c.owner_id for c in demo_customers if c.id in expiring}
    assert owners, "the demo has an ownership ending soon"
    for owner in session.scalars(select(User).where(User.id.in_(owners))):
        home = {r.record.id for r in worklist.ownership_expiring(session, owner, now)}
        assert home == {c.id for c in demo_customers
                        if c.id in expiring and c.owner_id == owner.id}


# --- the list presets of portal.services.list_presets: portal list = GraphQL list = service ---


def _portal_list_ids(client, area: str, preset: str) -> set[int]:
    """Every row of the portal's list ``/admin/<area>/?preset=<preset>``, all pages."""
    return _portal_ids(client, area, f"preset={preset}")


def _graphql_list_ids(graphql, field: str, filter_type: str, preset: str) -> set[int]:
    ids: set[int] = set()
    after = None
    while True:
        body = graphql(f"""query($p: {filter_type}, $a: String) {{ {field}(first: 100, after: $a,
            filter: {{preset: $p}}) {{ nodes {{ databaseId }}
            pageInfo {{ hasNextPage endCursor }} }} }}""", {"p": preset.upper(), "a": after})
        assert "errors" not in body, body
        ids |= {n["databaseId"] for n in body["data"][field]["nodes"]}
        info = body["data"][field]["pageInfo"]
        if not info["hasNextPage"]:
            return ids
        after = info["endCursor"]


# the portal keeps the name the home page links to
PORTAL_NAME = {"void_or_expired": "void"}


def test_customer_presets_are_the_same_in_both_doors(app, session, demo_customers, login,
                                                     api) -> None:  # noqa: F811
    """待回访, 废卡 / 可重新分配, 建档即将到期 (R-CUST-2), 服务不到位 (R-CUST-5) and 超额度
    (R-CRED-8): the portal list, the GraphQL list, the SQL predicate and the Python twin
    select the same customers on the demo data."""
    from graphql_api.filters import CustomerPreset
    from models import User
    from portal.services import list_presets

    assert {p.value for p in CustomerPreset} == set(list_presets.CUSTOMER_PRESETS)
    now = clock.now()
    gm = session.scalars(select(User).where(User.username == "gm")).one()
    portal_client, graphql = login(gm, demo.DEMO_PASSWORD), api(gm)
    counts = {}
    for name, preset in list_presets.CUSTOMER_PRESETS.items():
        sql = _ids(session, preset.sql(session, now))
        twin = {c.id for c in demo_customers if preset.twin(session, c, now)}
        portal = _portal_list_ids(portal_client, "customer", PORTAL_NAME.get(name, name))
        graph = _graphql_list_ids(graphql, "customers", "CustomerPreset", name)
        assert sql == twin == portal == graph, name
        counts[name] = len(sql)
    assert all(counts.values()), counts  # the demo company has rows in every list


def test_complaint_presets_are_the_same_in_both_doors(app, session, demo_customers, login,
                                                      api) -> None:  # noqa: F811
    """处理中 / 超时投诉 (R-COMP-7): no status literal in a door; portal = GraphQL = service."""
    from graphql_api.filters import ComplaintPreset
    from models import Complaint, User
    from portal.services import list_presets

    assert {p.value for p in ComplaintPreset} == set(list_presets.COMPLAINT_PRESETS)
    now = clock.now()
    gm = session.scalars(select(User).where(User.username == "gm")).one()
    portal_client, graphql = login(gm, demo.DEMO_PASSWORD), api(gm)
    complaints = session.scalars(select(Complaint)).all()
    for name, preset in list_presets.COMPLAINT_PRESETS.items():
        sql = set(session.scalars(select(Complaint.id).where(preset.sql(session, now))))
        twin = {c.id for c in complaints if preset.twin(session, c, now)}
        portal = _portal_list_ids(portal_client, "complaint", name)
        graph = _graphql_list_ids(graphql, "complaints", "ComplaintPreset", name)
        assert sql and sql == twin == portal == graph, name


def test_over_limit_list_shows_only_customers_whose_credit_one_may_read(
        session, demo_customers) -> None:
    """超额度 says something about credit: a user without ``credit.view`` on a customer does
    not find it through the preset (either door: one function)."""
    from models import User
    from portal import policy
    from portal.services import list_presets

    everyone = _ids(session, list_presets.CUSTOMER_PRESETS["over_limit"].sql(session, clock.now()))
    assert everyone
    for user in session.scalars(select(User).where(User.is_active.is_(True))):
        found = _ids(session, list_presets.customer_preset_sql(session, user, "over_limit"))
        readable = {c.id for c in demo_customers if c.id in everyone
                    and policy.can(user, "credit.view", c)}
        assert found == readable, user.username


def _portal_search_ids(client, text: str) -> set[int]:
    from urllib.parse import quote

    return _portal_ids(client, "customer", f"search={quote(text)}")


def _graphql_search_ids(graphql, text: str) -> set[int]:
    ids: set[int] = set()
    after = None
    while True:
        body = graphql("""query($s: String, $a: String) { customers(first: 100, after: $a,
            filter: {search: $s}) { nodes { databaseId } pageInfo { hasNextPage endCursor } } }""",
                       {"s": text, "a": after})
        assert "errors" not in body, body
        ids |= {n["databaseId"] for n in body["data"]["customers"]["nodes"]}
        info = body["data"]["customers"]["pageInfo"]
        if not info["hasNextPage"]:
            return ids
        after = info["endCursor"]


def _service_search_ids(session, user, text: str) -> set[int]:
    from portal import policy

    stmt = policy.scope(select(Customer.id), user, Customer, "customer.view")
    return set(session.scalars(stmt.where(customer_service.search_condition(user, text))))


def test_R_CUST_1_customer_search_is_the_same_in_both_doors(app, session, demo_customers,
                                                            login, api) -> None:  # noqa: F811
    """``customers.search_condition``: the portal's search box and GraphQL ``filter.search``
    find the same customers — name or code prefix (normalised: full-width and spaces do not
    matter), exact phone — and not a piece from the middle of a name (prefix, indexed)."""
    from models import User
    from portal.normalize import normalize_name

    gm = session.scalars(select(User).where(User.username == "gm")).one()
    client, graphql = login(gm, demo.DEMO_PASSWORD), api(gm)
    named = next(c for c in demo_customers if len(c.name) >= 6 and c.phone)
    middle = named.name[3:6]
    terms = [named.name[:2], f" {named.name[:3]} ", named.code[:6], named.phone, middle]
    for text in terms:
        service = _service_search_ids(session, gm, text)
        assert _portal_search_ids(client, text) == _graphql_search_ids(graphql, text) == service, \
            text
    assert named.id in _service_search_ids(session, gm, named.phone)
    assert named.id in _service_search_ids(session, gm, named.name[:2])
    # prefix, not "%term%": the middle of a name finds only names that start with it
    assert all(normalize_name(c.name).startswith(normalize_name(middle))
               or c.code.startswith(middle.upper())
               for c in demo_customers if c.id in _service_search_ids(session, gm, middle))


def test_R_CUST_1_search_by_phone_needs_the_contact_field_group(app, session, demo_customers,
                                                                login, api) -> None:  # noqa: F811
    """Who may see a customer but not its contacts finds it by name, never by its phone, in
    either door (no search oracle on a hidden field)."""
    from models import User
    from portal import policy

    for user in session.scalars(select(User).where(User.is_active.is_(True))):
        hidden = [c for c in demo_customers if c.phone and policy.can(user, "customer.view", c)
                  and not policy.can(user, "customer_contact.view", c)]
        if hidden:
            break
    else:
        pytest.skip("no demo user sees a customer without its contacts")
    target = hidden[0]
    assert target.id not in _service_search_ids(session, user, target.phone)
    client, graphql = login(user, demo.DEMO_PASSWORD), api(user)
    assert target.id not in _portal_search_ids(client, target.phone)
    assert target.id not in _graphql_search_ids(graphql, target.phone)
    by_name = target.name[:4]
    assert target.id in _portal_search_ids(client, by_name) & _graphql_search_ids(graphql, by_name)


def test_R_FILE_4_declassified_files_are_the_same_in_both_doors(app, session, demo_customers,
                                                                login, api) -> None:  # noqa: F811
    """已过保密期限: portal list, GraphQL list, SQL predicate and Python twin; both doors show
    the level in force from ``files.effective_level``."""
    from graphql_api.filters import FilePreset
    from models import ConfidentialFile, User
    from models.enums import Level
    from portal.services import files, list_presets

    assert {p.value for p in FilePreset} == set(list_presets.FILE_PRESETS)
    now = clock.now()
    gm = session.scalars(select(User).where(User.username == "gm")).one()
    client, graphql = login(gm, demo.DEMO_PASSWORD), api(gm)
    every = session.scalars(select(ConfidentialFile)).all()
    preset = list_presets.FILE_PRESETS["declassified"]
    sql = set(session.scalars(select(ConfidentialFile.id).where(preset.sql(session, now))))
    twin = {f.id for f in every if preset.twin(session, f, now)}
    visible = set(session.scalars(list_presets.policy.scope(
        select(ConfidentialFile.id), gm, ConfidentialFile, "file.view")))
    portal = _portal_list_ids(client, "file", "declassified")
    graph = _graphql_list_ids(graphql, "files", "FilePreset", "declassified")
    assert sql and sql == twin
    assert portal == graph == sql & visible
    levels = {f.id: files.effective_level(f) for f in every}
    body = graphql("""{ files(first: 100, filter: {preset: DECLASSIFIED}) { nodes {
        databaseId level effectiveLevel } } }""")
    nodes = body["data"]["files"]["nodes"]
    assert nodes
    for node in nodes:
        assert node["effectiveLevel"] != node["level"]
        assert node["effectiveLevel"] == Level(levels[node["databaseId"]]).name


def test_R_FILE_3_download_mode_is_one_decision_for_both_doors(app, session, demo_customers,
                                                               login, api) -> None:  # noqa: F811
    """GraphQL ``downloadUrl`` is set exactly where the portal shows 下载 (direct download), and
    the portal shows 申请复制/下载 where ``files.download_mode`` asks for a copy approval."""
    from graphql_api.ids import to_global as gid
    from models import ConfidentialFile, User
    from portal.services import files

    gm = session.scalars(select(User).where(User.username == "gm")).one()
    client, graphql = login(gm, demo.DEMO_PASSWORD), api(gm)
    modes: dict[str | None, int] = {}
    for f in session.scalars(select(ConfidentialFile).order_by(ConfidentialFile.id)):
        mode = files.download_mode(gm, f)
        modes[mode] = modes.get(mode, 0) + 1
        body = graphql("""query($id: ID!) { node(id: $id) { ... on ConfidentialFile {
            downloadUrl } } }""", {"id": gid("ConfidentialFile", f.id)})
        node = body["data"]["node"]
        if node is None:  # outside gm's reading (no read up): neither door offers it
            continue
        assert (node["downloadUrl"] is not None) == (mode == files.DIRECT), f.id
        page = client.get(f"/admin/file/details/?id={f.id}").get_data(as_text=True)
        assert (f"/files/{f.id}/download" in page) == (mode == files.DIRECT), f.id
        assert ("申请复制/下载" in page) == (mode == files.NEEDS_COPY_APPROVAL), f.id
    assert modes.get(files.DIRECT) and modes.get(files.NEEDS_COPY_APPROVAL), modes


def test_R_FILE_6_opening_a_file_is_audited_the_same_way_in_both_doors(
        app, session, demo_customers, login, api) -> None:  # noqa: F811
    from graphql_api.ids import to_global as gid
    from models import AuditEntry, ConfidentialFile, User

    gm = session.scalars(select(User).where(User.username == "gm")).one()
    client, graphql = login(gm, demo.DEMO_PASSWORD), api(gm)
    f = session.scalars(select(ConfidentialFile).order_by(ConfidentialFile.id)).first()

    def views() -> int:
        session.expire_all()
        return len(session.scalars(select(AuditEntry).where(
            AuditEntry.action == "file.view", AuditEntry.target_id == str(f.id),
            AuditEntry.actor_id == gm.id)).all())

    before = views()
    assert client.get(f"/admin/file/details/?id={f.id}").status_code == 200
    assert views() == before + 1
    body = graphql("""query($id: ID!) { node(id: $id) { id } }""",
                   {"id": gid("ConfidentialFile", f.id)})
    assert body["data"]["node"] is not None
    assert views() == before + 2


def test_graphql_preset_values_carry_the_services_descriptions(app) -> None:
    """Each preset of the API schema says what the list holds and its rule (English: the API's
    language), taken from ``list_presets``; the portal names the same presets in Chinese."""
    import re

    from admin_views.complaints import ComplaintView
    from admin_views.customers import CustomerView
    from admin_views.files import ConfidentialFileView
    from graphql_api.schema import schema
    from portal.services import list_presets

    tables = {"CustomerPreset": list_presets.CUSTOMER_PRESETS,
              "ComplaintPreset": list_presets.COMPLAINT_PRESETS,
              "FilePreset": list_presets.FILE_PRESETS}
    for type_name, table in tables.items():
        values = schema._schema.type_map[type_name].values
        assert {v.value for v in values.values()} == set(table)
        for value in values.values():
            assert value.description and table[value.value].rule in value.description
    for view, table in ((CustomerView, list_presets.CUSTOMER_PRESETS),
                        (ComplaintView, list_presets.COMPLAINT_PRESETS),
                        (ConfidentialFileView, list_presets.FILE_PRESETS)):
        for name in table:
            name = "void" if name == "void_or_expired" else name  # the home page's link name
            with app.test_request_context():
                label = str(view.presets[name][0])  # the default language: Chinese
            assert re.search(r"[\u4e00-\u9fff]", label), (view.__name__, name, label)


@pytest.mark.parametrize("username", ["gm", "supervisor1", "sales1"])
def test_R_CUST_4_void_and_due_counts_agree_per_role(
        app, session, demo_customers, login, api, username, capsys) -> None:  # noqa: F811
    """The note's figures, per role: void cards (the derived status), 废卡 / 可重新分配 and 待回访
    in the portal list, the GraphQL list and the service, each in the user's scope."""
    from models import User
    from portal import policy
    from portal.services import list_presets

    user = session.scalars(select(User).where(User.username == username)).one()
    portal_client, graphql = login(user, demo.DEMO_PASSWORD), api(user)
    now = clock.now()
    visible = set(session.scalars(policy.scope(select(Customer.id), user, Customer,
                                               "customer.view")))
    figures = {}
    for name in ("void_or_expired", "follow_up_due"):
        service = visible & _ids(session, list_presets.customer_preset_sql(session, user, name,
                                                                           now))
        portal = _portal_list_ids(portal_client, "customer", PORTAL_NAME.get(name, name))
        graph = _graphql_list_ids(graphql, "customers", "CustomerPreset", name)
        assert service == portal == graph, (username, name)
        figures[name] = len(service)
    void = visible & {c.id for c in demo_customers
                      if customer_service.effective_status(c, now) == "void"}
    body = graphql("""{ customers(first: 100, filter: {effectiveStatus: [VOID]}) {
        nodes { databaseId } } }""")
    assert "errors" not in body, body
    graph = {n["databaseId"] for n in body["data"]["customers"]["nodes"]}
    assert void == graph == _portal_status_filter_ids(app, portal_client, "void"), username
    figures["void"] = len(void)
    with capsys.disabled():
        print(f"\n{username}: {figures}")
