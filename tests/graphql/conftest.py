"""Helpers for the GraphQL tests: API tokens for users and a JSON poster."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient

from models import ApiToken
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
    """``api(user)`` → a callable posting GraphQL as that user with a fresh API token."""
    def _api(user) -> Api:
        return Api(app.test_client(), make_token(session, user))
    return _api
