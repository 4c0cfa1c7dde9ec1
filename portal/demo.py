"""Demo data: 华东汽车销售服务有限公司, a car dealer group with two sales departments and three
showrooms, and ~300 customer archives that show every rule of domain.md in action.

``load(session)`` is idempotent (a second run adds nothing) and reproducible: a fixed random
seed, with every date placed relative to ``clock.now()`` so that "overdue", "void card",
"review due" and "ownership expired" stay true whenever the demo is loaded.

The rows are written through the models directly (not the services), in one transaction and a
handful of flushes, so loading takes a second or two on SQLite. Classified files are added by
the files area, not here.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from models import (
    Branch,
    Complaint,
    ComplaintCounter,
    ComplaintEvent,
    ComplaintReminder,
    CreditApproval,
    CreditEvaluation,
    CreditLine,
    CreditUsageReview,
    Customer,
    CustomerContact,
    CustomerTransaction,
    Department,
    FollowUp,
    OwnerChange,
    ReceptionRecord,
    RoleAssignment,
    RotationSlot,
    User,
)
from models.enums import (
    CapitalStrength,
    ComplaintStatus,
    CreditLineKind,
    CreditLineStatus,
    CustomerKind,
    CustomerSource,
    FollowUpKind,
    Level,
    Quality3,
    Rating,
    ReceptionOutcome,
    Role,
    TransactionKind,
    Venue,
)
from portal import audit, clock, settings
from portal.normalize import normalize_credit_code, normalize_name, normalize_phone
from portal.passwords import hash_password
from portal.services import calendar

COMPANY_NAME = "华东汽车销售服务有限公司"
DEMO_DEPARTMENT_CODE = "HD-XS1"
DEMO_PASSWORD = "Demo-2026-pass"
SEED = 20260101
CUSTOMER_COUNT = 300

# ---------------------------------------------------------------------------------------------
# Organisation and staff
# ---------------------------------------------------------------------------------------------

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

# ---------------------------------------------------------------------------------------------
# Word pools for names, addresses and texts
# ---------------------------------------------------------------------------------------------


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余"
            "杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛段雷侯龙"
            "史陶黎贺顾毛郝龚邵万钱严武戴莫孔汤")
GIVEN = _words("伟 芳 秀英 敏 静 丽 强 磊 军 洋 勇 艳 杰 娟 涛 明 超 霞 平 刚 桂英 建华 建国 志强 晓东 "
               "海燕 丹 玲 萍 红 鹏 斌 宇 浩 凯 俊 帆 欣怡 子涵 雨桐 梓萱 一诺 思远 浩然 宇轩 嘉怡 文博 "
               "晨曦 佳琪 婷婷 晓明 国庆 春梅 秀兰 玉兰 志明 建军 永红 立新 卫东 海波 金龙 美玲 慧敏 "
               "晓峰 德华 振宇 雪梅 丽华 光辉 宏伟 晓燕 亚楠 思琪 子轩 梦琪 佳怡 俊杰 天宇 家豪")

COMPANY_WORDS = _words("宏达 鑫源 恒通 华瑞 金桥 东方 瑞丰 德胜 永盛 中联 新天 锦程 博远 天成 久隆 明辉 "
                       "安信 万通 盛世 嘉禾 宝隆 祥和 富阳 汇通 远航 卓越 联创 兴业 骏马 星辰 同舟 和信 "
                       "众鑫 金鼎 华诚 鼎盛 润泽 海纳 启明 晟达 凯旋 弘毅 蓝海 翔宇 鸿运 亿丰 信达 新锐")
END_TRADES = ("物流有限公司", "建设工程有限公司", "商贸有限公司", "科技有限公司", "旅游客运有限公司",
              "出租汽车有限公司", "电子有限公司", "食品有限公司", "医疗器械有限公司", "物业管理有限公司")
DEALER_TRADES = ("汽车销售有限公司", "汽车贸易有限公司", "汽车服务有限公司", "二手车经纪有限公司")
SUPPLIER_TRADES = ("汽车配件有限公司", "轮胎有限公司", "汽车用品有限公司", "润滑油有限公司",
                   "汽车电子有限公司")
SPECIALS = (("lawyer", "律师事务所", "31"), ("bank", "银行股份有限公司{district}支行", "91"),
            ("insurer", "财产保险股份有限公司{city}分公司", "91"), ("advisor", "管理咨询有限公司", "91"))

# city key → [(city, district, region code, roads)]
PLACES: dict[str, list[tuple[str, str, str, tuple[str, ...]]]] = {
    "pudong": [("上海市", "浦东新区", "310115", ("张杨路", "世纪大道", "川沙路", "金科路", "杨高中路")),
               ("上海市", "徐汇区", "310104", ("漕溪北路", "虹桥路", "龙华中路")),
               ("上海市", "黄浦区", "310101", ("西藏中路", "陆家浜路"))],
    "minhang": [("上海市", "闵行区", "310112", ("七莘路", "虹井路", "都市路", "沪闵路")),
                ("上海市", "松江区", "310117", ("人民北路", "广富林路")),
                ("上海市", "嘉定区", "310114", ("城中路", "墨玉南路"))],
    "suzhou": [("苏州市", "工业园区", "320571", ("星湖街", "苏州大道东", "现代大道")),
               ("苏州市", "吴中区", "320506", ("东吴北路", "宝带西路")),
               ("昆山市", "玉山镇", "320583", ("前进中路", "朝阳西路")),
               ("无锡市", "梁溪区", "320213", ("中山路", "解放南路"))],
}

TITLES = ("总经理", "采购经理", "财务经理", "行政主管", "车队队长", "副总经理")
CARS = ("紧凑型轿车", "中级轿车", "7座SUV", "新能源轿车", "插混SUV", "轻型商用车", "MPV")
PURPOSES_WALK_IN = ("看车试驾", "咨询新能源车型价格", "询问置换补贴政策", "咨询贷款购车方案",
                    "比较SUV车型配置", "了解现车库存")
PURPOSES_CALL = ("电话咨询报价", "预约周末试驾", "询问到店活动", "咨询保养套餐")
PURPOSES_RETURN = ("二次到店洽谈", "签订购车合同", "提车", "商谈精品加装", "车辆首保")
PURPOSES_BUSINESS = ("批量采购洽谈", "配件供货洽谈", "合作协议续签", "对账结算")
FOLLOW_NOTES = {
    FollowUpKind.CALL: ("电话回访，客户仍在比较车型", "电话确认到店时间", "客户表示预算有调整",
                        "电话回访用车情况，客户满意"),
    FollowUpKind.VISIT: ("客户到店试驾", "上门拜访，沟通采购计划", "客户到店谈价格"),
    FollowUpKind.WECHAT: ("微信发送最新报价单", "微信沟通金融方案", "微信推送车型视频"),
    FollowUpKind.SMS: ("短信通知店内促销活动", "短信节日问候"),
    FollowUpKind.INVITATION: ("邀请参加周末新车品鉴会", "邀请参加车主自驾游活动"),
    FollowUpKind.EMAIL: ("发送企业采购方案邮件", "邮件发送合同草稿"),
}

COMPLAINT_TEXTS: dict[str, tuple[tuple[str, str], ...]] = {
    # cause → ((description, resolution), …)
    "quality": (("新车交付一周内发动机故障灯亮起，客户要求检查并给出说法。",
                 "免费检测并更换故障传感器，赠送一次常规保养。"),
                ("车辆行驶中底盘异响，多次进店未能修复。",
                 "联系厂家技术支持彻底排查，更换悬挂衬套，延长该部件质保一年。"),
                ("空调制冷效果差，客户怀疑加装件为翻新件。",
                 "出具配件来源证明并更换全新压缩机。")),
    "service": (("保养预约后到店等待超过2小时无人接待。",
                 "向客户致歉，赠送下次保养工时费全免。"),
                ("维修交车后车内有油污，未做清洁。", "免费精洗内饰一次并致歉。")),
    "attitude": (("销售顾问在客户询问优惠时态度冷淡、言语不耐烦。",
                  "对当事员工批评教育，由展厅主管上门致歉。"),
                 ("客服电话接听不礼貌，多次挂断客户电话。", "对当事员工进行服务规范培训并致歉。")),
    "delivery": (("约定交车日期延误两周，未提前告知客户。",
                  "补偿延期交车期间代步车费用，并赠送一年道路救援服务。"),
                 ("交车时随车资料（合格证）缺失，无法上牌。", "三个工作日内补齐随车资料并协助上牌。")),
    "billing": (("购车发票金额与合同金额不符。", "重新开具发票并书面说明差异原因。"),
                ("保险费用多收500元。", "退还多收保险费500元并致歉。"),
                ("精品加装未经客户同意计入车款。", "退还加装费用并拆除加装件。")),
    "other": (("展厅停车位不足，建议增加访客车位。", "已协调物业增加10个访客车位。"),
              ("希望增加周末夜间营业时间。", "周六营业时间延长至20:00。")),
}
INQUIRY_TEXTS = (("咨询以旧换新补贴政策的办理流程。", "已电话告知补贴申请流程及所需材料。"),
                 ("询问三年保养套餐包含哪些项目。", "已发送保养套餐明细并电话讲解。"),
                 ("咨询新能源车充电桩安装条件。", "已告知安装条件并预约上门勘测。"))
MAJOR_REASONS = ("客户要求退车（退换货诉求）", "客户已向厂家投诉", "三名以上客户集体投诉",
                 "客户扬言向媒体曝光", "同一问题第二次投诉（重复投诉）")
REJECT_REASONS = ("经调查，车辆损伤系客户自行造成，投诉不成立。",
                  "客户所述优惠承诺无合同依据，经核实投诉不成立。",
                  "经监控录像核实，接待过程无不当言行，投诉不成立。")


# ---------------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------------

_CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def credit_code(rng: random.Random, region: str, prefix: str = "91") -> str:
    """A unified social credit code (GB 32100-2015) with valid check characters: registration
    authority + type (2), region (6), organisation code (9, GB 11714 check), check (1)."""
    body = "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(8))
    s = sum(int(ch, 36) * w for ch, w in zip(body, _ORG_WEIGHTS, strict=True))
    c9 = 11 - s % 11
    org = body + ("X" if c9 == 10 else "0" if c9 == 11 else str(c9))
    code17 = prefix + region + org
    total = sum(_CODE_CHARS.index(ch) * w for ch, w in zip(code17, _CODE_WEIGHTS, strict=True))
    return code17 + _CODE_CHARS[(31 - total % 31) % 31]


_MOBILE_PREFIXES = ([f"13{i}" for i in range(10)] + ["150", "151", "152", "153", "155", "156",
                    "157", "158", "159"] + [f"18{i}" for i in range(10)])


class _Pools:
    """Unique phones, person names and company names."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.phones: set[str] = set()
        self.names: set[str] = set()

    def phone(self) -> str:
        while True:
            p = self.rng.choice(_MOBILE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"
            if p not in self.phones:
                self.phones.add(p)
                return p

    def person(self) -> str:
        while True:
            n = self.rng.choice(SURNAMES) + self.rng.choice(GIVEN)
            if normalize_name(n) not in self.names:
                self.names.add(normalize_name(n))
                return n

    def company(self, fmt: str) -> str:
        while True:
            n = fmt.format(word=self.rng.choice(COMPANY_WORDS))
            if normalize_name(n) not in self.names:
                self.names.add(normalize_name(n))
                return n


@dataclass
class _Cust:
    """A customer being built, with the facts the later generators need."""

    obj: Customer
    branch: str
    person: bool
    owner_timeline: list[tuple[datetime, int]] = field(default_factory=list)
    plan: str = "normal"   # normal | void_new | void_stalled | void_marked | expired | lapsed
    contact_name: str | None = None

    def owner_at(self, t: datetime) -> int:
        owner = self.owner_timeline[0][1]
        for since, uid in self.owner_timeline:
            if since <= t:
                owner = uid
        return owner


# ---------------------------------------------------------------------------------------------
# The loader
# ---------------------------------------------------------------------------------------------


def load(session: Session) -> str:
    """Load the demo company unless it is already there; returns a one-line summary."""
    if session.scalar(select(Department.id).where(Department.code == DEMO_DEPARTMENT_CODE)):
        return "demo data already loaded"
    taken = session.scalars(select(User.username).where(
        User.username.in_([s.username for s in STAFF]))).all()
    if taken:
        return ("demo data not loaded: these usernames already exist: "
                + ", ".join(sorted(taken)))
    builder = _Builder(session)
    with session.no_autoflush:
        counts = builder.build()
    audit.record(session, None, "demo.load", None, actor_name="demo",
                 detail=", ".join(f"{k}={v}" for k, v in counts.items()))
    session.commit()
    from portal.services import files as _files  # classified demo files (files area)

    counts["classified files"] = _files.load_demo_files(session)
    return ("demo data loaded: " + COMPANY_NAME + " — "
            + ", ".join(f"{v} {k}" for k, v in counts.items()))


class _Builder:
    def __init__(self, session: Session) -> None:
        self.s = session
        self.rng = random.Random(SEED)
        self.pools = _Pools(self.rng)
        self.now = clock.now().astimezone(UTC)
        self.today = clock.today()
        self.counts: dict[str, int] = {}
        self.users: dict[str, User] = {}
        self.branches: dict[str, Branch] = {}
        self.departments: dict[str, Department] = {}
        self.customers: list[_Cust] = []
        self.later: dict[type, list[dict]] = defaultdict(list)

    # -- time ------------------------------------------------------------------------------

    def at(self, day: date, hour: int, minute: int = 0) -> datetime:
        return datetime.combine(day, time(hour, minute), clock.COMPANY_TZ).astimezone(UTC)

    def work_time(self, days_ago: float) -> datetime:
        """A moment during opening hours (09:00–18:00 China time) ``days_ago`` days ago,
        never in the future."""
        day = self.today - timedelta(days=int(days_ago))
        t = self.at(day, self.rng.randint(9, 17), self.rng.randrange(0, 60, 5))
        if t > self.now:
            t = self.now - timedelta(minutes=self.rng.randint(20, 120))
        return t

    def deadline(self, registered: datetime, working_days: int) -> datetime:
        """End of the N-th working day after the registration day (R-COMP-2)."""
        day = calendar.add_working_days(self.s, calendar.company_date(registered), working_days)
        return calendar.end_of_company_day(day).astimezone(UTC)

    def uid(self, username: str) -> int:
        return self.users[username].id

    def sales_of(self, branch: str, at: datetime | None = None) -> list[str]:
        names = [s.username for s in STAFF if s.role == Role.SALES and s.branch == branch
                 and (s.active or (at is not None and at < self.left_at))]
        return names

    # -- build -----------------------------------------------------------------------------

    def build(self) -> dict[str, int]:
        self.left_at = self.work_time(20)
        self.org()
        self.make_customers()
        self.follow_ups()
        self.s.flush()
        self.customer_codes()
        # Rows nobody points at go in as plain multi-row INSERTs: the ORM would insert them
        # one by one on SQLite to read each new primary key back.
        for model, rows in self.later.items():
            for row in rows:
                row["customer_id"] = row.pop("_c").obj.id
            self.s.execute(insert(model.__table__), rows)
        self.receptions()
        self.complaints()
        self.credit()
        self.s.flush()
        return self.counts

    def org(self) -> None:
        for code, name in DEPARTMENTS:
            self.departments[code] = Department(code=code, name=name)
        for code, name, dept, _city in BRANCHES:
            self.branches[code] = Branch(code=code, name=name,
                                         department=self.departments[dept])
        pw = hash_password(DEMO_PASSWORD)  # Argon2 is slow on purpose: hash once, reuse
        rows: list[object] = [*self.departments.values(), *self.branches.values()]
        for i, spec in enumerate(STAFF):
            dept_code = spec.department or next(
                (d for c, _n, d, _x in BRANCHES if c == spec.branch), None)
            u = User(username=spec.username, full_name=spec.full_name, password_hash=pw,
                     email=f"{spec.username}@huadong-auto.example.cn",
                     phone=f"021-5888{6000 + i:04d}",
                     department=self.departments.get(dept_code) if dept_code else None,
                     branch=self.branches.get(spec.branch) if spec.branch else None,
                     clearance=spec.clearance, is_active=spec.active)
            u.role_assignments.append(RoleAssignment(role=spec.role.value))
            self.users[spec.username] = u
            rows.append(u)
        self.s.add_all(rows)
        self.s.flush()
        self.counts["users"] = len(STAFF)

    # -- customers -------------------------------------------------------------------------

    def _address(self, city_key: str, person: bool) -> tuple[str, str]:
        city, district, region, roads = self.rng.choice(PLACES[city_key])
        road = self.rng.choice(roads)
        if person:
            addr = (f"{city}{district}{road}{self.rng.randint(100, 3999)}弄"
                    f"{self.rng.randint(1, 60)}号{self.rng.randint(1, 28)}0{self.rng.randint(1, 4)}室")
        else:
            addr = f"{city}{district}{road}{self.rng.randint(1, 2999)}号"
        return addr, region

    def _kind_plan(self) -> list[str]:
        plan = (["person"] * 178 + ["end"] * 52 + ["dealer"] * 30 + ["supplier"] * 22
                + ["special"] * 18)
        self.rng.shuffle(plan)
        return plan[:CUSTOMER_COUNT]

    def make_customers(self) -> None:
        rng = self.rng
        branch_weights = [("HD-PD", 0.4), ("HD-MH", 0.3), ("HD-SZ", 0.3)]
        city_of = {code: city for code, _n, _d, city in BRANCHES}
        for n, kind in enumerate(self._kind_plan(), start=1):
            branch = rng.choices([b for b, _w in branch_weights],
                                 [w for _b, w in branch_weights])[0]
            person = kind == "person"
            addr, region = self._address(city_of[branch], person)
            special_category = None
            code = None
            website = None
            if person:
                name = self.pools.person()
                ckind = CustomerKind.END
            else:
                prefix = "91"
                city_short = addr[:2]
                if kind == "special":
                    special_category, trade, prefix = rng.choice(SPECIALS)
                    ckind = CustomerKind.SPECIAL
                    tmpl = city_short + "{word}" + trade.format(district=addr[3:5],
                                                                city=city_short)
                else:
                    ckind = CustomerKind(kind)
                    trades = {"end": END_TRADES, "dealer": DEALER_TRADES,
                              "supplier": SUPPLIER_TRADES}[kind]
                    tmpl = city_short + "{word}" + rng.choice(trades)
                name = self.pools.company(tmpl)
                code = credit_code(rng, region, prefix)
                if rng.random() < 0.4:
                    website = f"https://www.{kind}{n:03d}.example.cn"
            status, reg = self._status_and_registration(kind)
            phone = self.pools.phone()
            importance = rng.choices("ABCD", [1, 3, 4, 2] if person else [3, 4, 2, 1])[0]
            source = rng.choices(
                [s.value for s in (CustomerSource.WALK_IN, CustomerSource.CALL,
                                   CustomerSource.REFERRAL, CustomerSource.EVENT,
                                   CustomerSource.CAMPAIGN)],
                [5, 3, 2, 1, 1] if person else [2, 3, 2, 2, 1])[0]
            c = Customer(
                code=f"tmp-demo-{n:05d}", name=name, name_normalized=normalize_name(name),
                kind=ckind.value, special_category=special_category, phone=phone,
                phone_normalized=normalize_phone(phone), credit_code=code,
                credit_code_normalized=normalize_credit_code(code), address=addr,
                website=website, source=source, importance=importance,
                intent=rng.choice(["hot", "warm", "warm", "cold"]), status=status,
                branch=self.branches[branch], department=self.branches[branch].department,
                registered_at=reg, created_at=reg, updated_at=reg,
            )
            owner = rng.choice(self.sales_of(branch, reg))
            self.customers.append(_Cust(c, branch, person, [(reg, self.uid(owner))]))
        self._special_cases()
        self._referrals()
        self._redistribution()
        self._finish_customers()

    def _status_and_registration(self, kind: str) -> tuple[str, datetime]:
        rng = self.rng
        if kind == "person":
            status = rng.choices(["active", "prospect", "dormant", "closed"], [45, 40, 10, 5])[0]
        else:
            status = rng.choices(["active", "prospect", "dormant", "closed"], [75, 15, 8, 2])[0]
        if status == "prospect":
            days = rng.uniform(0, 55)
        elif status == "active":
            days = rng.uniform(15, 1000) if kind == "person" else rng.uniform(30, 1800)
        else:
            days = rng.uniform(300, 1100)
        return status, self.work_time(days)

    def _special_cases(self) -> None:
        """Pin the customers that show a time-driven rule (R-CUST-2, R-CUST-4, R-CUST-5)."""
        prospects = [c for c in self.customers if c.obj.status == "prospect" and c.person]
        plans = [("void_new", 12), ("void_stalled", 26), ("void_marked", 40), ("expired", 72)]
        for c, (plan, days) in zip(prospects, plans, strict=False):
            c.plan = plan
            c.obj.registered_at = c.obj.created_at = c.obj.updated_at = self.work_time(days)
            c.owner_timeline = [(c.obj.registered_at, c.owner_timeline[0][1])]
            if plan == "void_marked":
                c.obj.notes = "首次回访后再未跟进，已成废卡，待展厅主管移交其他销售顾问。"
            if plan == "void_new":
                c.obj.source = CustomerSource.WALK_IN.value
                c.obj.notes = "来店登记后未做首次回访。"
            if plan == "expired":
                c.obj.notes = "建档已满两个月仍未成交，建档有效期届满，可被认领或重新分配。"
        # Service lapse: the dormant customers have no service for > 3 months (R-CUST-5);
        # two of them were already reassigned by the department manager.
        for c in [c for c in self.customers if c.obj.status == "dormant"]:
            c.plan = "lapsed"

    def _referrals(self) -> None:
        """老带新: a referred customer belongs to whoever received the referrer (R-CUST-3)."""
        by_branch: dict[str, list[_Cust]] = defaultdict(list)
        for c in self.customers:
            if c.person and c.obj.status == "active":
                by_branch[c.branch].append(c)
        for c in self.customers:
            if c.obj.source != CustomerSource.REFERRAL.value or not c.person or c.plan != "normal":
                continue
            earlier = [r for r in by_branch[c.branch]
                       if r.obj.registered_at < c.obj.registered_at - timedelta(days=30)]
            if not earlier:
                c.obj.source = CustomerSource.WALK_IN.value
                continue
            ref = self.rng.choice(earlier)
            c.obj.referrer = ref.obj
            c.owner_timeline = [(c.obj.registered_at, ref.owner_at(c.obj.registered_at))]
            c.obj.notes = f"老客户{ref.obj.name}介绍。"

    def _redistribution(self) -> None:
        """赵强 left 20 days ago: his customers went at random to the branch's salespeople."""
        zhao = self.uid("zhaoqiang")
        remaining = self.sales_of("HD-PD")
        for c in self.customers:
            if c.owner_timeline[-1][1] == zhao:
                if c.obj.registered_at >= self.left_at:
                    c.owner_timeline = [(c.obj.registered_at, self.uid(self.rng.choice(remaining)))]
                else:
                    c.owner_timeline.append((self.left_at, self.uid(self.rng.choice(remaining))))
        # Two lapsed customers in 闵行 reassigned by the department manager (服务不到位).
        lapsed = [c for c in self.customers if c.plan == "lapsed" and c.branch == "HD-MH"][:2]
        for c in lapsed:
            current = c.owner_timeline[-1][1]
            others = [self.uid(u) for u in self.sales_of("HD-MH") if self.uid(u) != current]
            c.owner_timeline.append((self.work_time(6), self.rng.choice(others)))
            c.plan = "reassigned_lapse"

    def customer_codes(self) -> None:
        """Archive codes as the customers service gives them (``KH`` + id), in one statement."""
        table = Customer.__table__
        rows = [{"cid": c.obj.id, "new_code": f"KH{c.obj.id:08d}"} for c in self.customers]
        self.s.execute(table.update().where(table.c.id == bindparam("cid"))
                       .values(code=bindparam("new_code")), rows)
        for c, row in zip(self.customers, rows, strict=True):
            set_committed_value(c.obj, "code", row["new_code"])

    def _summary(self, o: Customer) -> str:
        """交易概况: what the customer bought or does with the company."""
        rng = self.rng
        since = f"{o.deal_at.astimezone(clock.COMPANY_TZ):%Y-%m}" if o.deal_at else ""
        if o.kind == CustomerKind.SUPPLIER.value:
            return f"{since}起为本公司供货，年采购额约¥{rng.randint(20, 300) * 10000:,}"
        if o.kind == CustomerKind.SPECIAL.value:
            work = {"lawyer": "常年法律顾问", "bank": "汽车消费贷款合作", "insurer": "新车保险合作",
                    "advisor": "经营管理咨询"}[o.special_category or "advisor"]
            return f"{since}起{work}"
        if o.kind == CustomerKind.DEALER.value:
            cars = rng.randint(20, 200)
            return f"{since}起合作，累计提车{cars}台，累计金额¥{cars * rng.randint(10, 25) * 10000:,}"
        cars = rng.randint(1, 2) if o.credit_code is None else rng.randint(3, 40)
        amount = cars * rng.randint(12, 38) * 10000
        return f"{since} 购车{cars}台（{rng.choice(CARS)}），累计金额¥{amount:,}"

    def _finish_customers(self) -> None:
        rng = self.rng
        validity = timedelta(days=int(settings.get(self.s, "customer.ownership_validity_days")))
        contacts: list[dict] = []
        changes: list[dict] = []
        reasons = {
            "zhaoqiang": "原跟进人赵强离职，按制度在本展厅销售顾问中随机抽数分配",
            "reassigned_lapse": "三个月无回访、无邀约（服务不到位），部门经理重新分配",
        }
        for c in self.customers:
            o = c.obj
            o.owner_id = c.owner_timeline[-1][1]
            reg = o.registered_at
            if o.status == "prospect":
                o.ownership_expires_at = reg + validity
                o.intent = rng.choice(["hot", "warm", "warm", "cold"])
            else:
                o.deal_at = min(reg + timedelta(days=rng.uniform(3, 40)),
                                self.now - timedelta(hours=6))
                o.transaction_summary = self._summary(o)
                o.intent = "hot" if o.status == "active" else "cold"
            if o.status == "closed":
                o.closed_at = self.work_time(rng.uniform(30, 200))
                o.notes = ("客户已移居外地，档案关闭（保留）。" if c.person
                           else "公司已注销，档案关闭（保留）。")
            o.first_contact_at = reg
            # contacts
            if not c.person:
                for k in range(rng.randint(1, 3)):
                    name = self.pools.person()
                    if k == 0:
                        c.contact_name = name
                    contacts.append(dict(
                        _c=c, name=name, title=TITLES[k if k < 2 else rng.randint(2, 5)],
                        phone=self.pools.phone(), is_primary=k == 0,
                        email=f"contact{o.code[-5:]}{k}@example.cn"))
            elif rng.random() < 0.25:
                contacts.append(dict(_c=c, name=self.pools.person(), title="家属",
                                     phone=self.pools.phone(), is_primary=False, email=None))
            # owner history (R-CUST-7): the first owner on registration, then every move
            first_at, first_owner = c.owner_timeline[0]
            changes.append(dict(_c=c, from_user_id=None, to_user_id=first_owner,
                                changed_by_id=first_owner, changed_at=first_at,
                                reason="新建档案" if o.source != "referral"
                                else "老带新：归接待介绍人的销售顾问"))
            prev = first_owner
            for since, uid in c.owner_timeline[1:]:
                who = (self.uid("supervisor1") if c.plan != "reassigned_lapse"
                       else self.uid("manager1"))
                reason = reasons["reassigned_lapse" if c.plan == "reassigned_lapse"
                                 else "zhaoqiang"]
                changes.append(dict(_c=c, from_user_id=prev, to_user_id=uid,
                                    changed_by_id=who, changed_at=since, reason=reason))
                prev = uid
        self.s.add_all([c.obj for c in self.customers])
        self.later[CustomerContact] += contacts
        self.later[OwnerChange] += changes
        self.counts["customers"] = len(self.customers)
        self.counts["contacts"] = len(contacts)
        self.counts["owner changes"] = len(changes)

    # -- follow-ups ------------------------------------------------------------------------

    def _kind(self, history: list[str]) -> str:
        kinds = [FollowUpKind.CALL, FollowUpKind.WECHAT, FollowUpKind.VISIT, FollowUpKind.SMS,
                 FollowUpKind.INVITATION, FollowUpKind.EMAIL]
        k = self.rng.choices(kinds, [5, 4, 2, 2, 1, 1])[0].value
        if k == "sms" and history[-2:] == ["sms", "sms"]:
            k = "call"  # three text messages in a row do not count as service (R-CUST-4)
        return k

    def _cadence(self, start: datetime, end: datetime) -> list[datetime]:
        """Follow-ups that keep R-CUST-4: first within 3 days, next within 1 day, then at
        least weekly, the last one less than a week before ``end``."""
        rng = self.rng
        out: list[datetime] = []
        t = start + timedelta(days=rng.uniform(0.2, 2.5))
        if t > end:
            return out
        out.append(t)
        t += timedelta(hours=rng.uniform(4, 22))
        while t <= end:
            out.append(t)
            t += timedelta(days=rng.uniform(2.5, 6.5))
        return out

    def follow_ups(self) -> None:
        rng = self.rng
        rows: list[dict] = []
        for c in self.customers:
            o = c.obj
            reg = o.registered_at
            times: list[datetime]
            if c.plan == "void_new":
                times = []                                   # no first follow-up in 3 days
            elif c.plan == "void_stalled":
                times = self._cadence(reg, reg + timedelta(days=7))   # then silence
            elif c.plan == "void_marked":
                times = [reg + timedelta(days=1.5)]
            elif o.status == "prospect":
                # the cadence restarts with each owner (registration, hand-over)
                bounds = [since for since, _uid in c.owner_timeline] + [self.now]
                times = []
                for a, b in zip(bounds, bounds[1:], strict=False):
                    times += self._cadence(a, b)
            else:
                deal = o.deal_at or reg
                times = self._cadence(reg, deal)
                after = max(deal, self.now - timedelta(days=365))
                if c.plan in ("lapsed", "reassigned_lapse"):
                    stop = self.now - timedelta(days=rng.uniform(100, 200))
                elif o.status == "closed":
                    stop = o.closed_at or self.now
                else:
                    stop = self.now - timedelta(days=rng.uniform(0, 40))
                t = after + timedelta(days=rng.uniform(5, 30))
                while t < stop:
                    times.append(t)
                    t += timedelta(days=rng.uniform(15, 60))
                if o.status == "active" and (not times or times[-1] < stop - timedelta(days=30)):
                    times.append(stop)   # active customers are served (no R-CUST-5 lapse)
                if c.plan == "reassigned_lapse":
                    times.append(c.owner_timeline[-1][0] + timedelta(days=1))
            history: list[str] = []
            mine: list[dict] = []
            for t in times:
                if t > self.now:
                    break
                kind = self._kind(history)
                history.append(kind)
                mine.append(dict(_c=c, user_id=c.owner_at(t), kind=kind, happened_at=t,
                                 notes=rng.choice(FOLLOW_NOTES[FollowUpKind(kind)]),
                                 next_due_at=None))
            baseline = c.owner_timeline[-1][0]
            if mine and mine[-1]["happened_at"] >= baseline:
                mine[-1]["next_due_at"] = self._due(
                    baseline, [(f["happened_at"], f["kind"]) for f in mine
                               if f["happened_at"] >= baseline])
            o.last_service_at = mine[-1]["happened_at"] if mine else None
            rows += mine
        self.later[FollowUp] += rows
        self.counts["follow-ups"] = len(rows)

    def _due(self, baseline: datetime, follow_ups: list[tuple[datetime, str]]) -> datetime:
        """The follow-up deadline in force after these follow-ups (R-CUST-4: first within 3
        days, the next within 1 day, then weekly; a text-message-only run of 3 does not count),
        stored on the latest follow-up as the customers service does."""
        first = timedelta(days=float(settings.get(self.s, "customer.first_follow_up_days")))
        second = timedelta(days=float(settings.get(self.s, "customer.second_follow_up_days")))
        interval = timedelta(days=float(settings.get(self.s,
                                                     "customer.follow_up_interval_days")))
        streak = int(settings.get(self.s, "customer.sms_only_streak"))
        due, counted, run = baseline + first, 0, 0
        before_run = (due, counted)
        for at, kind in follow_ups:
            if at > due:
                return due
            if kind == FollowUpKind.SMS.value:
                if run == 0:
                    before_run = (due, counted)
                run += 1
                if run >= streak:
                    due, counted = before_run
                    continue
            else:
                run = 0
            counted += 1
            due = at + (second if counted == 1 else interval)
        return due

    # -- reception -------------------------------------------------------------------------

    def receptions(self) -> None:
        rng = self.rng
        rows: list[dict] = []
        reception_of = {s.branch: s.username for s in STAFF if s.role == Role.RECEPTION}
        window = self.now - timedelta(days=60)
        venue_of = {"a": Venue.VIP_ROOM.value, "b": Venue.BUSINESS_ROOM.value,
                    "c": Venue.LOUNGE.value}

        def record(c: _Cust | None, branch: str, kind: str, arrived: datetime, *,
                   assigned: int, returning: bool, rotation: bool, outcome: str,
                   designated: int | None = None, purpose: str | None = None,
                   visitor_class: str | None = None) -> None:
            if c is not None:
                person = c.person
                visitor = c.obj.name if person else (c.contact_name or self.pools.person())
                company = None if person else c.obj.name
                phone = c.obj.phone
            else:
                person = True
                visitor, company, phone = self.pools.person(), None, self.pools.phone()
            cls = visitor_class or rng.choices("abc", [1, 3, 6] if person else [2, 6, 2])[0]
            stay = timedelta(minutes=rng.randint(3, 15) if kind == "call"
                             else rng.randint(20, 150))
            rows.append(dict(
                kind=kind, visitor_class=cls,
                venue=Venue.PHONE.value if kind == "call" else venue_of[cls],
                visitor_name=visitor, visitor_company=company, visitor_phone=phone,
                purpose=purpose or rng.choice(PURPOSES_CALL if kind == "call"
                                              else PURPOSES_WALK_IN),
                arrived_at=arrived, departed_at=min(arrived + stay, self.now),
                branch_id=self.branches[branch].id,
                department_id=self.branches[branch].department_id,
                received_by_id=self.uid(reception_of[branch]), assigned_to_id=assigned,
                designated_staff_id=designated, customer_id=c.obj.id if c else None,
                is_returning=returning, used_rotation_turn=rotation, outcome=outcome,
                created_at=arrived, updated_at=arrived))

        # First contact of the customers registered from a visit or a call in the window.
        for c in self.customers:
            o = c.obj
            if o.registered_at < window:
                continue
            if o.source in ("walk_in", "call"):
                kind = "visit" if o.source == "walk_in" else "call"
                named = rng.random() < 0.15
                owner = c.owner_timeline[0][1]
                record(c, c.branch, kind, o.registered_at - timedelta(minutes=rng.randint(10, 40)),
                       assigned=owner, returning=False, rotation=not named,
                       designated=owner if named else None,
                       outcome=ReceptionOutcome.FOLLOW_UP.value)
            # Deals closed in the window happened in the showroom.
            if o.deal_at and o.deal_at >= window:
                record(c, c.branch, "visit", o.deal_at - timedelta(minutes=90),
                       assigned=c.owner_at(o.deal_at), returning=True, rotation=False,
                       outcome=ReceptionOutcome.DEAL.value, purpose="签订购车合同",
                       visitor_class="b" if not c.person else None)
        # Returning visitors (R-RECV-2): linked to their archive, served by the owner.
        regulars = [c for c in self.customers if c.obj.status in ("active", "prospect")
                    and c.plan == "normal"]
        for c in rng.sample(regulars, 70):
            start = max(c.obj.registered_at + timedelta(days=1), window)
            if start >= self.now - timedelta(hours=2):
                continue
            t = start + (self.now - start) * rng.random()
            t = self.at(t.astimezone(clock.COMPANY_TZ).date(), rng.randint(9, 17))
            if t > self.now or t < c.obj.registered_at:
                continue
            kind = rng.choices(["visit", "call"], [3, 1])[0]
            record(c, c.branch, kind, t, assigned=c.owner_at(t), returning=True, rotation=False,
                   outcome=ReceptionOutcome.FOLLOW_UP.value,
                   purpose=rng.choice(PURPOSES_RETURN if c.person else PURPOSES_BUSINESS),
                   visitor_class=None if c.person else rng.choice("ab"))
        # Walk-ins and calls that did not become archives, served in rotation (R-RECV-1).
        for code, *_rest in BRANCHES:
            turn = 0
            for back in range(59, -1, -1):
                day = self.today - timedelta(days=back)
                for _ in range(rng.randint(1, 4) if day.weekday() < 5 else rng.randint(2, 6)):
                    t = self.at(day, rng.randint(9, 17), rng.randrange(0, 60, 5))
                    if t > self.now:
                        continue
                    staff = self.sales_of(code, t)
                    kind = rng.choices(["visit", "call"], [3, 2])[0]
                    if rng.random() < 0.12:
                        named = self.uid(rng.choice(staff))
                        record(None, code, kind, t, assigned=named, designated=named,
                               returning=False, rotation=False,
                               outcome=rng.choice(["no_interest", "pending", "other"]))
                    else:
                        turn += 1
                        record(None, code, kind, t, assigned=self.uid(staff[turn % len(staff)]),
                               returning=False, rotation=True,
                               outcome=rng.choices(["no_interest", "pending", "other"],
                                                   [5, 3, 1])[0])
        self.s.execute(insert(ReceptionRecord.__table__), rows)
        self.counts["reception records"] = len(rows)
        self._rotation_today()

    def _rotation_today(self) -> None:
        """R-RECV-1: today's rotation of the first showroom — one salesperson out on a go-out
        the supervisor approved (外出申请), owed the two turns missed so far."""
        code = BRANCHES[0][0]
        staff = self.sales_of(code, self.now)
        branch_id = self.s.scalar(select(Branch.id).where(Branch.code == code))
        if len(staff) < 2 or branch_id is None:
            return
        for i, username in enumerate(staff, start=1):
            out = i == 2
            self.s.add(RotationSlot(branch_id=branch_id, day=self.today,
                                    user_id=self.uid(username), position=i,
                                    available=not out, approved_go_out=out,
                                    turns_taken=3, owed_turns=2 if out else 0))

    # -- complaints ------------------------------------------------------------------------

    def complaints(self) -> None:
        rng = self.rng
        close_days = int(settings.get(self.s, "complaint.close_working_days"))
        ext_days = int(settings.get(self.s, "complaint.max_extension_working_days"))
        inquiry_hours = int(settings.get(self.s, "complaint.inquiry_hours"))
        threshold = Decimal(str(settings.get(self.s, "complaint.compensation_gm_threshold")))
        retention = timedelta(days=int(settings.get(self.s, "complaint.retention_days")))
        dealt = [c for c in self.customers if c.obj.deal_at is not None
                 and c.obj.status != "closed"]
        manager_of = {"HD-XS1": "manager1", "HD-XS2": "manager2"}
        dept_code = {b: d for b, _n, d, _c in BRANCHES}

        # (days ago, status, type, severity, cause, options)
        scenarios: list[tuple[float, str, str, str, str, dict]] = [
            (0.1, "registered", "inquiry", "general", "other", {}),
            (0.3, "registered", "complaint", "general", "delivery", {}),
            (0.5, "registered", "complaint", "major", "quality", {"major": 0}),
            (1, "assigned", "complaint", "general", "billing", {}),
            (1.5, "assigned", "suggestion", "general", "other", {}),
            (1, "investigating", "complaint", "general", "attitude", {"accused": "sales"}),
            (2, "investigating", "complaint", "general", "attitude", {"accused": "service2"}),
            (8, "investigating", "complaint", "general", "quality", {"overdue": 4}),
            (2, "proposed", "complaint", "general", "service", {}),
            (5, "proposed", "complaint", "major", "quality",
             {"major": 1, "overdue": 1, "regraded": True}),   # R-COMP-3: re-graded later
            (5, "approved", "complaint", "general", "billing", {"extended": True}),
            (6, "approved", "complaint", "major", "delivery",
             {"major": 2, "extended": True, "compensation": 8000}),
            (7, "replied", "complaint", "general", "service", {"extended": True}),
            (0.8, "replied", "inquiry", "general", "other", {}),
        ]
        for k in range(32):
            days = 12 + k * 3.4 + rng.uniform(0, 2)
            ctype = rng.choices(["complaint", "inquiry", "suggestion"], [6, 2, 1])[0]
            cause = "other" if ctype != "complaint" else rng.choice(
                ["quality", "service", "attitude", "delivery", "billing"])
            major = ctype == "complaint" and k % 6 == 2
            opts: dict = {"major": k % len(MAJOR_REASONS)} if major else {}
            if cause in ("attitude", "service") and rng.random() < 0.6:
                opts["accused"] = "sales"
            if k in (5, 17):
                opts["late"] = True
            if k == 9:
                opts["compensation"] = 6800
            status = "rejected" if k in (3, 14, 25) else "closed"
            scenarios.append((days, status, ctype, "major" if major else "general", cause, opts))

        built: list[tuple[Complaint, list[ComplaintEvent], list[ComplaintReminder]]] = []
        for days, status, ctype, severity, cause, opts in scenarios:
            reg = self.work_time(days) if days >= 1 else self.now - timedelta(hours=days * 24 + 1)
            if ctype == "inquiry":
                deadline = reg + timedelta(hours=inquiry_hours)
            else:
                while True:   # the overdue ones: registered so that the deadline passed N days ago
                    deadline = self.deadline(reg, ext_days if opts.get("extended") else close_days)
                    if deadline < self.now - timedelta(days=opts.get("overdue", -30)):
                        break
                    reg = self.work_time(
                        (self.today - reg.astimezone(clock.COMPANY_TZ).date()).days + 1)
            c = rng.choice([d for d in dealt if d.obj.deal_at < reg - timedelta(days=1)])
            dept = dept_code[c.branch]
            pool = (INQUIRY_TEXTS if ctype == "inquiry" else COMPLAINT_TEXTS[cause])
            description, resolution = rng.choice(pool)
            accused: int | None = None
            if opts.get("accused") == "sales":
                accused = c.owner_at(reg)
            elif opts.get("accused"):
                accused = self.uid(opts["accused"])
            # First responder (R-COMP-4): hotline → service, visit → reception, else the owner.
            channel = rng.choice(["hotline", "phone", "visit", "online", "letter"])
            if "major" in opts and opts["major"] == 1:
                channel = "head_office"
            if channel == "visit":
                receiver = self.uid(next(s.username for s in STAFF if s.role == Role.RECEPTION
                                         and s.branch == c.branch))
            elif channel in ("hotline", "phone", "head_office"):
                receiver = self.uid("service1")
            else:
                receiver = self.uid(rng.choice(["service1", "service2"]))
            if receiver == accused:
                receiver = self.uid("service1")
            # Conflict of interest (R-COMP-5): the handler and closer are never the accused.
            handler = self.uid(rng.choice(["service1", "service2"]))
            if handler == accused:
                handler = self.uid("service1")
            approver = self.uid("gm" if severity == "major" else manager_of[dept])
            comp_amount = Decimal(str(opts.get("compensation",
                                               rng.choice([0, 0, 0, 200, 500, 800, 1500]))))
            if ctype != "complaint":
                comp_amount = Decimal("0")
            obj = Complaint(
                number="", customer_id=c.obj.id, channel=channel, type=ctype, cause=cause,
                severity=severity, description=description, accused_user_id=accused,
                received_by_id=receiver,
                responsible_department_id=self.departments[dept].id, status=status,
                registered_at=reg, deadline_at=deadline, created_at=reg,
                major_reason=MAJOR_REASONS[opts["major"]] if "major" in opts else None,
                escalated_at=reg + timedelta(hours=2) if severity == "major" else None,
            )
            if opts.get("extended"):
                obj.extended = True
                obj.extension_reason = "需厂家技术鉴定/第三方核实，属特殊情况，延期一次。"
            path = _path_to(status)
            # Spread the steps between registration and now (or the closing moment).
            if status in ("closed", "rejected"):
                if opts.get("late"):
                    end = self.deadline(reg, close_days + 2) - timedelta(hours=rng.uniform(3, 8))
                else:
                    end = min(deadline - timedelta(hours=rng.uniform(1, 20)), self.now)
                end = max(end, reg + timedelta(hours=3))
            else:
                end = self.now - timedelta(minutes=rng.randint(5, 60))
            steps = len(path)
            times = [reg] + [reg + (end - reg) * (i / max(steps - 1, 1))
                             for i in range(1, steps)]
            events: list[ComplaintEvent] = []
            prev: str | None = None
            assigner = self.uid("service1") if rng.random() < 0.7 else self.uid(manager_of[dept])
            for st, at in zip(path, times, strict=True):
                actor, note = {
                    "registered": (receiver, "登记受理" + ("；重大投诉，24小时内上报部门经理及总经理"
                                                      if severity == "major" else "")),
                    "assigned": (assigner, "指派处理人"),
                    "investigating": (handler, "开始调查核实"),
                    "proposed": (handler, "提出处理意见：" + resolution),
                    "approved": (approver, "同意处理意见" if severity == "general"
                                 else "总经理批准（重大投诉）"),
                    "replied": (handler, "已答复客户"),
                    "closed": (self.uid("service2") if accused != self.uid("service2")
                               else self.uid("service1"), "满意度回访完成，结案"),
                    "rejected": (handler, "投诉不成立，驳回"),
                }[st]
                if opts.get("regraded") and st == "registered":
                    note = "登记受理"
                events.append(ComplaintEvent(from_status=prev, to_status=st, actor_id=actor,
                                             at=at, note=note))
                prev = st
                if opts.get("regraded") and st == "investigating":
                    # R-COMP-3: found major during the investigation, escalated at once
                    obj.escalated_at = at + timedelta(hours=1)
                    events.append(ComplaintEvent(
                        from_status=st, to_status=st, actor_id=self.uid(manager_of[dept]),
                        at=obj.escalated_at,
                        note="re-graded major: 客户已向厂家总部投诉，升级为重大投诉并上报总经理"))
            if status != "registered" and status != "rejected":
                obj.handler_id = handler
            if ComplaintStatus(status) in _AFTER_PROPOSAL:
                obj.resolution = resolution
                obj.compensation_amount = comp_amount
            if status in ("approved", "replied", "closed") and comp_amount > threshold:
                obj.compensation_approved_by_id = self.uid("gm")   # R-COMP-10
            if status == "rejected":
                obj.rejection_reason = rng.choice(REJECT_REASONS)
                obj.handler_id = handler
            if status in ("closed", "rejected"):
                obj.closed_at = times[-1]
                obj.retain_until = times[-1] + retention            # R-COMP-9
                obj.updated_at = times[-1]
            if status == "closed":
                obj.satisfaction = rng.choices([5, 4, 3, 2], [5, 4, 2, 1])[0]
            reminders: list[ComplaintReminder] = []
            if opts.get("overdue"):
                first = deadline + timedelta(hours=2)
                reminders.append(ComplaintReminder(
                    created_by_id=self.uid("service1"), at=min(first, self.now),
                    note=f"已超过处理时限（{deadline.astimezone(clock.COMPANY_TZ):%m-%d %H:%M}），"
                         "请尽快处理并答复客户。"))
                if self.now - deadline > timedelta(days=3):
                    reminders.append(ComplaintReminder(
                        created_by_id=approver if severity == "major" else
                        self.uid(manager_of[dept]),
                        at=deadline + timedelta(days=3),
                        note="超期3天仍未解决：建议移交其他部门人员处理。"))
            built.append((obj, events, reminders))

        # Numbers: YYMM + 4-digit serial in registration order, gap-free per month (R-COMP-1).
        built.sort(key=lambda b: b[0].registered_at)
        # continue after complaints registered before the demo was loaded, if any
        existing = {c.period: c for c in self.s.scalars(select(ComplaintCounter))}
        serial: dict[str, int] = defaultdict(int, {p: c.last_serial for p, c in existing.items()})
        rows: list[object] = []
        for obj, events, reminders in built:
            period = f"{obj.registered_at.astimezone(clock.COMPANY_TZ):%y%m}"
            serial[period] += 1
            obj.number = f"{period}{serial[period]:04d}"
            obj.events = events
            obj.reminders = reminders
            rows.append(obj)
        for period, last in serial.items():
            counter = existing.get(period)
            if counter is None:
                rows.append(ComplaintCounter(period=period, last_serial=last))
            else:
                counter.last_serial = last
        self.s.add_all(rows)
        self.counts["complaints"] = len(built)

    # -- credit ----------------------------------------------------------------------------

    def credit(self) -> None:
        rng = self.rng
        finance = self.uid("finance1")
        gm = self.uid("gm")
        manager_of = {"HD-PD": "manager1", "HD-MH": "manager1", "HD-SZ": "manager2"}
        review_days = int(settings.get(self.s, "credit.review_interval_days"))
        # Long-standing companies first: the A ratings need ≥ 1 year of cooperation at the
        # time of the evaluation (R-CRED-1), the earlier lines ≥ 1 year before that.
        candidates = sorted((c for c in self.customers if not c.person
                             and c.obj.status == "active" and c.obj.kind in ("dealer", "end")),
                            key=lambda c: c.obj.registered_at)
        plan = (["A_long_due", "A_long_over", "A_long", "A_long", "A_long", "A_long_raise"]
                + ["A_temp"] * 2 + ["A_proposed", "A_reviewed"] + ["A_none"] * 3
                + ["B_coll"] * 2 + ["B_proposed", "B_reviewed", "B_rejected"] + ["B_none"] * 6
                + ["C"] * 6)
        evaluations: list[CreditEvaluation] = []
        lines: list[CreditLine] = []
        txs: list[CustomerTransaction] = []
        reviews: list[CreditUsageReview] = []
        for c, scenario in zip(candidates, plan, strict=False):
            target = scenario[0]
            proposer = self.uid(manager_of[c.branch])
            monthly = Decimal(rng.randrange(30, 300) * 10000)
            recent_days = rng.uniform(5, 80)
            if scenario == "A_long_due":
                recent_days = review_days + 30          # R-CRED-7: review due
            elif scenario == "A_long_over":
                recent_days = 14                        # the line was lowered two weeks ago
            ev = self._evaluation(c, target, monthly, self.work_time(recent_days), finance,
                                  collateral=scenario in ("B_coll", "B_proposed", "B_reviewed"))
            evaluations.append(ev)
            if scenario.startswith("A_long"):
                # an earlier line: an A customer with earlier credit may get a long-term line
                old_ev = self._evaluation(c, "A", monthly, self.work_time(recent_days + 365),
                                          finance)
                evaluations.append(old_ev)
                raise_ = scenario == "A_long_raise"
                old_limit = _round_limit(min(old_ev.avg_monthly_shipments,
                                             old_ev.avg_monthly_receipts)
                                         * Decimal("0.7" if raise_ else "0.9"))
                old = self._line(c, old_ev, CreditLineKind.LONG_TERM, old_limit, 30,
                                 old_ev.evaluated_at + timedelta(days=3), proposer, finance, gm,
                                 final=CreditLineStatus.SUPERSEDED)
                lines.append(old)
                limit = (_round_limit(min(ev.avg_monthly_shipments, ev.avg_monthly_receipts,
                                          old_limit * Decimal("1.2"))) if raise_
                         else _round_limit(old_limit * Decimal("0.8")))
                cur = self._line(c, ev, CreditLineKind.LONG_TERM, limit, 30,
                                 ev.evaluated_at + timedelta(days=2), proposer, finance, gm,
                                 final=CreditLineStatus.APPROVED)
                old.valid_until = cur.valid_from
                if raise_:   # R-CRED-6: a raise needs an explicit approval with a reason
                    cur.is_raise = True
                    cur.raise_reason = "合作稳定、回款及时，月均提货量增长，申请提高额度。"
                lines.append(cur)
                over = scenario == "A_long_over"
                txs += self._transactions(c, limit, self.now - timedelta(days=90),
                                          old_limit if over else None, cur.approved_at)
                reviews += self._usage(c, cur, finance)
            elif scenario in ("A_temp", "B_coll"):
                if scenario == "A_temp":   # A without earlier credit: temporary only
                    kind, limit, term = (CreditLineKind.TEMPORARY,
                                         _round_limit(ev.avg_monthly_receipts * Decimal("0.8")),
                                         30)
                else:                      # B: only with collateral, ≤ min(monthly, collateral)
                    kind, term = CreditLineKind.LONG_TERM, 30
                    limit = _round_limit(min(ev.avg_monthly_shipments, ev.avg_monthly_receipts,
                                             ev.collateral_value) * Decimal("0.9"))
                line = self._line(c, ev, kind, limit, term, ev.evaluated_at + timedelta(days=2),
                                  proposer, finance, gm, final=CreditLineStatus.APPROVED)
                lines.append(line)
                txs += self._transactions(c, limit, line.approved_at)
                reviews += self._usage(c, line, finance)
            elif scenario in ("A_proposed", "B_proposed", "A_reviewed", "B_reviewed",
                              "B_rejected"):
                final = {"proposed": CreditLineStatus.PROPOSED,
                         "reviewed": CreditLineStatus.REVIEWED,
                         "rejected": CreditLineStatus.REJECTED}[scenario.split("_")[1]]
                if target == "A":
                    kind, limit, term = (CreditLineKind.TEMPORARY,
                                         _round_limit(ev.avg_monthly_receipts * Decimal("0.7")),
                                         30)
                elif scenario == "B_rejected":   # B without collateral: refused by finance
                    kind, limit, term = (CreditLineKind.LONG_TERM,
                                         _round_limit(ev.avg_monthly_receipts * Decimal("0.5")),
                                         30)
                else:
                    kind, term = CreditLineKind.TEMPORARY, 15
                    limit = _round_limit(min(ev.avg_monthly_shipments, ev.avg_monthly_receipts,
                                             ev.collateral_value) * Decimal("0.8"))
                start = max(ev.evaluated_at + timedelta(days=1),
                            self.now - timedelta(days=rng.uniform(1, 4)))
                lines.append(self._line(c, ev, kind, limit, term, start, proposer, finance, gm,
                                        final=final))
        suspended = self._suspended_by_c(candidates, plan, evaluations, finance, gm, manager_of)
        evaluations += suspended[0]
        lines += suspended[1]
        self.s.add_all(evaluations + lines + txs + reviews)
        self.counts["credit evaluations"] = len(evaluations)
        self.counts["credit lines"] = len(lines)

    def _suspended_by_c(self, candidates: list[_Cust], plan: list[str],
                        evaluations: list[CreditEvaluation], finance: int, gm: int,
                        manager_of: dict[str, str]) -> tuple[list[CreditEvaluation], list[CreditLine]]:
        """R-CRED-4 "a customer rated C after a line was approved has that line suspended at
        once": the first C customer had an A rating and an approved line before its C rating
        (own random stream, so the rest of the demo stays as it was)."""
        rng = random.Random(16)
        c_customers = [c for c, sc in zip(candidates, plan, strict=False) if sc == "C"]
        if not c_customers:
            return [], []
        c = c_customers[0]
        c_ev = max((e for e in evaluations if e.customer_id == c.obj.id), key=lambda e: e.evaluated_at, default=None)
        c_at = c_ev.evaluated_at if c_ev is not None else self.work_time(3)
        monthly = Decimal(rng.randrange(30, 300) * 10000)
        a_ev = self._evaluation(c, "A", monthly, c_at - timedelta(days=120), finance)
        line = self._line(c, a_ev, CreditLineKind.LONG_TERM,
                          _round_limit(min(a_ev.avg_monthly_shipments,
                                           a_ev.avg_monthly_receipts) * Decimal("0.6")), 30,
                          a_ev.evaluated_at + timedelta(days=2), self.uid(manager_of[c.branch]),
                          finance, gm, final=CreditLineStatus.APPROVED)
        c.obj.notes = "授信批准后信用评定降为C级，授信已即时暂停（R-CRED-4）。"
        return [a_ev], [line]

    def _evaluation(self, c: _Cust, target: str, monthly: Decimal, at: datetime,
                    evaluator: int, collateral: bool = False) -> CreditEvaluation:
        rng = self.rng
        years = max((at - c.obj.registered_at).days, 0) / 365
        answers = {
            "years_of_cooperation": Decimal(str(round(years, 1))),
            "bad_debt_2y": False, "promise_keeping": Quality3.GOOD.value,
            "debt_disputes": False, "capital_strength": CapitalStrength.STRONG.value,
            "operating_condition": Quality3.GOOD.value, "serious_decline": False,
            "illegal_operation": False, "ordered_to_stop": False,
            "accounts_frozen_risk": False,
            "avg_monthly_shipments": monthly,
            "avg_monthly_receipts": _round_limit(monthly * Decimal(str(rng.uniform(0.85, 1.0)))),
            "receipts_meet_standard": True,
            "collateral_value": Decimal("0"),
        }
        if target == "B":
            answers.update(rng.choice([
                {"capital_strength": CapitalStrength.MEDIUM.value},
                {"operating_condition": Quality3.FAIR.value},
                {"receipts_meet_standard": False},
                {"promise_keeping": Quality3.FAIR.value},
            ]))
            if collateral:
                answers["collateral_value"] = _round_limit(monthly * Decimal("0.6"))
        elif target == "C":
            answers.update(rng.choice([
                {"bad_debt_2y": True}, {"debt_disputes": True},
                {"capital_strength": CapitalStrength.WEAK.value},
                {"operating_condition": Quality3.POOR.value}, {"accounts_frozen_risk": True},
                {"promise_keeping": Quality3.POOR.value},
            ]))
        rating, reason = _rate(answers)
        return CreditEvaluation(customer_id=c.obj.id, rating=rating, rating_reason=reason,
                                evaluated_by_id=evaluator, evaluated_at=at, created_at=at,
                                updated_at=at, **answers)

    def _line(self, c: _Cust, ev: CreditEvaluation, kind: CreditLineKind, limit: Decimal,
              term: int, proposed_at: datetime, proposer: int, finance: int, gm: int, *,
              final: CreditLineStatus) -> CreditLine:
        """A credit line walked along the chain proposal → finance review → GM approval
        (R-CRED-5): three different people, each step recorded."""
        line = CreditLine(customer_id=c.obj.id, evaluation=ev, kind=kind.value,
                          limit_amount=limit, term_days=term,
                          collateral_value=ev.collateral_value, proposed_by_id=proposer,
                          proposed_at=proposed_at, created_at=proposed_at, status=final.value)
        line.approvals.append(CreditApproval(step="propose", actor_id=proposer, at=proposed_at,
                                             note="部门经理提出授信申请"))
        if final == CreditLineStatus.PROPOSED:
            return line
        reviewed = min(proposed_at + timedelta(days=1), self.now - timedelta(hours=2))
        if final == CreditLineStatus.REJECTED:
            line.approvals.append(CreditApproval(
                step="reject", actor_id=finance, at=reviewed,
                note="B级客户无抵押担保，原则上不予授信（R-CRED-4）。"))
            line.reviewed_by_id, line.reviewed_at = finance, reviewed
            return line
        line.reviewed_by_id, line.reviewed_at = finance, reviewed
        line.approvals.append(CreditApproval(step="review", actor_id=finance, at=reviewed,
                                             note="财务审核通过：额度与期限符合评级上限"))
        if final == CreditLineStatus.REVIEWED:
            return line
        approved = min(reviewed + timedelta(days=1), self.now - timedelta(hours=1))
        line.approved_by_id, line.approved_at = gm, approved
        line.approvals.append(CreditApproval(step="approve", actor_id=gm, at=approved,
                                             note="总经理批准"))
        start = approved.astimezone(clock.COMPANY_TZ).date()
        line.valid_from = start
        line.valid_until = start + timedelta(days=365 if kind == CreditLineKind.LONG_TERM
                                             else 90)
        if final == CreditLineStatus.SUPERSEDED:
            line.valid_until = start + timedelta(days=365)
        return line

    def _transactions(self, c: _Cust, limit: Decimal, start: datetime,
                      earlier_limit: Decimal | None = None,
                      lowered_at: datetime | None = None) -> list[CustomerTransaction]:
        """Orders and payments since ``start`` keeping the balance within the line in force
        (R-CRED-8). With ``earlier_limit``, the balance built up under that higher line and the
        line was lowered at ``lowered_at``: the customer is now above its limit and listed for
        collection."""
        rng = self.rng
        rows: list[CustomerTransaction] = []
        balance = Decimal("0")
        cap = earlier_limit if earlier_limit is not None else limit
        stop = (lowered_at - timedelta(days=2) if earlier_limit is not None and lowered_at
                else self.now - timedelta(days=1))
        ref = 0

        def add(kind: str, amount: Decimal, at: datetime) -> None:
            nonlocal ref
            ref += 1
            rows.append(CustomerTransaction(
                customer_id=c.obj.id, kind=kind, amount=amount,
                reference=f"{'DD' if kind == 'order' else 'SK'}{c.obj.code[-5:]}{ref:03d}",
                recorded_by_id=self.uid("finance1"), recorded_at=at))

        t = start
        while True:
            t += timedelta(days=rng.uniform(4, 12))
            if t >= stop:
                break
            if balance < cap * Decimal("0.3") or rng.random() < 0.55:
                amount = _round_limit((cap - balance) * Decimal(str(rng.uniform(0.3, 0.7))))
                if amount > 0:
                    balance += amount
                    add(TransactionKind.ORDER.value, amount, t)
            else:
                amount = _round_limit(balance * Decimal(str(rng.uniform(0.4, 0.9))))
                if amount > 0:
                    balance -= amount
                    add(TransactionKind.PAYMENT.value, amount, t)
        if earlier_limit is not None and lowered_at is not None:
            target = _round_limit(limit * Decimal("1.15"))
            if balance < target:
                add(TransactionKind.ORDER.value, target - balance, stop)
                balance = target
            paid = _round_limit(balance * Decimal("0.04"))
            add(TransactionKind.PAYMENT.value, paid, min(lowered_at + timedelta(days=5),
                                                         self.now - timedelta(hours=3)))
            balance -= paid
            c.obj.notes = "授信额度下调后应收余额超出额度，已列入催收名单。"
        c.obj.outstanding_balance = balance
        return rows

    def _usage(self, c: _Cust, line: CreditLine, finance: int) -> list[CreditUsageReview]:
        """授信额度执行评价 of last month, when the line was already in force then."""
        first = self.today.replace(day=1)
        last_month = first - timedelta(days=1)
        if line.valid_from is None or line.valid_from > last_month:
            return []
        balance = c.obj.outstanding_balance
        limit = line.limit_amount
        ratio = (balance / limit).quantize(Decimal("0.01")) if limit else Decimal("0")
        return [CreditUsageReview(customer_id=c.obj.id, month=f"{last_month:%Y-%m}",
                                  limit_amount=limit, outstanding_balance=balance,
                                  usage_ratio=ratio, recorded_by_id=finance,
                                  recorded_at=self.at(first, 10),
                                  notes="额度使用正常" if ratio <= 1 else "超额度，需催收")]


_AFTER_PROPOSAL = {ComplaintStatus.PROPOSED, ComplaintStatus.APPROVED, ComplaintStatus.REPLIED,
                   ComplaintStatus.CLOSED}
_MAIN_PATH = ["registered", "assigned", "investigating", "proposed", "approved", "replied",
              "closed"]


def _path_to(status: str) -> list[str]:
    """The workflow steps (R-COMP-6) from registration to ``status``."""
    if status == "rejected":
        return ["registered", "rejected"]
    return _MAIN_PATH[: _MAIN_PATH.index(status) + 1]


def _round_limit(amount: Decimal) -> Decimal:
    """Round down to whole thousands of yuan."""
    return (Decimal(amount) // 1000) * 1000


def _rate(answers: dict) -> tuple[str, str]:
    """The ABC rating of R-CRED-1..3 with the reason, for the demo evaluations."""
    c_reasons = [text for key, text in (
        ("bad_debt_2y", "近2年内有坏账或严重违约"), ("debt_disputes", "存在债务纠纷或资产转移"),
        ("serious_decline", "经营严重下滑"), ("illegal_operation", "存在违法经营"),
        ("ordered_to_stop", "被有关部门责令停业"), ("accounts_frozen_risk", "银行账户有被冻结风险"),
    ) if answers.get(key)]
    if answers.get("promise_keeping") == Quality3.POOR.value:
        c_reasons.append("经常不守信用")
    if answers.get("capital_strength") == CapitalStrength.WEAK.value:
        c_reasons.append("资金实力弱")
    if answers.get("operating_condition") == Quality3.POOR.value:
        c_reasons.append("经营不善或亏损")
    if c_reasons:
        return Rating.C.value, "C级：" + "；".join(c_reasons)
    missing = [k for k in ("avg_monthly_shipments", "avg_monthly_receipts")
               if answers.get(k) is None]
    a_fails = []
    if Decimal(answers.get("years_of_cooperation") or 0) < 1:
        a_fails.append("合作不满1年（新客户）")
    if answers.get("capital_strength") != CapitalStrength.STRONG.value:
        a_fails.append("资金实力一般")
    if answers.get("operating_condition") != Quality3.GOOD.value:
        a_fails.append("近2年经营状况一般")
    if answers.get("promise_keeping") != Quality3.GOOD.value:
        a_fails.append("守信情况一般")
    if not answers.get("receipts_meet_standard"):
        a_fails.append("回款未达标准")
    if missing:
        a_fails.append("关键数据缺失")
    if a_fails:
        return Rating.B.value, "B级：" + "；".join(a_fails)
    return Rating.A.value, ("A级：合作满1年，近2年无坏账违约，守法经营，经营良好，资金实力雄厚，"
                            "回款达标")


def is_loaded(session: Session) -> bool:
    return bool(session.scalar(select(func.count(Department.id))
                               .where(Department.code == DEMO_DEPARTMENT_CODE)))
