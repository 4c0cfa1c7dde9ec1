"""Small secrets the application must read back (the TOTP secrets of R-ROLE-6), encrypted at
rest with Fernet (AES-128-CBC + HMAC-SHA256, ``cryptography``). A password is hashed instead;
a TOTP secret cannot be: the server computes the expected code from it.

The key comes from the configuration (``TWO_FACTOR_KEY``, else ``SECRET_KEY``), set once by the
app factory; the Fernet key is derived from it with SHA-256 under a label of its own, so the
same configured value is not used twice for different purposes."""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken

_fernet: Fernet | None = None


def set_key(configured: str) -> None:
    global _fernet
    digest = hashlib.sha256(b"customer-archive/two-factor/v1:" + configured.encode()).digest()
    _fernet = Fernet(base64.urlsafe_b64encode(digest))


def _box() -> Fernet:
    if _fernet is None:
        raise RuntimeError("secret_box.set_key was not called (the app factory does it)")
    return _fernet


def seal(plain: str) -> str:
    return _box().encrypt(plain.encode()).decode("ascii")


def open_(sealed: str) -> str | None:
    """The plain text, or None when it was sealed under another key (or altered)."""
    try:
        return _box().decrypt(sealed.encode("ascii")).decode()
    except (InvalidToken, ValueError):
        return None
