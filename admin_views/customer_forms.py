"""The forms of the customer pages (客户档案): the values each page sends its service."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from admin_views import common


class ReassignForm(FlaskForm):
    new_owner = SelectField(_l("新归属人"), coerce=int, validators=[DataRequired()])
    reason = StringField(_l("原因"), validators=[DataRequired(), Length(max=300)])


class FollowUpForm(FlaskForm):
    kind = SelectField(_l("方式"), choices=common.FOLLOW_UP_KIND, validators=[DataRequired()])
    notes = TextAreaField(_l("备注"), validators=[Optional(), Length(max=2000)])
    intent = SelectField(_l("意向级别"), choices=[("", _l("（不变）")), *common.INTENT],
                         validators=[Optional()])
    planned_next_on = DateField(
        _l("下次回访日期"), validators=[Optional()],
        description=_l("与客户约定的下次回访日期，不能晚于制度规定的回访期限；留空则按制度期限。"))


class ContactForm(FlaskForm):
    name = StringField(_l("姓名"), validators=[DataRequired(), Length(max=100)])
    title = StringField(_l("职务"), validators=[Optional(), Length(max=100)])
    phone = StringField(_l("电话"), validators=[Optional(), Length(max=32)])
    email = StringField(_l("邮箱"), validators=[Optional(), Length(max=200)])
    is_primary = BooleanField(_l("主要联系人"))


class ConfirmForm(FlaskForm):
    """No parameters: the page shows the archive and a confirm button (成交, 认领)."""


class CloseForm(FlaskForm):
    reason = StringField(_l("关闭原因"), validators=[DataRequired(), Length(max=300)])


TRANSACTION_KIND = (("order", _l("赊销订单（增加应收）")), ("payment", _l("回款（减少应收）")),
                    ("prepayment", _l("预付款（供应商，须填到货期限）")),
                    ("delivery", _l("到货（冲减预付款）")))


class TransactionForm(FlaskForm):
    kind = SelectField(_l("交易类型"), choices=TRANSACTION_KIND, validators=[DataRequired()])
    amount = DecimalField(_l("金额（元）"), places=2,
                          validators=[InputRequired(), NumberRange(min=0.01)])
    reference = StringField(_l("单据号"), validators=[Optional(), Length(max=64)])
    # R-CRED-10: a prepayment to a supplier is due on its delivery deadline (到货期限); the
    # service refuses one without it, and any other kind with it
    delivery_deadline = DateField(_l("到货期限（仅预付款）"), validators=[Optional()])


class OverLimitForm(FlaskForm):
    amount = DecimalField(_l("可超出额度（元）"), places=2,
                          validators=[InputRequired(), NumberRange(min=0.01)])
    reason = StringField(_l("超额理由"), validators=[DataRequired(), Length(max=300)])
    valid_days = IntegerField(_l("有效天数"), default=30,
                              validators=[InputRequired(), NumberRange(min=1, max=366)])
