"""Data and GraphQL documents that a hand-built JSON statement tends to get wrong (issue 21:
one SQL statement per GraphQL list on PostgreSQL, ``GRAPHQL_JSON_STATEMENT``).

The rows: text that JSON must escape (quotes, backslash, control characters, emoji, U+2028),
money with and without decimals (zero, cents, near the column's maximum), datetimes with
microseconds, every enum value, customers without an owner, credit line or complaint, a
deactivated owner, ties for every ordering, classified files, a supervisor's own customer in
another department and an archive on loan (R-CUST-9).

The documents: aliases, the same field twice, fragments and inline fragments, ``__typename``,
variables (also inside input objects and directives), pagination, filters, search, presets,
orderings, field groups a role may not read, and requests that must fail the same way."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from sqlalchemy.orm import Session

from models import Complaint, CreditLine, Customer, CustomerContact, User
from models.enums import Level
from tests.factories import make_customer, make_user
from tests.graphql.data import add_complaint, add_credit, add_file, populate

# Every rule that depends on the time of day reads this moment (``clock.frozen``); the rows'
# own dates are placed around it.
ANCHOR = datetime(2026, 3, 10, 1, 2, 3, 456789, tzinfo=UTC)

# Characters a JSON builder must escape or keep: quote, backslash, slash, every kind of line
# break (U+2028 and U+2029 are legal in JSON but not in JavaScript), control characters, DEL,
# emoji (a surrogate pair in UTF-16; a ZWJ family), a character outside the BMP, a combining
# accent, HTML that must stay text, and the JSON-looking text a builder might splice.
ODD = ('引号"q" 反斜杠\\ /slash\t制表\n换行\r回车 \x01\x08\x0c\x1f ctl \x7f del '
       '😀👩\u200d👩\u200d👧 \u2028LS\u2029PS 𠀀 e\u0301 </script> {"x": [1]} \\u0041 ')
ODD_NAME = "奇" + ODD.replace("\n", " ").replace("\r", " ")[:150] + "客户"
NAME_TWIN = "同名客户"


@dataclass
class Doc:
    """One GraphQL request of the corpus (``variables`` may be empty)."""

    query: str
    variables: dict[str, Any] = field(default_factory=dict)
    errors_expected: bool = False
    operation: str | None = None  # operationName, for documents with several operations


def build(session: Session, world: SimpleNamespace) -> SimpleNamespace:
    """The world of ``tests/graphql/data.populate`` plus the rows named in the module doc.
    Returns ``world`` with the new rows as attributes."""
    populate(session, world)
    w = world
    s1 = w.sales1
    # the odd customer: every text field full of characters to escape, money and datetimes
    odd = make_customer(session, s1, name=ODD_NAME, notes=ODD, address=ODD[:290],
                        website="https://例子.cn/?q=\"a\"&b=\\", transaction_summary=ODD,
                        kind="special", special_category="会员\"VIP\"", importance="A",
                        intent="hot", status="active", source="referral",
                        registered_at=ANCHOR - timedelta(days=40, microseconds=1),
                        first_contact_at=ANCHOR - timedelta(days=39, seconds=59,
                                                            microseconds=999999),
                        deal_at=ANCHOR - timedelta(days=1, microseconds=500000),
                        last_service_at=ANCHOR - timedelta(hours=5, microseconds=7),
                        ownership_expires_at=ANCHOR + timedelta(days=2),
                        outstanding_balance=Decimal("999999999999.99"))
    session.add(CustomerContact(customer_id=odd.id, name=ODD[:90], title="经理\"总\"\\",
                                phone="13900000001"))
    odd_complaint = add_complaint(session, odd, w.service, handler=w.service)
    odd_complaint.description = ODD
    odd_complaint.resolution = "已解决\u2028第二行"
    odd_complaint.severity = "major"
    odd_complaint.major_reason = ODD[:80]
    odd_complaint.compensation_amount = Decimal("0.50")
    odd_complaint.accused_user_id = s1.id
    big = add_credit(session, odd, w.manager)
    big.limit_amount = Decimal("123456789012.34")
    big.collateral_value = Decimal("0.01")
    big.status = "approved"
    big.approved_by_id = w.gm.id
    big.approved_at = ANCHOR - timedelta(days=2, microseconds=250)
    big.valid_from = date(2026, 3, 1)
    big.valid_until = date(2026, 12, 31)
    zero = add_credit(session, odd, w.manager)
    zero.limit_amount = Decimal("0")
    zero.status = "rejected"
    cents = add_credit(session, w.customers["sales1"][1], w.manager)
    cents.limit_amount = Decimal("1234.5")
    cents.collateral_value = Decimal("99.99")
    cents.kind = "temporary"
    cents.is_raise = True
    cents.raise_reason = ODD[:60]
    # over its limit in force (the OVER_LIMIT preset)
    over = make_customer(session, s1, name="超限客户", outstanding_balance=Decimal("20000.1"),
                         registered_at=ANCHOR - timedelta(days=30))
    line = add_credit(session, over, w.manager)
    line.status = "approved"
    line.approved_by_id = w.gm.id
    line.approved_at = ANCHOR - timedelta(days=3)
    line.valid_from = date(2026, 1, 1)
    line.valid_until = date(2026, 12, 31)
    # nulls and empty lists: no owner, no credit line, no complaint, no contact
    ownerless = make_customer(session, None, branch=w.b1, name="无主客户", notes=None,
                              status="void", importance="D", intent="cold",
                              registered_at=ANCHOR - timedelta(days=400),
                              ownership_expires_at=None)
    bare = make_customer(session, w.sales2, name="空白客户", status="dormant",
                         registered_at=ANCHOR - timedelta(days=200),
                         last_service_at=ANCHOR - timedelta(days=300),
                         outstanding_balance=Decimal("0"))
    # ties for every ordering: same name, same registration moment
    twins = [make_customer(session, s1, name=NAME_TWIN, registered_at=ANCHOR - timedelta(days=10),
                           kind="dealer", importance="B")
             for _ in range(4)]
    # a deactivated owner (their customers keep the owner; bystander tokens skip them)
    ghost = make_user(session, "ghost1", ["sales"], branch=w.b1, full_name="离职\"员工\"",
                      is_active=False)
    ghost_customer = make_customer(session, ghost, name="离职员工的客户",
                                   registered_at=ANCHOR - timedelta(days=20))
    add_complaint(session, ghost_customer, w.service, handler=ghost)
    # the supervisor's own customer in another department (scope "branch" includes own)
    sup_own = make_customer(session, w.supervisor, branch=w.b3, name="主管自己的客户",
                            registered_at=ANCHOR - timedelta(days=15))
    add_credit(session, sup_own, w.manager2)
    # classified files of one customer (no read up, whatever the role)
    c0 = w.customers["sales1"][0]
    add_file(session, c0, s1, Level.SECRET.value)
    add_file(session, c0, w.manager, Level.CONFIDENTIAL.value).responsible_manager_id = \
        w.manager.id
    add_file(session, c0, w.gm, Level.TOP_SECRET.value)
    add_file(session, odd, s1, Level.PUBLIC.value).title = ODD[:100]
    # a complaint on sales1's customer handled in another department
    add_complaint(session, w.customers["sales1"][1], w.service, handler=w.sales4)
    session.commit()
    w.odd, w.over, w.ownerless, w.bare, w.twins = odd, over, ownerless, bare, twins
    w.ghost, w.ghost_customer, w.sup_own = ghost, ghost_customer, sup_own
    w.odd_complaint = odd_complaint
    w.lines = {"big": big, "zero": zero, "cents": cents, "over": line}
    return w


CUSTOMER_ALL = """id databaseId code name kind specialCategory source importance intent status
  effectiveStatus registeredAt firstContactAt ownershipExpiresAt dealAt lastServiceAt closedAt
  notes version"""

# name → function of the world returning the documents (a list, run in order)
CORPUS: dict[str, Any] = {}


def corpus(name: str):
    def register(fn):
        CORPUS[name] = fn
        return fn
    return register


@corpus("aliases_and_repeats")
def _aliases(w) -> list[Doc]:
    return [Doc("""{ a: customers(first: 30, orderBy: CODE_ASC) { totalCount t2: totalCount
        n: nodes { i: id id c: code code name nm: name name
          owner { u: username username } o2: owner { fullName username }
          creditLines { limitAmount } l2: creditLines { id limitAmount status }
          complaints { number } } }
      b: customers(first: 3, orderBy: ID_DESC) { nodes { id name } }
      c: customers(first: 3, orderBy: ID_DESC) { nodes { name id } } }"""),
                Doc("""{ customers(first: 30) { nodes { id owner { id } owner { username } }
                     nodes { name } } }""")]


@corpus("fragments_and_typename")
def _fragments(w) -> list[Doc]:
    return [Doc("""
      fragment Who on User { __typename id username fullName }
      fragment Amounts on CreditLine { limitAmount collateralValue }
      fragment Row on Customer { id name owner { ...Who } }
      query Q { __typename customers(first: 30, orderBy: NAME_ASC) { __typename totalCount
        pageInfo { __typename hasNextPage hasPreviousPage startCursor endCursor }
        edges { __typename cursor node {
          ...Row
          ... on Customer { __typename code status }
          ... on Node { id }
          ... { importance }
          creditLines { ...Amounts ... on CreditLine { __typename status kind }
                        proposedBy { ...Who } }
          complaints { __typename ... on Complaint { number severity } handler { ...Who } }
        } } } }""")]


@corpus("variables_and_directives")
def _variables(w) -> list[Doc]:
    q = """query($first: Int!, $after: String, $f: CustomerFilter, $withOwner: Boolean!,
                 $skipLines: Boolean!, $order: CustomerOrder!) {
      customers(first: $first, after: $after, filter: $f, orderBy: $order) { totalCount
        pageInfo { hasNextPage endCursor }
        nodes { id name status owner @include(if: $withOwner) { username }
                creditLines @skip(if: $skipLines) { limitAmount status }
                complaints @include(if: $withOwner) { number } } } }"""
    nested = """query($s: String, $st: [CustomerStatus!], $imp: [Importance!], $n: Int = 25) {
      customers(first: $n, filter: {search: $s, status: $st, importance: $imp}) {
        totalCount nodes { id name status importance } } }"""
    return [Doc(q, {"first": 30, "f": None, "withOwner": True, "skipLines": False,
                    "order": "ID_ASC"}),
            Doc(q, {"first": 5, "f": {"status": ["ACTIVE", "PROSPECT"]}, "withOwner": False,
                    "skipLines": True, "order": "NAME_ASC"}),
            Doc(q, {"first": 7, "f": {"importance": ["A", "B"], "search": NAME_TWIN},
                    "withOwner": True, "skipLines": True, "order": "REGISTERED_AT_DESC"}),
            Doc(nested, {"s": None, "st": ["VOID", "DORMANT"], "imp": None}),
            Doc(nested, {"s": "客户", "st": None, "imp": ["A", "D"], "n": 3}),
            Doc(nested, {})]


@corpus("escaping")
def _escaping(w) -> list[Doc]:
    return [Doc("""query($s: String) { customers(first: 10, filter: {search: $s}) { totalCount
        nodes { id name notes specialCategory website address transactionSummary
          contacts { name title }
          owner { fullName }
          files { title }
          creditLines { raiseReason }
          complaints { number description resolution majorReason } } } }""",
                {"s": ODD_NAME[:12]}),
                Doc("""{ customers(first: 100) { nodes { id name notes } } }"""),
                Doc("""{ complaints(first: 100) { nodes { id number description resolution
                      majorReason customer { name notes } } } }"""),
                Doc("""query($s: String) { customers(first: 5, filter: {search: $s}) {
                      totalCount nodes { id } } }""", {"s": '"\\\u2028😀%_'})]


@corpus("money_and_datetimes")
def _money(w) -> list[Doc]:
    return [Doc("""{ creditLines(first: 100, orderBy: ID_ASC) { totalCount nodes { id
          databaseId kind limitAmount collateralValue termDays status isRaise effectiveStatus
          proposedAt reviewedAt approvedAt validFrom validUntil version
          evaluation { rating collateralValue avgMonthlyReceipts evaluatedAt }
          customer { id outstandingBalance } } } }"""),
                Doc(f"""{{ customers(first: 100, orderBy: REGISTERED_AT_DESC) {{ nodes {{
          {CUSTOMER_ALL} outstandingBalance
          complaints {{ registeredAt deadlineAt escalatedAt closedAt compensationAmount }}
          creditLines {{ limitAmount approvedAt validUntil }} }} }} }}""")]


@corpus("enums_and_global_ids")
def _enums(w) -> list[Doc]:
    ids = ", ".join(f'n{i}: node(id: "Customer:{c.id}") {{ __typename id '
                    f'... on Customer {{ name status kind owner {{ id }} }} }}'
                    for i, c in enumerate([w.odd, w.ownerless, w.sup_own, w.ghost_customer,
                                           *w.customers["sales4"], *w.customers["sales1"]]))
    return [Doc("""{ customers(first: 100) { nodes { id databaseId kind source importance
          intent status effectiveStatus
          complaints { id channel type cause severity status customer { id } }
          creditLines { id kind status effectiveStatus }
          files { id level effectiveLevel } } } }"""),
                Doc("{ " + ids + " }")]


@corpus("pagination_and_ordering")
def _pagination(w) -> list[Doc]:
    q = """query($first: Int, $after: String, $order: CustomerOrder!) {
      customers(first: $first, after: $after, orderBy: $order) { totalCount
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
        edges { cursor node { id name registeredAt } } } }"""
    return [Doc(q, {"first": n, "order": o})
            for o in ("ID_ASC", "ID_DESC", "NAME_ASC", "CODE_ASC", "REGISTERED_AT_ASC",
                      "REGISTERED_AT_DESC") for n in (1, 3, None)]


@corpus("filters_and_presets")
def _filters(w) -> list[Doc]:
    list_q = """query($f: CustomerFilter) { customers(first: 100, filter: $f) { totalCount
        nodes { id name owner { username } creditLines { limitAmount } } } }"""
    filters: list[dict[str, Any]] = [
        {"owner": f"User:{w.sales1.id}"}, {"owner": str(w.ghost.id)},
        {"branch": f"Branch:{w.b1.id}"}, {"department": f"Department:{w.d2.id}"},
        {"effectiveStatus": ["VOID"]}, {"status": ["ACTIVE"], "importance": ["A"]},
        {"registeredFrom": (ANCHOR - timedelta(days=41)).isoformat(),
         "registeredBefore": (ANCHOR - timedelta(days=10)).isoformat()},
        {"search": "客户"}, {"search": "1380000"}, {"search": ""}]
    filters += [{"preset": p} for p in ("FOLLOW_UP_DUE", "VOID_OR_EXPIRED",
                                        "OWNERSHIP_EXPIRING", "SERVICE_LAPSED", "OVER_LIMIT")]
    docs = [Doc(list_q, {"f": f}) for f in filters]
    docs.append(Doc("""{ complaints(first: 100, filter: {status: [REGISTERED]},
        orderBy: NEWEST_FIRST) { totalCount nodes { id number customer { id name } } }
      creditLines(first: 100, filter: {lineStatus: [APPROVED]}) { totalCount
        nodes { id limitAmount customer { id } } } }"""))
    return docs


@corpus("field_groups")
def _field_groups(w) -> list[Doc]:
    return [Doc("""{ customers(first: 100) { nodes { id name p: phone phone address website
          creditCode outstandingBalance transactionSummary contacts { name phone }
          owner { username }
          complaints { number description accusedUser { username } events { toStatus }
                       satisfaction customer { id outstandingBalance } } } } }"""),
                Doc("""{ complaints(first: 100) { nodes { id number description
          compensationAmount customer { phone } } } }""")]


@corpus("other_lists")
def _other_lists(w) -> list[Doc]:
    return [Doc("""{ complaints(first: 100) { totalCount nodes { id number status
          customer { id name status owner { username } creditLines { limitAmount } }
          handler { username department { name } } receivedBy { id }
          responsibleDepartment { name } } } }"""),
                Doc("""{ creditLines(first: 100) { totalCount nodes { id limitAmount status
          customer { id code complaints { number } }
          approvals { step note at actor { username } } } }
        creditEvaluations(first: 100) { totalCount nodes { id rating collateralValue
          customer { id } evaluatedBy { fullName } } } }"""),
                Doc("""{ files(first: 100) { totalCount nodes { id title level effectiveLevel
          downloadUrl customer { id name } uploadedBy { username } } }
        receptionRecords(first: 100) { totalCount nodes { id customer { id name } } } }"""),
                Doc("""{ users(first: 100) { totalCount nodes { id username fullName
          branch { name } department { code name } } }
        departments(first: 100) { nodes { id code name } }
        branches(first: 100) { nodes { id code name department { id } } } }"""),
                Doc("""{ customers(first: 100) { nodes { id files { id title level }
          receptionRecords { id } followUps { kind user { username } }
          ownerHistory { reason toUser { username } fromUser { id } } } } }""")]


@corpus("errors")
def _errors(w) -> list[Doc]:
    lst = "{ customers(first: %s%s) { totalCount nodes { id name } } }"
    return [Doc(lst % ("1000", ""), errors_expected=True),
            Doc(lst % ("101", ""), errors_expected=True),
            Doc(lst % ("-1", ""), errors_expected=True),
            Doc(lst % ("2", ', after: "not a cursor"'), errors_expected=True),
            Doc(lst % ("2", ', after: "Q3VzdG9tZXI6OTk5OTk5"'), errors_expected=True),
            Doc(lst % ("2", ", last: 2"), errors_expected=True),
            Doc("""{ ok: customers(first: 2) { nodes { id } }
                     bad: customers(first: 500) { nodes { id } } }""", errors_expected=True),
            Doc("""{ customers(first: 3) { nodes { id nope } } }""", errors_expected=True),
            Doc("""query($f: CustomerFilter) { customers(first: 3, filter: $f) {
                     nodes { id } } }""", {"f": {"owner": "Customer:1"}},
                errors_expected=True),
            Doc("""query($f: CustomerFilter) { customers(first: 3, filter: $f) {
                     nodes { id } } }""", {"f": {"status": ["NOT_A_STATUS"]}},
                errors_expected=True)]


def models_by_type() -> dict[str, type]:
    """GraphQL type name → model whose global ids the scope check reads in a body."""
    from models import ConfidentialFile, CreditEvaluation, ReceptionRecord

    return {"Customer": Customer, "Complaint": Complaint, "CreditLine": CreditLine,
            "CreditEvaluation": CreditEvaluation, "ConfidentialFile": ConfidentialFile,
            "ReceptionRecord": ReceptionRecord, "User": User}


@corpus("compiled_levels")
def _compiled(w) -> list[Doc]:
    """Selections made only of ids, strings, enums, numbers, booleans, money and marked
    relationships (no datetime, no guarded or computed field): the shapes a JSON statement
    answers whole, at every depth."""
    return [Doc("""{ customers(first: 100, orderBy: NAME_ASC) { nodes { __typename id databaseId
          code name kind specialCategory source importance intent status notes version
          owner { __typename id databaseId username fullName version
                  branch { id code name department { code name branches { id name } } }
                  department { id name } }
          branch { name } department { code }
          creditLines { id databaseId kind limitAmount termDays collateralValue status isRaise
            raiseReason version
            evaluation { id rating yearsOfCooperation badDebt2y promiseKeeping
                         capitalStrength avgMonthlyShipments avgMonthlyReceipts
                         evaluatedBy { username } }
            proposedBy { username } reviewedBy { username } approvedBy { fullName }
            approvals { step note actor { id } } }
          creditEvaluations { id rating }
          complaints { id number channel type cause severity majorReason status extended
            extensionReason version customer { id name owner { username } }
            receivedBy { username } handler { fullName } responsibleDepartment { name } }
          followUps { kind notes user { username } }
          ownerHistory { reason fromUser { username } toUser { username } changedBy { id } }
        } } }"""),
                Doc("""
      fragment U on User { __typename id username }
      fragment L on CreditLine { limitAmount ... on CreditLine { status } }
      { customers(first: 50, orderBy: ID_DESC) { nodes { ... on Customer { __typename id }
          ... on Node { id } name n2: name owner { ...U } o: owner { ...U fullName }
          creditLines { ...L id } cl: creditLines { id } complaints { ... { number } } } } }"""),
                Doc("""{ complaints(first: 100) { nodes { id number status severity
          customer { id name creditLines { limitAmount } complaints { number } }
          handler { username department { name } } } }
        creditLines(first: 100) { nodes { id limitAmount collateralValue isRaise
          customer { id name owner { username } } approvals { step actor { username } } } }
        creditEvaluations(first: 100) { nodes { id rating yearsOfCooperation
          customer { id code } } } }"""),
                Doc("""{ users(first: 100) { nodes { id username fullName
          branch { name department { name } } department { code branches { code } } } }
        departments(first: 100) { nodes { id code name branches { id code name
          department { id } } } }
        branches(first: 100) { nodes { __typename id code department { __typename code } } } }""")]


@corpus("tricky_selections")
def _tricky(w) -> list[Doc]:
    """Aliases named like other fields (swapped), nested and interface type conditions, the
    same field from a fragment and directly with different sub-selections (merged), eight
    wide and deep lists in one request, an aliased __typename, first: 0, several operations in one document, a compiled list next
    to one that is not (their credit reads end in one audit entry)."""
    two_ops = """query A { customers(first: 2) { nodes { id name } } }
      query B { customers(first: 100, orderBy: NAME_ASC) { nodes { id name
        creditLines { limitAmount } } } }"""
    return [Doc("""{ customers(first: 100) { nodes { name: code code: name id: databaseId
          databaseId: id t: __typename owner: department { name: code }
          department: owner { fullName: username username: fullName }
          creditLines: complaints { number: status status: number }
          complaints: creditLines { limitAmount: status status: limitAmount } } } }"""),
            Doc("""{ customers(first: 100) { nodes { id ... on Node { databaseId: id }
          ... on Customer { ... on Customer { name } ... on Node { __typename } }
          owner { ... on Node { __typename id } ... on User { id username } } } } }"""),
            Doc("{ customers(first: 0) { totalCount nodes { id creditLines { limitAmount } } } }"),
            Doc(two_ops, operation="B"),
            Doc(two_ops, operation="A"),
            Doc("""fragment O on Customer { owner { username } creditLines { status } }
      { customers(first: 100) { nodes { id owner { id } ...O ... on Customer {
          owner { fullName } creditLines { limitAmount } } creditLines { id } } } }"""),
            Doc("{ " + " ".join(
                f"""w{i}: customers(first: 6, orderBy: {o}) {{ nodes {{ id code
                  owner {{ branch {{ department {{ branches {{ code department {{ name }} }} }} }} }}
                  creditLines {{ approvals {{ actor {{ branch {{ department {{ code }} }} }} }}
                                 proposedBy {{ department {{ branches {{ name }} }} }} }}
                  complaints {{ customer {{ creditLines {{ limitAmount }} }} }} }} }}"""
                for i, o in enumerate(["ID_ASC", "ID_DESC", "NAME_ASC", "CODE_ASC"] * 2))
                + " }"),
            Doc("""{ a: customers(first: 100) { nodes { id creditLines { id limitAmount } } }
          b: creditLines(first: 100) { nodes { id limitAmount approvedAt } }
          c: customers(first: 100, orderBy: ID_DESC) { nodes { id registeredAt
                                                         creditLines { limitAmount } } } }""")]


@corpus("datetime_and_date_twins")
def _datetime_twins(w) -> list[Doc]:
    """G1 and G4's shape (``registeredAt``) and every datetime and date column at every level,
    now written by the JSON statement's twins (``json_sql``): microseconds, nulls, dates;
    ``tests/graphql/test_json_twins.py`` adds midnight, before 1970, years 99 and 9999 and a
    session in company time."""
    return [Doc("""query($b: ID) { customers(first: 50, filter: {branch: $b}) { nodes {
          id code name status registeredAt } } }""", {"b": f"Branch:{w.b1.id}"}),
            Doc("""{ customers(first: 100, orderBy: REGISTERED_AT_ASC) { nodes { id code name
          status registeredAt firstContactAt ownershipExpiresAt dealAt lastServiceAt closedAt
          owner { id createdAt: id }
          creditLines { id proposedAt reviewedAt approvedAt validFrom validUntil }
          complaints { id registeredAt deadlineAt escalatedAt closedAt } } } }"""),
            Doc("""{ creditLines(first: 100) { nodes { id validFrom validUntil approvedAt
          customer { id registeredAt dealAt } } }
        complaints(first: 100) { nodes { id registeredAt deadlineAt closedAt
          customer { registeredAt } } } }""")]


# G3 of the benchmark (bench/gql.py ``detail_query``): one customer with its nine relations
DETAIL = """id code name status phone address registeredAt outstandingBalance
  owner { id fullName } contacts { id name phone } ownerHistory { id reason }
  followUps { id kind happenedAt } complaints { id number status description }
  creditEvaluations { id rating } creditLines { id limitAmount status }
  receptionRecords { id kind arrivedAt } files { id title level }"""


def detail_customers(w) -> list[Any]:
    """Customers whose detail differs in a way a one-record statement could get wrong: text
    to escape and amounts (odd), classified files and an archive on loan to sales4
    (sales1's first), a complaint handled in another department (sales1's second), no owner,
    no lists (bare), a deactivated owner, the supervisor's own in another department, and
    rows of another salesperson (hidden from sales1)."""
    return [w.odd, *w.customers["sales1"], w.over, w.ownerless, w.bare, w.ghost_customer,
            w.sup_own, w.customers["sales2"][0], w.customers["sales4"][0]]


@corpus("detail_node")
def _detail(w) -> list[Doc]:
    """``node(id:)`` of one customer with its relations (answered by ONE statement on
    PostgreSQL: graphql_api.json_detail): G3 for every kind of customer, the id inline and as
    a variable, aliases, fragments and __typename, fields decided per complaint row, a field
    without a twin (today's path), and another type's node."""
    docs = [Doc("query($id: ID!) { node(id: $id) { ... on Customer { " + DETAIL + " } } }",
                {"id": f"Customer:{c.id}"}) for c in detail_customers(w)]
    c = w.customers["sales1"][0]
    docs += [
        Doc(f'{{ node(id: "Customer:{w.odd.id}") {{ __typename id ... on Customer {{ {DETAIL} }} '
            '} }'),
        Doc("""fragment C on Customer { n: name phone contacts { name phone title isPrimary }
                 complaints { number description resolution satisfaction compensationAmount
                              handler { username } } }
          query($a: ID!, $b: ID!) { a: node(id: $a) { id ...C }
            b: node(id: $b) { ... on Customer { t: __typename ...C files { title level }
              creditLines { limitAmount } owner { username department { name } } } } }""",
            {"a": f"Customer:{c.id}", "b": f"Customer:{w.customers['sales1'][1].id}"}),
        Doc("query($id: ID!) { node(id: $id) { ... on Customer { id effectiveStatus "
            "creditLines { limitAmount } } } }", {"id": f"Customer:{w.odd.id}"}),
        Doc("query($id: ID!) { node(id: $id) { ... on Complaint { id number description "
            "customer { id name } handler { username } } } }",
            {"id": f"Complaint:{w.odd_complaint.id}"}),
        Doc('{ node(id: "Customer:999999") { id ... on Customer { name phone } } }'),
    ]
    return docs
