"""Menu category names that are also field labels in Chinese. "客户" is the menu 客户
(en "Customers") and the field 客户 (en "Customer"): the menu's msgid carries the context
"menu" so that each gets its own English."""

from __future__ import annotations

from flask_babel import lazy_pgettext

MENU_CUSTOMERS = lazy_pgettext("menu", "客户")
