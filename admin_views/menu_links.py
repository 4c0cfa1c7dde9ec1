"""Menu entries for pages that are not list views of their own: 认领客户 (the claim page),
密级管理 (the classification register), the personal API tokens. Each entry shows only to
whoever the policy lets use the page."""

from __future__ import annotations

from typing import Any

from flask_admin.menu import MenuLink
from flask_babel import lazy_gettext as _l

from admin_views.base import actor
from admin_views.menu_names import MENU_CUSTOMERS
from portal import policy


class PolicyMenuLink(MenuLink):
    """A menu link shown only to holders of ``action``."""

    def __init__(self, name: Any, endpoint: str, action: str, category: Any = None) -> None:
        super().__init__(name=name, endpoint=endpoint, category=category)
        self.action = action

    def is_accessible(self) -> bool:
        user = actor()
        return user is not None and policy.can(user, self.action)


class SignedInMenuLink(MenuLink):
    """A menu link for everyone signed in (their own account's pages)."""

    def is_accessible(self) -> bool:
        return actor() is not None


def register(admin: Any) -> None:
    admin.add_link(PolicyMenuLink(_l("认领客户"), "customer.claim_view", "customer.claim",
                                  category=MENU_CUSTOMERS))
    admin.add_link(PolicyMenuLink(_l("密级管理"), "file.register_view", "file.classify",
                                  category=_l("文件")))
    admin.add_link(PolicyMenuLink(_l("API 令牌"), "api_tokens", "token.add",
                                  category=_l("我的账户")))
    # R-ROLE-6: required for some roles, a choice for everyone else
    admin.add_link(SignedInMenuLink(name=_l("双因素登录"), endpoint="two_factor_page",
                                    category=_l("我的账户")))
    admin.add_link(PolicyMenuLink(_l("今日轮流接待"), "receptionrecord.rotation_view",
                                  "reception.manage_rotation", category=MENU_CUSTOMERS))
    admin.add_link(PolicyMenuLink(_l("查询老客户"), "receptionrecord.lookup_view",
                                  "customer.lookup", category=MENU_CUSTOMERS))
