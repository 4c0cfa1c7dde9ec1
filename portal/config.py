"""Class-based configuration. Nothing here reads the environment at import time:
``Config.from_env()`` is called by the app factory."""

from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


class ConfigError(RuntimeError, SystemExit):
    """Raised for a configuration that cannot work; printed as one line, not a traceback.
    Also a SystemExit, so when nothing catches it (``wsgi.py`` imported by ``flask`` or a WSGI
    server) the interpreter prints ``error: <message>`` and exits 1 instead of a traceback;
    ``except Exception`` / ``except RuntimeError`` still catch it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.code = f"error: {message}"



class BaseConfig:
    NAME = "base"
    SECRET_KEY: str | None = None
    SQLALCHEMY_DATABASE_URI: str | None = None
    # no pool_pre_ping (a round trip per request): a dead connection is replaced when the
    # first statement of a transaction finds it (portal/extensions.py); connections older than
    # half an hour are replaced at checkout
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_recycle": 1800}
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    AUDIT_HMAC_KEY: str | None = None
    # R-ROLE-6: the key that encrypts the TOTP secrets at rest (portal/services/secret_box.py);
    # unset, a key derived from SECRET_KEY is used (then rotating SECRET_KEY means everyone
    # enrols their second factor again: set this one in production)
    TWO_FACTOR_KEY: str | None = None
    # the issuer shown by authenticator apps next to the account name
    TWO_FACTOR_ISSUER = "客户档案"
    STORAGE_BACKEND = "local"
    STORAGE_PATH: str | None = None
    MAX_CONTENT_LENGTH = 20 * 1024 * 1024
    MAX_UPLOAD_BYTES = 10 * 1024 * 1024
    BABEL_DEFAULT_LOCALE = "zh_Hans_CN"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    LANGUAGES = {"zh_Hans_CN": "简体中文", "en": "English"}
    WTF_CSRF_TIME_LIMIT = None
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_DURATION = 0
    PERMANENT_SESSION_LIFETIME = 8 * 3600
    LOGIN_MAX_FAILURES = 5
    LOGIN_LOCK_MINUTES = 15
    RATELIMIT_STORAGE_URI = "memory://"
    # operations (portal/observability.py): log lines as text or one JSON object per line;
    # /metrics answers only with this bearer token (404 when unset)
    LOG_FORMAT = "text"
    LOG_LEVEL = "INFO"
    METRICS_TOKEN: str | None = None
    # notifications that leave the building (portal/channels.py): each channel is on when set
    PUBLIC_BASE_URL: str | None = None   # the portal's address, for links in messages
    SMTP_HOST: str | None = None
    SMTP_PORT = 587
    SMTP_TLS = "starttls"                # starttls, ssl or none
    SMTP_USER: str | None = None
    SMTP_PASSWORD: str | None = None
    SMTP_FROM: str | None = None
    SMTP_CA_FILE: str | None = None
    WECOM_WEBHOOK_URL: str | None = None
    DINGTALK_WEBHOOK_URL: str | None = None
    DINGTALK_SECRET: str | None = None
    # reverse proxies in front of the app that set X-Forwarded-For/-Proto/-Host (0 = none)
    PROXY_COUNT = 0
    RATELIMIT_LOGIN = "20 per minute"
    GRAPHQL_GRAPHIQL = False
    GRAPHQL_INTROSPECTION = True
    GRAPHQL_MAX_DEPTH = 10
    GRAPHQL_MAX_ALIASES = 30
    GRAPHQL_MAX_TOKENS = 2000
    GRAPHQL_MAX_PAGE_SIZE = 100
    GRAPHQL_MAX_COST = 50000
    # graphql_api/execution.py: the fast path for types that opt in (FAST_RESOLVERS); off here
    # answers everything through graphql-core. It also stays off when its start-up
    # self-check finds that graphql-core/Strawberry internals changed (one warning in the log).
    GRAPHQL_FAST_EXECUTION = os.environ.get("GRAPHQL_FAST_EXECUTION", "1").lower() not in (
        "0", "false", "no", "off")
    # graphql_api/execution_rows.py (with the fast path only): marked relationships of a list
    # are answered for the whole level from rows, without node objects; off: the node path.
    GRAPHQL_ROW_LEVELS = os.environ.get("GRAPHQL_ROW_LEVELS", "1").lower() not in (
        "0", "false", "no", "off")
    # graphql_api/json_statement.py (with row levels, PostgreSQL only): a list whose fields
    # all have SQL twins is answered by one statement that builds its JSON; off: row levels.
    GRAPHQL_JSON_STATEMENT = os.environ.get("GRAPHQL_JSON_STATEMENT", "1").lower() not in (
        "0", "false", "no", "off")
    # portal/services/tokens.py: an API token's user, roles and grants kept per worker and
    # checked against auth_epoch on every request (migration 0021); off: read every request.
    API_TOKEN_CACHE = os.environ.get("API_TOKEN_CACHE", "1").lower() not in (
        "0", "false", "no", "off")
    # graphql_api/transactions.py (PostgreSQL, READ COMMITTED): a GraphQL request's
    # transaction begins at its first write (a read-only one sends no BEGIN/COMMIT).
    GRAPHQL_LAZY_BEGIN = os.environ.get("GRAPHQL_LAZY_BEGIN", "1").lower() not in (
        "0", "false", "no", "off")
    # graphql_api/view.py: the credit-read commit after the answer leaves its rows unexpired.
    GRAPHQL_KEEP_LOADED_ON_COMMIT = True
    LOAD_DEMO_DATA = False
    TESTING = False
    DEBUG = False

    def finalize(self) -> None:
        """Hook for subclasses to validate after environment overrides are applied."""


class DevelopmentConfig(BaseConfig):
    NAME = "development"
    DEBUG = True
    SECRET_KEY = "dev-only-not-secret"
    AUDIT_HMAC_KEY = "dev-only-audit-key"
    GRAPHQL_GRAPHIQL = True
    LOAD_DEMO_DATA = True
    SQLALCHEMY_DATABASE_URI = f"sqlite:///{BASE_DIR / 'instance' / 'portal.sqlite3'}"


class TestingConfig(BaseConfig):
    NAME = "testing"
    TESTING = True
    SECRET_KEY = "testing-secret"
    AUDIT_HMAC_KEY = "testing-audit-key"
    WTF_CSRF_ENABLED = False
    RATELIMIT_ENABLED = False
    SQLALCHEMY_DATABASE_URI = "sqlite://"


class ProductionConfig(BaseConfig):
    NAME = "production"
    LOG_FORMAT = "json"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    GRAPHQL_INTROSPECTION = False
    GRAPHQL_GRAPHIQL = False
    PREFERRED_URL_SCHEME = "https"

    def finalize(self) -> None:
        missing = [k for k in ("SECRET_KEY", "SQLALCHEMY_DATABASE_URI", "AUDIT_HMAC_KEY")
                   if not getattr(self, k)]
        if missing:
            names = {"SQLALCHEMY_DATABASE_URI": "DATABASE_URL"}
            raise ConfigError(
                "production configuration refuses to start: set "
                + ", ".join(names.get(m, m) for m in missing)
                + " in the environment"
            )
        if self.SECRET_KEY and len(self.SECRET_KEY) < 16:
            raise ConfigError("production configuration refuses to start: SECRET_KEY is too short")


CONFIGS: dict[str, type[BaseConfig]] = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}

ENV_OVERRIDES = {
    "SECRET_KEY": "SECRET_KEY",
    "DATABASE_URL": "SQLALCHEMY_DATABASE_URI",
    "AUDIT_HMAC_KEY": "AUDIT_HMAC_KEY",
    "TWO_FACTOR_KEY": "TWO_FACTOR_KEY",
    "TWO_FACTOR_ISSUER": "TWO_FACTOR_ISSUER",
    "STORAGE_PATH": "STORAGE_PATH",
    "STORAGE_BACKEND": "STORAGE_BACKEND",
    "RATELIMIT_STORAGE_URI": "RATELIMIT_STORAGE_URI",
    "S3_BUCKET": "S3_BUCKET",
    "S3_ENDPOINT_URL": "S3_ENDPOINT_URL",
    "LOG_FORMAT": "LOG_FORMAT",
    "LOG_LEVEL": "LOG_LEVEL",
    "METRICS_TOKEN": "METRICS_TOKEN",
    "PROXY_COUNT": "PROXY_COUNT",
    **{k: k for k in ("PUBLIC_BASE_URL", "SMTP_HOST", "SMTP_PORT", "SMTP_TLS", "SMTP_USER",
                      "SMTP_PASSWORD", "SMTP_FROM", "SMTP_CA_FILE", "WECOM_WEBHOOK_URL",
                      "DINGTALK_WEBHOOK_URL", "DINGTALK_SECRET")},
}


def load_config(name: str | None = None, overrides: dict | None = None) -> BaseConfig:
    """Build the config object: class defaults, then environment, then explicit overrides."""
    name = name or os.environ.get("PORTAL_CONFIG", "development")
    if name not in CONFIGS:
        raise ConfigError(f"unknown PORTAL_CONFIG {name!r}; use one of {', '.join(CONFIGS)}")
    cfg = CONFIGS[name]()
    for env_key, attr in ENV_OVERRIDES.items():
        value = os.environ.get(env_key)
        if value:
            setattr(cfg, attr, value)
    for key, value in (overrides or {}).items():
        setattr(cfg, key, value)
    uri = cfg.SQLALCHEMY_DATABASE_URI or ""
    if uri.startswith("postgres://"):
        uri = "postgresql+psycopg://" + uri[len("postgres://"):]
    elif uri.startswith("postgresql://"):
        uri = "postgresql+psycopg://" + uri[len("postgresql://"):]
    cfg.SQLALCHEMY_DATABASE_URI = uri or None
    if not cfg.STORAGE_PATH:
        cfg.STORAGE_PATH = str(BASE_DIR / "instance" / "storage")
    cfg.finalize()
    return cfg
