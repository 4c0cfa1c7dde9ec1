"""Demo data: the company, its organisation and staff, and the demo logins."""

from __future__ import annotations

from dataclasses import dataclass

from models.enums import Level, Role

COMPANY_NAME = "华东汽车销售服务有限公司"
DEMO_DEPARTMENT_CODE = "HD-XS1"
DEMO_PASSWORD = "Demo-2026-pass"
# R-ROLE-6: the demo administrators and the general manager sign in with two factors; they
# come enrolled with this key (development only, printed by `make run`): add it to an
# authenticator app, or print the current code with `flask --app wsgi portal demo-code`
DEMO_TOTP_SECRET = "HUADONGAUTODEMOKEYDEVELOPMENTXYZ"
SEED = 20260101
CUSTOMER_COUNT = 300


DEPARTMENTS = [("HD-XS1", "销售一部"), ("HD-XS2", "销售二部")]
# branch code, name, department code, city key (for customer addresses)
BRANCHES = [
    ("HD-PD", "浦东旗舰展厅", "HD-XS1", "pudong"),
    ("HD-MH", "闵行展厅", "HD-XS1", "minhang"),
    ("HD-SZ", "苏州园区展厅", "HD-XS2", "suzhou"),
]


@dataclass(frozen=True)
class StaffSpec:
    username: str
    full_name: str
    role: Role
    clearance: int
    branch: str | None = None        # branch code
    department: str | None = None    # department code (derived from the branch when omitted)
    active: bool = True
    title: str = ""


_I, _S, _C, _T = (Level.INTERNAL.value, Level.SECRET.value, Level.CONFIDENTIAL.value,
                  Level.TOP_SECRET.value)

STAFF: list[StaffSpec] = [
    StaffSpec("sales1", "张伟", Role.SALES, _S, "HD-PD", title="金牌销售顾问"),
    StaffSpec("sales2", "王芳", Role.SALES, _I, "HD-PD"),
    StaffSpec("sales3", "李娜", Role.SALES, _I, "HD-MH"),
    StaffSpec("sales4", "刘洋", Role.SALES, _S, "HD-MH"),
    StaffSpec("sales5", "陈静", Role.SALES, _I, "HD-SZ"),
    StaffSpec("sales6", "杨磊", Role.SALES, _I, "HD-SZ"),
    StaffSpec("supervisor1", "周敏", Role.SUPERVISOR, _S, "HD-PD"),
    StaffSpec("supervisor2", "吴刚", Role.SUPERVISOR, _S, "HD-MH"),
    StaffSpec("supervisor3", "徐丽", Role.SUPERVISOR, _S, "HD-SZ"),
    StaffSpec("manager1", "孙建国", Role.DEPT_MANAGER, _C, department="HD-XS1"),
    StaffSpec("manager2", "马晓燕", Role.DEPT_MANAGER, _C, department="HD-XS2"),
    StaffSpec("gm", "黄志明", Role.GENERAL_MANAGER, _T, department="HD-XS1"),
    StaffSpec("finance1", "朱红梅", Role.FINANCE, _S, department="HD-XS1"),
    StaffSpec("service1", "胡婷", Role.SERVICE, _I, department="HD-XS1"),
    StaffSpec("service2", "郭涛", Role.SERVICE, _I, department="HD-XS1"),
    StaffSpec("reception1", "林晓", Role.RECEPTION, _I, "HD-PD"),
    StaffSpec("reception2", "何静", Role.RECEPTION, _I, "HD-MH"),
    StaffSpec("reception3", "高洁", Role.RECEPTION, _I, "HD-SZ"),
    StaffSpec("auditor1", "罗军", Role.AUDITOR, _T, department="HD-XS1"),
    StaffSpec("sysadmin1", "郑浩", Role.SYSADMIN, _I),
    StaffSpec("secadmin1", "梁勇", Role.SECADMIN, _I),
    StaffSpec("secauditor1", "宋佳", Role.SECAUDITOR, _I),
    # A salesperson who left 20 days ago: account deactivated, customers redistributed at
    # random among the branch's remaining salespeople (R-ROLE-4, R-CUST-6).
    StaffSpec("zhaoqiang", "赵强", Role.SALES, _I, "HD-PD", active=False),
]

_ROLE_ZH = {
    Role.SALES: "销售顾问", Role.SUPERVISOR: "展厅主管", Role.DEPT_MANAGER: "部门经理",
    Role.GENERAL_MANAGER: "总经理", Role.FINANCE: "财务信用主管", Role.SERVICE: "客服专员",
    Role.RECEPTION: "前台", Role.AUDITOR: "审计员", Role.SYSADMIN: "系统管理员",
    Role.SECADMIN: "安全保密管理员", Role.SECAUDITOR: "安全审计员",
}
_BRANCH_NAMES = {code: name for code, name, _d, _c in BRANCHES}
_DEPT_NAMES = dict(DEPARTMENTS)


def _describe(s: StaffSpec) -> str:
    if s.branch:
        where = _BRANCH_NAMES[s.branch]
    elif s.role == Role.DEPT_MANAGER and s.department:
        where = _DEPT_NAMES[s.department]
    else:
        where = "公司"
    return f"{s.full_name}（{where}·{_ROLE_ZH[s.role]}）"


def _first_of_each_role() -> list[StaffSpec]:
    seen: dict[Role, StaffSpec] = {}
    for s in STAFF:
        if s.active and s.role not in seen:
            seen[s.role] = s
    return [seen[r] for r in Role]


# One login per role of domain.md: (username, role, password, description in Chinese).
# Every other active demo account (sales2…sales6, supervisor2, …) has the same password.
DEMO_LOGINS: list[tuple[str, str, str, str]] = [
    (s.username, s.role.value, DEMO_PASSWORD, _describe(s)) for s in _first_of_each_role()
]
# Every demo account that can sign in.
DEMO_USERNAMES: list[str] = [s.username for s in STAFF if s.active]
