"""Extensions, created unbound; ``create_app`` binds them with ``init_app``."""

from __future__ import annotations

from typing import cast

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy.orm import Session

from models.base import Base

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
