"""Helpers for the GraphQL tests: API tokens for users and a JSON poster."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from models import ApiToken, User
from models.base import utcnow
from portal.services.tokens import PREFIX_LENGTH, TOKEN_PREFIX


def make_token(session, user, *, days: int = 30, **fields: Any) -> str:
    """A raw token for ``user`` written straight to the table (roles without token.add, such
    as auditors, still need one to test the API)."""
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, name="test", prefix=raw[:PREFIX_LENGTH],
                         token_hash=hashlib.sha256(raw.encode()).hexdigest(),
                         expires_at=utcnow() + timedelta(days=days), **fields))
    session.commit()
    return raw


class Api:
    def __init__(self, client: FlaskClient, token: str | None = None) -> None:
        self.client = client
        self.token = token

    def post(self, query: str, variables: dict | None = None, **headers: str):
        if self.token:
            headers.setdefault("Authorization", f"Bearer {self.token}")
        return self.client.post("/graphql", json={"query": query, "variables": variables or {}},
                                headers=headers)

    def __call__(self, query: str, variables: dict | None = None, **headers: str) -> dict:
        resp = self.post(query, variables, **headers)
        assert resp.status_code == 200, resp.get_data(as_text=True)
        return resp.get_json()


@pytest.fixture
def api(app, session):
    """``api(user)`` → a callable posting GraphQL as that user with a fresh API token.

    On first use every other active user gets a token too ("bystander"): what one token reads
    must never depend on other people's tokens (their owners' grants once leaked into every
    token's request), so each GraphQL test runs with tokens of every role in the table."""
    bystanders: list[bool] = []

    def _api(user) -> Api:
        if not bystanders:
            bystanders.append(True)
            for other in session.scalars(select(User).where(User.is_active.is_(True),
                                                            User.id != user.id)).all():
                make_token(session, other)
        return Api(app.test_client(), make_token(session, user))
    return _api
