"""Import of customer archives (客户档案导入): upload an .xlsx or .csv, read the dry-run report
row by row, then confirm.

The parsed rows are kept between the two steps in the database (``import_staging``), under a
random token that only this user's session knows, so any app server can take the confirmation;
the confirm step never trusts posted rows.
Nothing is written by the dry run, nor by a file with problems unless the user ticks "import
only the valid rows". Both steps call ``portal.services.customer_import`` (same rules as
creating one archive by hand).
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, request, session, url_for
from flask_admin import BaseView, expose
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from admin_views.base import actor, record_denied, translated
from admin_views.menu_names import MENU_CUSTOMERS
from portal import policy
from portal.extensions import db
from portal.services import customer_import as imp
from portal.services import import_staging
from portal.services.errors import DomainError, PermissionDenied

SESSION_KEY = "customer_import"
ACTION = "customer.import"


class CustomerImportView(BaseView):
    """Upload → dry-run report → confirm, guarded by ``customer.import``."""

    def is_accessible(self) -> bool:
        user = actor()
        return user is not None and policy.can(user, ACTION)

    def inaccessible_callback(self, name: str, **kwargs: Any) -> Any:
        if actor() is None:
            return redirect(url_for("login", next=request.full_path.rstrip("?")))
        record_denied(ACTION, "CustomerImport")
        return abort(403)

    def _page(self, status: int = 200, **context: Any) -> Any:
        context.setdefault("report", None)
        context.setdefault("token", None)
        context.setdefault("upload", None)
        context.setdefault("limits", {"mb": imp.MAX_BYTES // (1024 * 1024),
                                      "rows": imp.MAX_ROWS})
        return self.render("admin/customer_import.html", **context), status

    def _run(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """Call a service; a refusal becomes a flashed message (the verb already rolled
        back, and audited a permission refusal)."""
        try:
            return fn(db.session, actor(), *args, **kwargs)
        except PermissionDenied:
            abort(403)
        except DomainError as exc:
            flash(translated(exc), "error")
            return None

    @expose("/", methods=("GET",))
    def index(self) -> Any:
        return self._page()

    @expose("/upload", methods=("POST",))
    def upload(self) -> Any:
        file = request.files.get("file")
        if file is None or not file.filename:
            flash(gettext("请选择要上传的文件（.xlsx 或 .csv）。"), "error")
            return self._page(400)
        content = file.stream.read(imp.MAX_BYTES + 1)
        try:
            upload = imp.read_upload(file.filename, content)
        except DomainError as exc:
            flash(translated(exc), "error")
            return self._page(400)
        report = self._run(imp.dry_run, upload)
        if report is None:
            return self._page(400)
        import_staging.discard(db.session, session.pop(SESSION_KEY, None))
        token = import_staging.stage(db.session, actor(), upload)
        session[SESSION_KEY] = token
        return self._page(report=report, token=token, upload=upload)

    @expose("/confirm", methods=("POST",))
    def confirm(self) -> Any:
        token = session.get(SESSION_KEY)
        if not token or request.form.get("token") != token:
            flash(gettext("导入已过期或已完成，请重新上传文件。"), "error")
            return redirect(self.get_url(".index"))
        upload = import_staging.load(db.session, actor(), token)
        if upload is None:
            session.pop(SESSION_KEY, None)
            flash(gettext("导入已过期或已完成，请重新上传文件。"), "error")
            return redirect(self.get_url(".index"))
        valid_only = request.form.get("valid_only") in ("1", "on", "true", "y")
        report = self._run(imp.import_rows, upload, valid_only=valid_only)
        if report is None:
            dry = self._run(imp.dry_run, upload)
            return self._page(400, report=dry, token=token, upload=upload)
        import_staging.discard(db.session, session.pop(SESSION_KEY, None))
        flash(gettext("已导入 %(n)s 条客户档案。", n=report.valid), "success")
        return self._page(report=report, upload=upload)

    @expose("/cancel", methods=("POST",))
    def cancel(self) -> Any:
        import_staging.discard(db.session, session.pop(SESSION_KEY, None))
        flash(gettext("已取消导入，未写入任何数据。"), "info")
        return redirect(self.get_url(".index"))


def register(admin: Any) -> None:
    admin.add_view(CustomerImportView(name=_l("导入客户档案"), category=MENU_CUSTOMERS,
                                      endpoint="customer_import", url="customer_import"))
