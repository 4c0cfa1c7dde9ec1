"""客户档案 one-row pages of the details page (添加联系人, 登记成交, 认领, 关闭档案, 登记交易,
批准超额度): each a form for one archive posted to its service verb."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort, flash, redirect, request
from flask_admin import expose
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from admin_views.base import (
    actor,
    record_denied,
)
from admin_views.customer_forms import (
    CloseForm,
    ConfirmForm,
    ContactForm,
    OverLimitForm,
    TransactionForm,
)
from models import Customer
from portal import policy
from portal.extensions import db, orm_session
from portal.services import credit as credit_service
from portal.services import customers as customer_rules
from portal.services.errors import DomainError, NotFound, PermissionDenied
from portal.services.unit import form_version

# Row pages that change the archive itself: their form carries the version the user saw.
VERSIONED_ROW_PAGES = frozenset({"deal_view", "claim_view", "close_view"})


def _seen() -> int:
    """The version the posted form says the user saw (``NO_VERSION`` when it has none)."""
    return form_version(request.form.get("version"))


def _claimable(user: Any) -> Any:
    """Archives of the user's branch a salesperson may claim: unowned or ownership expired
    (R-CUST-2). The claim page lists them, although they are outside the user's own scope."""
    return customer_rules.claimable_in_branch_sql(orm_session(), user)


# One-row pages of the details page: endpoint → (service verb, policy action, label, submit).
ROW_PAGES: dict[str, tuple[Callable[..., Any], str, Any, Any]] = {
    "contact_view": (customer_rules.add_contact, "customer_contact.change", _l("添加联系人"),
                     _l("添加")),
    "deal_view": (customer_rules.record_deal, "customer.change", _l("登记成交"),
                  _l("确认成交")),
    "claim_view": (customer_rules.claim_customer, "customer.claim", _l("认领客户"),
                   _l("认领")),
    "close_view": (customer_rules.close_customer, "customer.close", _l("关闭客户档案"),
                   _l("关闭档案")),
    "transaction_view": (credit_service.record_transaction, "credit.record_transaction",
                         _l("登记交易"), _l("登记")),
    "over_limit_view": (credit_service.approve_over_limit, "credit.approve_over_limit",
                        _l("批准超额度"), _l("批准")),
}


class CustomerRowPages:
    """The one-row pages (ROW_PAGES), mixed into ``CustomerView``."""

    def _row_policy(self: Any, endpoint: str, obj: Any) -> bool:
        """The policy check the service makes for this row (a claim: the preconditions of
        ``claim_customer``, from the service)."""
        user = actor()
        if endpoint == "claim_view":
            return customer_rules.claim_preconditions_met(orm_session(), user, obj)
        return policy.can(user, ROW_PAGES[endpoint][1], obj)

    def row_page_allowed(self: Any, endpoint: str, obj: Any) -> bool:
        """Whether the details page offers the button: a service behind it, the policy allows
        it for this row, and the archive's state makes it meaningful."""
        if not self.supports(endpoint) or not self._row_policy(endpoint, obj):
            return False
        is_open = customer_rules.is_open_archive(obj)
        if endpoint in ("contact_view", "close_view"):
            return is_open
        if endpoint == "deal_view":
            return is_open and obj.deal_at is None
        if endpoint == "claim_view":
            return customer_rules.may_claim(orm_session(), actor(), obj)
        return True

    def _row_for(self: Any, endpoint: str) -> Any:
        """The archive of ``?id=``: through the row scope of the page's action; a claim also
        reaches the claimable archives of the user's branch (outside their own scope)."""
        action = ROW_PAGES[endpoint][1]
        if endpoint != "claim_view":
            return self.get_one_for(request.args.get("id"), action)
        pk = self.parse_pk(request.args.get("id"))
        if pk is None:
            abort(404)
        user = actor()
        obj = db.session.scalar(policy.scope(select(Customer), user, Customer, "customer.view")
                                .where(Customer.id == pk))
        if obj is None:
            obj = db.session.scalar(select(Customer).where(Customer.id == pk, _claimable(user)))
        if obj is None:
            if db.session.get(Customer, pk) is not None:
                record_denied(action, ("Customer", pk), "admin: row outside scope")
            abort(404)
        return obj

    def _row_page(self: Any, endpoint: str, form: Any, call: Any, done: str) -> Any:
        """GET: the form for one archive; POST: ``call(session, actor, customer_id)`` through
        the service. A refusal by the policy answers 403 (audited once); a domain error
        re-renders the form with the translated message, nothing changed."""
        function, action, title, submit = ROW_PAGES[endpoint]
        obj = self._row_for(endpoint)
        if not self._row_policy(endpoint, obj):
            record_denied(action, obj, f"admin {request.method} {request.path}"[:500])
            abort(403)
        if request.method == "POST" and form.validate():
            fn = function
            try:
                call(fn, db.session, actor(), obj.id)
            except PermissionDenied:
                abort(403)  # audited by the service's @verb
            except NotFound:
                abort(404)
            except DomainError as exc:
                db.session.rollback()
                self._fail(exc, form)
            else:
                flash(done, "success")
                return redirect(self.get_url(".details_view", id=obj.id))
        return self.render("admin/portal_form.html", form=form, rows=[obj], title=title,
                           submit=submit, ids=None,
                           version=obj.version if endpoint in VERSIONED_ROW_PAGES else None,
                           return_url=self.get_url(".details_view", id=obj.id))

    @expose("/contact/", methods=("GET", "POST"))
    def contact_view(self: Any) -> Any:
        form = ContactForm()

        def call(fn: Any, session: Any, user: Any, pk: int) -> Any:
            data = {k: (form[k].data or "").strip() or None
                    for k in ("name", "title", "phone", "email")}
            data["is_primary"] = bool(form.is_primary.data)
            return fn(session, user, pk, data)

        return self._row_page("contact_view", form, call, gettext("已添加联系人。"))

    @expose("/deal/", methods=("GET", "POST"))
    def deal_view(self: Any) -> Any:
        return self._row_page("deal_view", ConfirmForm(),
                              lambda fn, s, u, pk: fn(s, u, pk, expected_version=_seen()),
                              gettext("已登记成交。"))

    def claimable_rows(self: Any, user: Any) -> list[Customer]:
        """The claimable archives of the user's branch (outside their own scope: a salesperson
        finds here what they may claim), newest first, at most 200: the claim page's list and
        the home page's count."""
        rows = db.session.scalars(select(Customer).where(_claimable(user))
                                  .order_by(Customer.id.desc()).limit(200))
        return [r for r in rows if self.row_page_allowed("claim_view", r)]

    @expose("/claim/", methods=("GET", "POST"))
    def claim_view(self: Any) -> Any:
        if request.method == "GET" and not request.args.get("id"):
            rows = self.claimable_rows(actor())
            return self.render("admin/customer_claim_list.html", rows=rows,
                               title=ROW_PAGES["claim_view"][2],
                               return_url=self.get_url(".index_view"))
        return self._row_page("claim_view", ConfirmForm(),
                              lambda fn, s, u, pk: fn(s, u, pk, expected_version=_seen()),
                              gettext("已认领该客户档案。"))

    @expose("/close/", methods=("GET", "POST"))
    def close_view(self: Any) -> Any:
        form = CloseForm()
        return self._row_page("close_view", form,
                              lambda fn, s, u, pk: fn(s, u, pk, form.reason.data.strip(),
                                                      expected_version=_seen()),
                              gettext("客户档案已关闭。"))

    @expose("/transaction/", methods=("GET", "POST"))
    def transaction_view(self: Any) -> Any:
        form = TransactionForm()
        return self._row_page(
            "transaction_view", form,
            lambda fn, s, u, pk: fn(s, u, pk, form.kind.data, form.amount.data,
                                    reference=(form.reference.data or "").strip() or None,
                                    delivery_deadline=form.delivery_deadline.data),
            gettext("已登记交易。"))

    @expose("/over-limit/", methods=("GET", "POST"))
    def over_limit_view(self: Any) -> Any:
        form = OverLimitForm()
        return self._row_page(
            "over_limit_view", form,
            lambda fn, s, u, pk: fn(s, u, pk, form.amount.data, form.reason.data.strip(),
                                    form.valid_days.data),
            gettext("已批准超额度。"))
