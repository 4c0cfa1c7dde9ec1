"""部门 and 门店/展厅 (system administrator); never deleted."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from admin_views import common
from admin_views.base import ScopedModelView, add_view
from models import Branch, Department
from portal.services import org as org_service


class DepartmentView(ScopedModelView):
    column_list = ("code", "name", "created_at")
    column_details_list = ("code", "name", "branches", "created_at", "updated_at")
    column_export_list = ("code", "name")
    column_searchable_list = ("code", "name")
    column_labels = dict(common.COMMON_LABELS, code=_l("部门编号"), name=_l("部门名称"),
                         branches=_l("门店/展厅"))
    form_columns = ("code", "name")
    create_service = org_service.create_department
    update_service = org_service.update_department


class BranchView(ScopedModelView):
    column_list = ("code", "name", "department", "created_at")
    column_details_list = ("code", "name", "department", "created_at", "updated_at")
    column_export_list = ("code", "name", "department")
    column_searchable_list = ("code", "name")
    column_filters = (common.ScopedFilterEqual(Branch.department_id, _l("部门"), Department),)
    column_labels = dict(common.COMMON_LABELS, code=_l("门店编号"), name=_l("门店名称"))
    form_columns = ("code", "name", "department")
    create_service = org_service.create_branch
    update_service = org_service.update_branch


def register(admin: Any) -> None:
    add_view(admin, DepartmentView, Department, _l("部门"), _l("组织与账号"),
             endpoint="department")
    add_view(admin, BranchView, Branch, _l("门店/展厅"), _l("组织与账号"), endpoint="branch")
