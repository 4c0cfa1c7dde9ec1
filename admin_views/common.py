"""Shared pieces of the area views: Chinese labels (msgids) for the closed vocabularies of
domain.md, scoped filter options, and the small form pages custom actions use."""

from __future__ import annotations

from typing import Any

from flask_admin.contrib.sqla import filters as sqla_filters
from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from admin_views.base import actor
from models.enums import ComplaintCause, Role
from portal import policy
from portal.extensions import db

CUSTOMER_KIND = [("end", _l("最终客户")), ("dealer", _l("经销商客户")),
                 ("supplier", _l("供应商")), ("special", _l("特殊客户"))]
CUSTOMER_SOURCE = [("walk_in", _l("来店")), ("call", _l("来电")), ("referral", _l("老带新")),
                   ("event", _l("活动")), ("campaign", _l("推广")), ("other", _l("其他"))]
IMPORTANCE = [("A", "A"), ("B", "B"), ("C", "C"), ("D", "D")]
INTENT = [("hot", _l("热")), ("warm", _l("温")), ("cold", _l("冷"))]
CUSTOMER_STATUS = [("prospect", _l("意向客户")), ("active", _l("成交客户")),
                   ("dormant", _l("休眠")), ("void", _l("废卡")), ("closed", _l("已关闭"))]
FOLLOW_UP_KIND = [("call", _l("电话")), ("visit", _l("拜访")), ("sms", _l("短信")),
                  ("wechat", _l("微信")), ("invitation", _l("邀约")), ("email", _l("邮件")),
                  ("invite_missed", _l("邀约未到（邀不来）"))]
RECEPTION_KIND = [("visit", _l("来访")), ("call", _l("来电"))]
VISITOR_CLASS = [("a", _l("A类（贵宾）")), ("b", _l("B类（商务）")), ("c", _l("C类（一般）"))]
VENUE = [("vip_room", _l("贵宾室")), ("business_room", _l("洽谈室")), ("lounge", _l("休息区")),
         ("phone", _l("电话"))]
RECEPTION_OUTCOME = [("pending", _l("待跟进")), ("follow_up", _l("跟进中")),
                     ("deal", _l("成交")), ("no_interest", _l("无意向")), ("other", _l("其他"))]
COMPLAINT_CHANNEL = [("phone", _l("电话")), ("visit", _l("来访")), ("letter", _l("信函")),
                     ("hotline", _l("热线")), ("online", _l("网络")),
                     ("head_office", _l("总部转办"))]
COMPLAINT_TYPE = [("inquiry", _l("咨询")), ("suggestion", _l("建议")),
                  ("complaint", _l("投诉"))]
COMPLAINT_CAUSE = [("quality", _l("质量")), (ComplaintCause.SERVICE.value, _l("服务")), ("attitude", _l("态度")),
                   ("delivery", _l("交付")), ("billing", _l("收费")), ("other", _l("其他"))]
SEVERITY = [("general", _l("一般投诉")), ("major", _l("重大投诉"))]
COMPLAINT_STATUS = [("registered", _l("已登记")), ("assigned", _l("已分派")),
                    ("investigating", _l("调查中")), ("proposed", _l("已提出方案")),
                    ("approved", _l("已批准")), ("replied", _l("已答复")),
                    ("closed", _l("已结案")), ("rejected", _l("不予受理"))]
RATING = [("A", "A"), ("B", "B"), ("C", "C")]
QUALITY3 = [("good", _l("好")), ("fair", _l("一般")), ("poor", _l("差"))]
CAPITAL = [("strong", _l("雄厚")), ("medium", _l("一般")), ("weak", _l("薄弱"))]
LINE_KIND = [("long_term", _l("长期授信")), ("temporary", _l("临时授信"))]
LINE_STATUS = [("proposed", _l("已提出")), ("reviewed", _l("已审核")), ("approved", _l("已批准")),
               ("rejected", _l("已驳回")), ("superseded", _l("已替代"))]
# the statuses a line is shown with: an approved line may read 已失效 / 已暂停 (R-CRED-4)
LINE_STATUS_SHOWN = LINE_STATUS + [("lapsed", _l("已失效")), ("suspended", _l("已暂停"))]
LEVEL = [(0, _l("公开")), (1, _l("内部")), (2, _l("秘密")), (3, _l("机密")), (4, _l("绝密"))]
SCOPE = [("own", _l("本人")), ("branch", _l("本展厅")), ("department", _l("本部门")),
         ("all", _l("全部"))]
LANGUAGE = [("zh_Hans_CN", "简体中文"), ("en", "English")]
DAY_KIND = [("holiday", _l("节假日")), ("workday", _l("调休上班日"))]
OUTCOME = [("ok", _l("成功")), ("denied", _l("拒绝")), ("error", _l("错误"))]

COMMON_LABELS = {
    "code": _l("编号"), "name": _l("名称"), "owner": _l("归属人"), "branch": _l("门店/展厅"),
    "department": _l("部门"), "status": _l("状态"), "customer": _l("客户"),
    "created_at": _l("创建时间"), "updated_at": _l("更新时间"), "notes": _l("备注"),
    "kind": _l("类型"), "phone": _l("电话"),
}


def choices_map(choices: list[tuple[Any, Any]]) -> list[tuple[Any, Any]]:
    return list(choices)


class ScopedFilterEqual(sqla_filters.FilterEqual):
    """An equality filter whose options (e.g. owners, branches) are the rows of ``related``
    the user may see, computed per request."""

    def __init__(self, column: Any, name: Any, related: type, limit: int = 300) -> None:
        super().__init__(column, name)
        self.related = related
        self.limit = limit

    def scoped_options(self) -> list[tuple[Any, str]]:
        pk = self.related.__table__.primary_key.columns.values()[0]
        rows = db.session.scalars(policy.scope(select(self.related), actor(), self.related)
                                  .order_by(pk).limit(self.limit))
        return [(getattr(r, pk.key), str(r)) for r in rows]

    def clean(self, value: str) -> Any:
        try:
            number = int(value)
        except (TypeError, ValueError):
            return -1
        # an id beyond the database's integer range matches nothing (instead of a 500)
        return number if -(2**31) <= number < 2**31 else -1


def choice_filter(column: Any, name: Any, options: list[tuple[Any, Any]]) -> Any:
    """An equality filter with fixed options (a closed vocabulary)."""
    return sqla_filters.FilterEqual(column, name, options=options)


def role_labels() -> dict[str, str]:
    """Role value → its name in the page's language (the one table: ``policy.ROLE_LABELS``)."""
    from flask_babel import get_locale

    chinese = str(get_locale() or "zh").startswith("zh")
    return {r.value: policy.ROLE_LABELS[r][1 if chinese else 0] for r in Role}


def role_name(value: str) -> str:
    return role_labels().get(value, value)


# labels in the reader's language, resolved when a page renders them
ROLE_CHOICES = [(r.value, LazyString(role_name, r.value)) for r in Role]


class EffectiveStatusFilter(sqla_filters.BaseSQLAFilter):
    """客户状态 as the badge shows it: 废卡 is derived from the follow-up cadence (R-CUST-4), an
    意向客户 is one that is not void — the service's predicate, the same as GraphQL's
    ``effectiveStatus`` filter."""

    def __init__(self, column: Any, name: Any, options: list[tuple[Any, Any]]) -> None:
        super().__init__(column, name, options=options)

    def validate(self, value: Any) -> bool:
        from portal.services.customers import EFFECTIVE_STATUSES

        return value in EFFECTIVE_STATUSES

    def apply(self, query: Any, value: Any, alias: Any = None) -> Any:
        from portal.extensions import orm_session
        from portal.services import customers as customer_rules

        return query.filter(customer_rules.effective_status_in_sql(orm_session(), [value]))

    def operation(self) -> Any:
        return _l("等于")
