"""What identifies a customer for 一户一档 (R-CUST-1, issue 16).

- The unified social credit code (统一社会信用代码, GB 32100-2015) of an organisation and the
  resident ID number (居民身份证号码, GB 11643) of a person are validated with their check
  characters (``python-stdnum``'s ``cn.uscc`` and ``cn.ric``): a mistyped code is refused
  instead of silently failing to match.
- Duplicates are found on that code, on the phone, and — for organisations only — on the
  normalised name: two people called 王先生 with different phones are two customers.
- An archive is an organisation when its code is a credit code, when it is a dealer or a
  supplier, or when its name ends like an organisation's (公司, 集团, 厂, 店, 银行 …); a
  name with no such ending and no credit code is a person's.
"""

from __future__ import annotations

from stdnum.cn import ric, uscc
from stdnum.exceptions import ValidationError

from models.enums import CustomerKind
from portal.normalize import normalize_credit_code, normalize_name

ORGANISATION_KINDS = frozenset({CustomerKind.DEALER.value, CustomerKind.SUPPLIER.value})

# Endings of Chinese organisation names (企业名称 = 字号 + 行业 + 组织形式).
ORGANISATION_ENDINGS = (
    "公司", "集团", "有限", "企业", "工厂", "厂", "店", "商行", "商店", "经营部", "门市部",
    "超市", "商场", "中心", "事务所", "律所", "银行", "支行", "分行", "保险", "医院", "诊所",
    "学校", "学院", "大学", "协会", "学会", "商会", "研究院", "研究所", "合作社", "工作室",
    "酒店", "宾馆", "餐厅", "俱乐部", "基金会", "委员会", "政府", "局", "院", "所", "站",
    "部", "社", "馆", "场", "处", "科", "队",
)
_LATIN_ORG = ("co", "co.", "ltd", "ltd.", "inc", "inc.", "corp", "corp.", "llc", "gmbh",
              "company", "group", "bank", "limited")


def code_kind(code: str | None) -> str | None:
    """``"uscc"`` or ``"ric"`` for a valid code (after normalising), ``None`` for none.
    Raises ``ValueError`` for a code that is neither (wrong length, characters or check)."""
    norm = normalize_credit_code(code)
    if not norm:
        return None
    try:
        uscc.validate(norm)
        return "uscc"
    except ValidationError:
        pass
    try:
        ric.validate(norm)
        return "ric"
    except ValidationError:
        raise ValueError(norm) from None


def is_organisation(name: str | None, kind: str | None = None,
                    code: str | None = None) -> bool:
    """Whether the archive is an organisation's (its name then identifies it)."""
    try:
        found = code_kind(code)
    except ValueError:
        found = None
    if found == "uscc":
        return True
    if found == "ric":
        return False
    if kind in ORGANISATION_KINDS:
        return True
    text = (name or "").strip()
    if not text:
        return False
    lowered = normalize_name(text) or ""
    if any(text.endswith(e) or text.rstrip("）)").endswith(e) for e in ORGANISATION_ENDINGS):
        return len(text) > 2  # "王局" is not an organisation, "王氏五金店" is
    words = lowered.replace(",", " ").split()
    return bool(words) and words[-1] in _LATIN_ORG
