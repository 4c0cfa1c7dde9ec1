"""Extensions, created unbound; ``create_app`` binds them with ``init_app``."""

from __future__ import annotations

from typing import Any, cast

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session

from models.base import Base
from portal.transaction_state import run_first_statement

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
babel = Babel()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


def orm_session() -> Session:
    """``db.session`` typed as the ``Session`` the services take: Flask-SQLAlchemy's scoped
    session proxies one per app context (for the doors' calls into portal/services)."""
    return cast(Session, db.session)


# ---------------------------------------------------------------------------------------------
# A dead pooled connection, without a ping per request (issue 21)
#
# ``pool_pre_ping`` sent one round trip (``;``) before every checkout, i.e. every request. Now a
# connection the server has closed (restart, ``pg_terminate_backend``, an idle timeout) is found
# by the first statement of a transaction: SQLAlchemy sees the disconnect, invalidates that
# connection and every other pooled one opened before it (``pool_recycle`` also retires old
# ones), and the statement is run once more on a fresh connection. Only that first statement is
# re-run, and only when nothing could have been lost: no transaction was open (nothing read or
# written yet in it) and the session had nothing waiting to be flushed.
# ---------------------------------------------------------------------------------------------


@event.listens_for(Session, "do_orm_execute")
def _retry_first_statement_on_a_dead_connection(state: ORMExecuteState) -> Any:
    return run_first_statement(state.session, state.invoke_statement)
