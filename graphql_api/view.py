"""The /graphql endpoint.

POST with ``Content-Type: application/json`` only: no queries over GET, no batching (JSON
arrays), no multipart, no form or text/plain posts. GET serves GraphiQL only when
GRAPHQL_GRAPHIQL is on (development). Authentication before anything is parsed:

- ``Authorization: Bearer <token>`` (a personal API token from /account/tokens), or
- the portal's session cookie (same-origin front ends); then mutations also need a valid
  ``X-CSRFToken`` header (the token the portal pages carry).

No or bad credentials → 401 with a JSON error, recorded once in the audit log.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
from cross_web import HTTPException
from flask import (
    Flask,
    Request,
    Response,
    current_app,
    g,
    jsonify,
    request,
    send_from_directory,
)
from flask_login import current_user
from flask_wtf.csrf import ValidationError, validate_csrf
from strawberry.flask.views import GraphQLView

from graphql_api import password_gate, transactions
from graphql_api.context import Context
from models.enums import AuditOutcome
from models.org import User
from portal import audit, two_factor_web
from portal.extensions import csrf, db, orm_session
from portal.services import archive_loans, credit_reads, password_policy, tokens, two_factor

DEFAULT_MAX_BODY = 256 * 1024


def _refuse(status: int, message: str, code: str) -> Response:
    resp = jsonify(errors=[{"message": message, "extensions": {"code": code}}])
    resp.status_code = status
    if status == 401:
        resp.headers["WWW-Authenticate"] = 'Bearer realm="graphql"'
    return resp


def _audit_denied(user: Any, detail: str) -> None:
    db.session.rollback()
    audit.record(db.session, user, "graphql.access", "graphql", outcome=AuditOutcome.DENIED.value,
                 detail=detail)
    db.session.commit()


def authenticate() -> tuple[User | None, str, str]:
    """(user, method, reason for refusal)."""
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _, raw = header.partition(" ")
        if scheme.lower() != "bearer" or not raw.strip():
            return None, "token", "malformed Authorization header"
        # API_TOKEN_CACHE (default on): the token's user, roles and grants kept between
        # requests, checked against auth_epoch each time (portal/services/tokens.py)
        user, reason = tokens.authenticate(
            orm_session(), raw.strip(), keep=current_app.config.get("API_TOKEN_CACHE", True))
        if user is None:
            return None, "token", reason
        if db.session.dirty:  # the last-used time (written at most once a minute)
            db.session.commit()
        # else no commit: it would expire the user just loaded and drop the grants cached for
        # this transaction, costing two more statements per request
        return user, "token", ""
    if current_user.is_authenticated:
        return db.session.get(User, current_user.id), "cookie", ""
    return None, "", "no credentials"


def _two_factor_missing(user: User, method: str, two_factor_session: bool) -> bool:
    """R-ROLE-6: a user who must sign in with two factors uses the API only from a portal
    session signed in with the code, or with a token once enrolled (tokens are created only
    in such a session)."""
    if two_factor_session or not two_factor.required(orm_session(), user):
        return False
    return method == "cookie" or not two_factor.enrolled(orm_session(), user)


def _account_refusal(user: User, method: str, two_factor_session: bool,
                     body: bytes) -> Response | None:
    """R-ROLE-6 account controls before any operation: a password to change first (only the
    change itself goes through), a second factor to set up or to sign in with first."""
    if password_policy.change_required(orm_session(), user) \
            and not password_gate.only_changes_the_password(body):
        _audit_denied(user, "GraphQL refused: R-ROLE-6 the password must be changed first")
        return _refuse(403, "Choose a new password first, in the portal or with the "
                            "changeMyPassword mutation (R-ROLE-6: the account was set up "
                            "or reset by an administrator, or its password expired).",
                       "PASSWORD_CHANGE_REQUIRED")
    if _two_factor_missing(user, method, two_factor_session):
        _audit_denied(user, "GraphQL refused: R-ROLE-6 two-factor sign-in required")
        return _refuse(403, "Set up two-factor sign-in in the portal and sign in with your "
                            "code first (R-ROLE-6: your role signs in with two factors).",
                       "TWO_FACTOR_REQUIRED")
    return None


def _csrf_ok() -> bool:
    try:
        validate_csrf(request.headers.get("X-CSRFToken"))
    except ValidationError:
        return False
    return True


def _has_nul(body: dict[str, Any]) -> bool:
    """A NUL anywhere in the request: in a JSON string, or as a GraphQL string escape
    (``\\u0000``) in the query text. Iterative: the body may be nested deeply."""
    if "\\u0000" in str(body.get("query") or "").lower():
        return True
    stack: list[Any] = [body]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _is_typename_probe(body: bytes) -> bool:
    """``{ __typename }`` (and nothing else) is answered without credentials: a liveness probe
    for load balancers and set-up checks that reads no data and runs no resolver."""
    import json

    from graphql import OperationDefinitionNode, parse
    from graphql.error import GraphQLError

    try:
        payload = json.loads(body)
        document = parse(payload.get("query") or "", no_location=True)
    except (ValueError, AttributeError, TypeError, GraphQLError):
        return False
    if len(document.definitions) != 1:
        return False
    operation = document.definitions[0]
    if not isinstance(operation, OperationDefinitionNode) or operation.operation.value != "query":
        return False
    selections = operation.selection_set.selections
    return bool(selections) and all(
        getattr(sel, "name", None) is not None and sel.name.value == "__typename"
        and getattr(sel, "alias", None) is None and not getattr(sel, "directives", None)
        for sel in selections)


GRAPHIQL_STATIC = Path(__file__).parent / "static" / "graphiql"
# strawberry's GraphiQL page loads these from a public CDN; development intranets often have no
# internet, so the same files (vendored, see static/graphiql/LICENSES.txt) are served locally.
# The page's SRI hashes still check them.
LOCAL_ASSETS = {
    "https://unpkg.com/react@18.2.0/umd/react.production.min.js": "react.production.min.js",
    "https://unpkg.com/react-dom@18.2.0/umd/react-dom.production.min.js":
        "react-dom.production.min.js",
    "https://unpkg.com/js-cookie@3.0.5/dist/js.cookie.min.js": "js.cookie.min.js",
    "https://unpkg.com/graphiql@3.8.3/graphiql.min.css": "graphiql.min.css",
    "https://unpkg.com/@graphiql/plugin-explorer@1.0.2/dist/style.css": "plugin-explorer.css",
    "https://unpkg.com/graphiql@3.8.3/graphiql.min.js": "graphiql.min.js",
    "https://unpkg.com/@graphiql/plugin-explorer@1.0.2/dist/index.umd.js":
        "plugin-explorer.umd.js",
}


def local_graphiql_html(html: str, prefix: str) -> str:
    """strawberry's GraphiQL page with every CDN URL replaced by the local copy; refuses to
    serve a page that still refers to a CDN (a strawberry upgrade changed the versions)."""
    for remote, local in LOCAL_ASSETS.items():
        html = html.replace(remote, f"{prefix}/{local}")
    if "https://unpkg.com" in html or "cdn.jsdelivr" in html:
        raise RuntimeError("GraphiQL refers to assets that are not vendored: update "
                           "graphql_api/static/graphiql and LOCAL_ASSETS")
    return html


def _record_reads(user: Any, credit: set, archives: archive_loans.LoanReads) -> None:
    """The reads an answer is audited for: one entry naming the credit records returned
    (R-AUD-1), and one per borrowed archive returned, naming its loan (R-CUST-9)."""
    wrote = False
    if credit:
        credit_reads.record_credit_read(orm_session(), user, credit, where="graphql")
        wrote = True
    # before any commit: the loans, the user and the grants the answer was scoped with are
    # still this transaction's (a commit in between cost three statements to read them again)
    if archives and archive_loans.record_reads(orm_session(), user,
                                               archives.customer_ids(orm_session(), user),
                                               "graphql"):
        wrote = True
    if wrote:
        _commit_answered()


def _commit_answered() -> None:
    """COMMIT once the answer is built: nothing of this request reads the rows it loaded
    again, so the commit need not expire them (about 50 objects on a customer's detail)."""
    session = db.session()
    if not current_app.config.get("GRAPHQL_KEEP_LOADED_ON_COMMIT", True):
        session.commit()
        return
    expire, session.expire_on_commit = session.expire_on_commit, False
    try:
        session.commit()
    finally:
        session.expire_on_commit = expire


class PortalGraphQLView(GraphQLView):
    @property
    def graphql_ide_html(self) -> str:
        return local_graphiql_html(super().graphql_ide_html, "/graphql/static")

    def dispatch_request(self) -> Any:
        config = current_app.config
        if request.method == "GET":
            if self.graphql_ide and self.should_render_graphql_ide(
                    self.request_adapter_class(request)):
                return self.render_graphql_ide(request)
            return _refuse(405, "Use POST with a JSON body.", "METHOD_NOT_ALLOWED")
        if request.mimetype != "application/json":
            return _refuse(415, "Send the query as JSON (Content-Type: application/json).",
                           "UNSUPPORTED_MEDIA_TYPE")
        limit = int(config.get("GRAPHQL_MAX_BODY_BYTES", DEFAULT_MAX_BODY))
        if request.content_length is None or request.content_length > limit:
            return _refuse(413, f"The request body must be at most {limit} bytes.",
                           "PAYLOAD_TOO_LARGE")
        body = request.get_data(cache=True)
        if len(body) > limit:
            return _refuse(413, f"The request body must be at most {limit} bytes.",
                           "PAYLOAD_TOO_LARGE")
        try:
            body.decode("utf-8")  # Strawberry's request adapter decodes without a guard
        except UnicodeDecodeError:
            return _refuse(400, "The request body must be UTF-8 JSON.", "BAD_REQUEST")
        if body.lstrip()[:1] == b"[":
            return _refuse(400, "Batching is not supported: send one operation per request.",
                           "BATCHING_DISABLED")
        lazy = transactions.lazy_begin.set(bool(config.get("GRAPHQL_LAZY_BEGIN", True))
                                           and transactions.reads_commit_each(db.engine))
        try:
            return self._dispatch_post(config, body)
        finally:
            transactions.lazy_begin.reset(lazy)

    def _dispatch_post(self, config: Any, body: bytes) -> Any:
        user, method, reason = authenticate()
        if user is None and _is_typename_probe(body):
            return Response('{"data":{"__typename":"Query"}}', content_type="application/json")
        if user is None:
            _audit_denied(None, f"GraphQL refused: {reason}")
            return _refuse(401, "Authentication required: send a valid API token "
                                "(Authorization: Bearer …) or log in.", "UNAUTHENTICATED")
        two_factor_session = method == "cookie" and two_factor_web.is_two_factor_session()
        refusal = _account_refusal(user, method, two_factor_session, body)
        if refusal is not None:
            return refusal
        g.graphql_context = Context(
            request=request, response=Response(status=200, content_type="application/json"),
            session=db.session, user=user, auth_method=method,
            csrf_ok=method == "cookie" and _csrf_ok(), request_id=g.get("request_id", ""),
            config=config, two_factor=two_factor_session)
        with credit_reads.collect() as reads, archive_loans.collect_reads() as archives:
            response = super().dispatch_request()
        _record_reads(user, reads, archives)
        ctx: Context = g.graphql_context
        if ctx.refusal_status and isinstance(response, Response):
            if ctx.refusal_status == 403:
                _audit_denied(user, "GraphQL mutation with the session cookie but without a "
                                    "valid X-CSRFToken")
            response.status_code = ctx.refusal_status
        if config.get("GRAPHQL_COMMIT_READ_ONLY", True):
            transactions.commit_if_read_only(db.session())
        return response

    def parse_json(self, data: str | bytes) -> Any:
        """Only a JSON object is a request; anything else (not UTF-8, not JSON, nested past
        the parser's recursion limit, a bare number or string) is the client's 400."""
        try:
            value = json.loads(data)
        except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError
            raise HTTPException(400, "Unable to parse request body as JSON") from exc
        if not isinstance(value, dict):
            raise HTTPException(400, "The request body must be a JSON object.")
        if _has_nul(value):  # PostgreSQL text cannot hold NUL: refuse it before any resolver
            raise HTTPException(400, "NUL characters are not allowed.")
        return value

    def encode_json(self, data: object) -> str | bytes:
        """orjson: several times faster than json.dumps on a page of rows."""
        try:
            return orjson.dumps(data)
        except TypeError:  # something orjson does not know: the standard encoder decides
            return super().encode_json(data)

    def process_result(self, request: Request, result: Any) -> Any:
        """A request refused before execution because a variable has the wrong type is the
        client's mistake: answer 400 (BAD_USER_INPUT), not 200 with a masked error."""
        errors = getattr(result, "errors", None) or []
        if result.data is None and errors and all(
                e.path is None and e.message.startswith("Variable '$") for e in errors):
            g.graphql_context.refusal_status = 400
            for e in errors:
                e.extensions = {**(e.extensions or {}), "code": "BAD_USER_INPUT"}
        return super().process_result(request, result)

    def get_context(self, request: Request, response: Response) -> Context:
        ctx: Context = g.graphql_context
        ctx.response = response
        return ctx


def register(app: Flask) -> None:
    from graphql_api.schema import schema

    ide = "graphiql" if app.config["GRAPHQL_GRAPHIQL"] else None
    view = PortalGraphQLView.as_view("graphql", schema=schema, graphql_ide=ide,
                                     allow_queries_via_get=False,
                                     multipart_uploads_enabled=False)
    csrf.exempt(view)  # tokens need no CSRF; cookie mutations are checked in limits.csrf_rule
    app.add_url_rule("/graphql", view_func=view, methods=["GET", "POST"])
    if ide:
        def graphiql_asset(name: str) -> Any:
            if name not in set(LOCAL_ASSETS.values()):
                return _refuse(404, "Not found.", "NOT_FOUND")
            return send_from_directory(GRAPHIQL_STATIC, name, max_age=86400)

        app.add_url_rule("/graphql/static/<name>", "graphiql_asset", graphiql_asset)
