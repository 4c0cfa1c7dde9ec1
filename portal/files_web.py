"""GET /files/<id>/download[?token=…]: the one way file content leaves the system.

Every call goes through ``services.files.open_download`` (no read up, copy approval, checksum,
audit). The answer is always an attachment with a safe name (RFC 6266 / RFC 5987
``filename*``), the verified content type, ``nosniff`` and ``no-store``. Out-of-scope and
missing ids answer the same 404. The storage folder itself is never routed.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

from flask import Blueprint, Flask, Response, abort, render_template, request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from models.org import User
from portal import storage
from portal.extensions import db
from portal.services import files
from portal.services.errors import NotFound, PermissionDenied

bp = Blueprint("files", __name__)

_UNSAFE_ASCII = re.compile(r"[^A-Za-z0-9._-]+")


def content_disposition(name: str) -> str:
    """``attachment`` with an ASCII fallback and the UTF-8 name in ``filename*``."""
    clean = "".join(ch for ch in unicodedata.normalize("NFC", name)
                    if unicodedata.category(ch)[0] != "C" and ch not in "\"\\/")
    clean = clean.strip() or "download"
    ascii_name = unicodedata.normalize("NFKD", clean).encode("ascii", "ignore").decode()
    ascii_name = _UNSAFE_ASCII.sub("_", ascii_name).strip("._") or "download"
    if "." in clean and "." not in ascii_name:
        ascii_name = f"{ascii_name}.{clean.rsplit('.', 1)[1]}"
        ascii_name = _UNSAFE_ASCII.sub("_", ascii_name)
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(clean, safe='')}"


def _error(status: int, message: str) -> Response:
    try:
        body = render_template("error.html", code=status, message=message)
    except Exception:
        body = message
    resp = Response(body, status=status, mimetype="text/html")
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.route("/files/<int:file_id>/download", methods=["GET"])
@login_required
def download(file_id: int) -> Response:
    if request.method != "GET":  # HEAD would consume a one-time token
        abort(405)
    actor = db.session.get(User, current_user.id)
    token = request.args.get("token") or None
    try:
        f, content, name = files.open_download(db.session, actor, file_id, token=token)
    except NotFound:
        return _error(404, _("Not found."))
    except PermissionDenied as exc:
        return _error(403, exc.translated(_))
    except (files.IntegrityFailure, files.CopyNotMarkable) as exc:
        return _error(409, exc.translated(_))
    except files.StorageFailed as exc:
        return _error(503, exc.translated(_))
    kind = files.KIND_BY_CONTENT_TYPE.get(f.content_type)
    mimetype = kind.content_type if kind else "application/octet-stream"
    resp = Response(content, status=200, headers={"Content-Type": mimetype})
    resp.headers["Content-Disposition"] = content_disposition(name)
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Cache-Control"] = "no-store, private"
    resp.headers["Pragma"] = "no-cache"
    resp.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    resp.headers["Content-Length"] = str(len(content))
    return resp


def init_app(app: Flask) -> None:
    storage.init_app(app)
    app.register_blueprint(bp)
