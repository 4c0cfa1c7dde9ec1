"""Words for identifiers the portal shows: roles, policy areas and verbs, audit actions,
audited object types. A raw identifier (``customer.follow_up``, ``CopyRequest``) never reaches
the screen: unknown ones read as "其他操作" with the identifier only in the title attribute."""

from __future__ import annotations

from typing import Any

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from models.enums import Role

ROLE_LABELS = {
    Role.SALES.value: _l("销售顾问"), Role.SUPERVISOR.value: _l("展厅主管"),
    Role.DEPT_MANAGER.value: _l("部门经理"), Role.GENERAL_MANAGER.value: _l("总经理"),
    Role.FINANCE.value: _l("财务信用主管"), Role.SERVICE.value: _l("客服专员"),
    Role.RECEPTION.value: _l("前台"), Role.AUDITOR.value: _l("审计员"),
    Role.SYSADMIN.value: _l("系统管理员"), Role.SECADMIN.value: _l("安全保密管理员"),
    Role.SECAUDITOR.value: _l("安全审计员"),
}
ROLE_CHOICES = [(r.value, ROLE_LABELS[r.value]) for r in Role]

AREA_LABELS = {
    "customer": _l("客户档案"), "customer_contact": _l("客户联系人"),
    "customer_credit": _l("客户信用数据"), "reception": _l("接待记录"),
    "complaint": _l("客户投诉"), "complaint_detail": _l("投诉详情"), "credit": _l("客户信用"),
    "file": _l("保密文件"), "user": _l("用户"), "org": _l("组织机构"),
    "setting": _l("规则设置"), "audit": _l("审计日志"), "grant": _l("授权"),
    "report": _l("统计报表"), "token": _l("API 令牌"), "auth": _l("登录"),
    "demo": _l("演示数据"), "role": _l("角色"), "penalty": _l("投诉考核处罚"),
}

VERB_LABELS = {
    "view": _l("查看"), "add": _l("新增"), "create": _l("新增"), "change": _l("修改"),
    "export": _l("导出"), "import": _l("导入"), "delete": _l("删除"), "remove": _l("删除"),
    "reassign": _l("客户移交"), "follow_up": _l("回访"), "claim": _l("认领"),
    "be_owner": _l("作为归属人"), "close": _l("关闭 / 结案"), "deal": _l("登记成交"),
    "take_turns": _l("轮流接待"), "manage_rotation": _l("管理轮流接待"),
    "set_availability": _l("设置在岗状态"), "assign": _l("分派"), "handle": _l("处理"),
    "approve": _l("批准"), "approve_major": _l("批准重大投诉"), "reject": _l("不予受理"),
    "extend": _l("延期"), "remind": _l("催办"), "approve_compensation": _l("批准赔偿 / 补偿"),
    "evaluate": _l("信用评定"), "propose": _l("提出授信"), "review": _l("审核"),
    "record_transaction": _l("登记交易"), "approve_over_limit": _l("批准超额度"),
    "review_usage": _l("检查额度使用"), "upload": _l("上传"), "download": _l("下载"),
    "in_chain": _l("参与审批"), "read_all_levels": _l("阅读全部密级"),
    "approve_copy": _l("复制审批"), "approve_copy_top": _l("绝密文件复制审批"),
    "manage_scope": _l("管理知悉范围"), "name_top_secret": _l("确定绝密"),
    "classify": _l("定密"), "reclassify": _l("变更密级"), "declassify": _l("解密"),
    "extend_secrecy": _l("延长保密期限"), "request_copy": _l("申请复制"),
    "collect_copy": _l("领取复制件"), "add_scope_member": _l("加入知悉范围"), "remove_scope_member": _l("移出知悉范围"),
    "change_manager": _l("更换责任经理"),
    "integrity": _l("完整性检查"), "reconcile": _l("存储核对"),
    "deactivate": _l("停用"), "reset_password": _l("重置密码"),
    "set_clearance": _l("设置涉密等级"), "change_password": _l("修改密码"),
    "set_on_leave": _l("设置休假"), "grant": _l("授予"), "revoke": _l("撤销"),
    "login": _l("登录"), "logout": _l("退出登录"), "lockout": _l("账号锁定"),
    "csrf": _l("表单校验失败"), "load": _l("加载"), "calendar_add": _l("新增日历日"),
    "calendar_change": _l("修改日历日"), "calendar_delete": _l("删除日历日"),
    "confirm_penalty": _l("确认处罚"), "approve_summary": _l("批准汇总表"),
    "approve_correction": _l("审批更正申请"), "request_correction": _l("申请更正"),
    "hand_over": _l("移交其他部门"), "regrade": _l("调整等级"), "suspend": _l("暂停授信"),
    "calendar_import": _l("导入日历"),
    "index_view": _l("列表"), "details_view": _l("详情"), "edit_view": _l("编辑"),
    "create_view": _l("新增"), "delete_view": _l("删除"), "action_view": _l("批量操作"),
}

TARGET_LABELS = {
    "Customer": _l("客户档案"), "CustomerContact": _l("客户联系人"), "FollowUp": _l("回访记录"),
    "OwnerChange": _l("归属人变更"), "ReceptionRecord": _l("接待记录"),
    "Complaint": _l("客户投诉"), "ComplaintEvent": _l("投诉处理记录"),
    "CreditEvaluation": _l("客户信用评定表"), "CreditLine": _l("授信"),
    "CreditApproval": _l("授信审批"), "ConfidentialFile": _l("保密文件"),
    "CopyRequest": _l("复制审批"), "CorrectionRequest": _l("更正申请"), "User": _l("用户"), "Grant": _l("授权"),
    "Department": _l("部门"), "Branch": _l("门店/展厅"), "Setting": _l("规则设置"),
    "CalendarDay": _l("工作日历"), "ApiToken": _l("API 令牌"), "AuditEntry": _l("审计日志"),
    "request": _l("请求"), "reports": _l("统计报表"), "demo": _l("演示数据"),
}


def action_label(action: str | None) -> str:
    """``customer.follow_up`` → "客户档案 · 回访" (in the reader's language)."""
    if not action:
        return ""
    area, _, verb = action.partition(".")
    area_label = AREA_LABELS.get(area)
    verb_label = VERB_LABELS.get(verb)
    if area_label is None or verb_label is None:
        return str(_l("其他操作"))
    return f"{area_label} · {verb_label}"


def target_label(target_type: str | None) -> str:
    if not target_type:
        return ""
    return str(TARGET_LABELS.get(target_type, _l("其他对象")))


def raw_formatter(view: Any, context: Any, model: Any, name: str) -> Any:
    """Text a service recorded as it was (an audit entry's detail): data, shown as is."""
    value = getattr(model, name)
    if value in (None, ""):
        return ""
    return Markup('<span class="portal-raw">{}</span>').format(value)


def _titled(label: str, raw: str) -> Markup:
    return Markup('<span data-code="{}">{}</span>').format(raw, label)


def action_formatter(view: Any, context: Any, model: Any, name: str) -> Any:
    raw = getattr(model, name) or ""
    return _titled(action_label(raw), raw)


def target_formatter(view: Any, context: Any, model: Any, name: str) -> Any:
    raw = getattr(model, name) or ""
    return _titled(target_label(raw), raw)


def verb_formatter(view: Any, context: Any, model: Any, name: str) -> Any:
    """A grant's action (the verb of its area)."""
    raw = getattr(model, name) or ""
    return _titled(str(VERB_LABELS.get(raw, _l("其他操作"))), raw)


def role_formatter(view: Any, context: Any, model: Any, name: str) -> Any:
    raw = getattr(model, name) or ""
    return str(ROLE_LABELS.get(raw, raw))


def area_formatter(view: Any, context: Any, model: Any, name: str) -> Any:
    raw = getattr(model, name) or ""
    return str(AREA_LABELS.get(raw, raw))


def policy_action_choices(areas: dict[str, Any]) -> list[tuple[str, Any]]:
    """The grantable actions of ``policy.AREAS`` as (value, label) pairs, the labels in the
    reader's language."""
    return [(f"{area}.{verb}", LazyString(action_label, f"{area}.{verb}"))
            for area, verbs in areas.items() for verb in verbs]


SETTING_LABELS = {
    "customer.ownership_validity_days": _l("建档有效期（天）"),
    "customer.first_follow_up_days": _l("新客户首次回访期限（天）"),
    "customer.second_follow_up_days": _l("首次至第二次回访间隔（天）"),
    "customer.follow_up_interval_days": _l("此后回访间隔（天）"),
    "customer.sms_only_streak": _l("连续仅短信回访不计为服务的次数"),
    "customer.service_lapse_days": _l("服务不到位可重新分配的天数"),
    "complaint.inquiry_hours": _l("咨询答复时限（小时）"),
    "complaint.close_working_days": _l("投诉结案时限（工作日）"),
    "complaint.max_extension_working_days": _l("延期最多（工作日）"),
    "complaint.escalation_hours": _l("重大投诉上报时限（小时）"),
    "complaint.retention_days": _l("投诉记录保存天数"),
    "complaint.compensation_gm_threshold": _l("须总经理批准的赔偿金额（元）"),
    "complaint.serial_digits": _l("投诉编号月流水位数"),
    "complaint.repeat_days": _l("重复投诉统计天数"),
    "credit.review_interval_days": _l("信用复评间隔（天）"),
    "credit.max_term_days": _l("最长回款期限（天）"),
    "credit.max_temporary_term_days_b": _l("B级客户临时授信最长期限（天）"),
    "file.copy_link_minutes": _l("复制件下载链接有效期（分钟）"),
    "file.max_upload_mb": _l("上传文件大小上限（MB）"),
    "file.user_quota_mb": _l("个人上传配额（MB）"),
    "complaint.transfer_working_days": _l("未解决多少个工作日后移交其他部门"),
    "credit.temporary_line_months": _l("临时授信有效期（月）"),
    "credit.company_ceiling": _l("公司授信总额上限（元）"),
    "complaint.penalties_enabled": _l("启用投诉考核处罚"),
    "complaint.penalty_staff_amount": _l("被投诉人处罚金额（元）"),
    "complaint.penalty_late_amount": _l("超时处理处罚金额（元）"),
    "complaint.penalty_late_working_days": _l("超时处罚的工作日数"),
}


def setting_value_formatter(view: Any, context: Any, model: Any, name: str) -> Any:
    """A setting's value as people read it: yes/no for switches, numbers as they are."""
    raw = getattr(model, name)
    if raw in ("true", "false"):
        return str(_l("是") if raw == "true" else _l("否"))
    return raw


def setting_formatter(view: Any, context: Any, model: Any, name: str) -> Any:
    raw = getattr(model, name) or ""
    return _titled(str(SETTING_LABELS.get(raw, _l("其他设置项"))), raw)


def setting_choices() -> list[tuple[str, Any]]:
    return [(key, label) for key, label in SETTING_LABELS.items()]


def user_formatter(view: Any, context: Any, model: Any, name: str) -> Any:
    """A user id column shown as the person's full name (people are never shown as ids)."""
    from models import User
    from portal.extensions import db

    user_id = getattr(model, name)
    user = db.session.get(User, user_id) if user_id is not None else None
    return user.full_name if user is not None else ""


# Audit entries written without a signed-in person name the system part that acted.
SYSTEM_ACTORS = {"demo": _l("演示数据"), "scheduler": _l("定时任务"), "system": _l("系统")}


def actor_formatter(view: Any, context: Any, model: Any, name: str) -> Any:
    raw = getattr(model, name) or ""
    label = SYSTEM_ACTORS.get(raw)
    return _titled(str(label), raw) if label is not None else raw
