"""The typed per-request context: who is asking, the database session, and the loaders.

Created by the view for each request (never at module scope), so nothing cached in the loaders
can leak from one user to another.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import Request, Response
from sqlalchemy.orm import Session

from graphql_api.loaders import Loaders
from models.org import User


@dataclass
class Context:
    request: Request
    response: Response
    session: Session
    user: User
    auth_method: str  # "token" or "cookie"
    csrf_ok: bool  # a valid X-CSRFToken came with a cookie-authenticated request
    request_id: str
    config: dict[str, Any]
    loaders: Loaders = field(init=False)
    refusal_status: int | None = None  # an HTTP status the view should answer with
    two_factor: bool = False  # a portal session signed in with the second factor (R-ROLE-6)

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.session, self.user)
