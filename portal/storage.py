"""Content-addressed blob storage for confidential files (R-FILE-5).

One small interface, two backends:

- ``LocalStorage`` (default): a folder (``STORAGE_PATH``) outside the static and template
  folders, never served directly. A blob is written to a temporary file in its final
  directory, fsynced, then renamed into place (atomic on POSIX), and the directory is fsynced.
- ``S3Storage`` (``STORAGE_BACKEND="s3"``, ``S3_BUCKET``, ``S3_ENDPOINT_URL``): any
  S3-compatible store, for several app servers. ``boto3`` is imported only when this backend is
  used (``pip install .[s3]``).

Keys are the SHA-256 of the content (64 lowercase hex characters); a key that is not exactly
that is refused, so no caller-supplied text ever becomes a path. ``get`` verifies the content
against its key on every read and raises ``ChecksumMismatch`` when it differs.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

KEY_RE = re.compile(r"^[0-9a-f]{64}$")
TEMP_PREFIX = ".upload-"


class StorageError(Exception):
    """The store could not do what was asked (disk full, network, permissions)."""


class BlobMissing(StorageError):
    """No blob under this key."""


class ChecksumMismatch(StorageError):
    """The stored bytes do not hash to their key: the content was altered or damaged."""

    def __init__(self, key: str, actual: str) -> None:
        self.key = key
        self.actual = actual
        super().__init__(f"stored content of {key[:12]}… hashes to {actual[:12]}…")


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def check_key(key: str) -> str:
    if not isinstance(key, str) or not KEY_RE.match(key):
        raise ValueError("storage keys are SHA-256 hex digests")
    return key


def _verified(key: str, data: bytes) -> bytes:
    actual = digest(data)
    if actual != key:
        raise ChecksumMismatch(key, actual)
    return data


class Storage(Protocol):
    def put(self, data: bytes) -> str: ...
    def get(self, key: str) -> bytes: ...
    def exists(self, key: str) -> bool: ...
    def delete(self, key: str) -> None: ...
    def iter_keys(self) -> Iterator[str]: ...


class LocalStorage:
    """Blobs under ``root/ab/cd/<sha256>``. The write steps are methods so fault-injection
    tests can break each one."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).resolve()

    # -- paths ---------------------------------------------------------------------------
    def path_for(self, key: str) -> Path:
        check_key(key)
        return self.root / key[:2] / key[2:4] / key

    # -- the write steps (overridable for fault injection) -------------------------------
    def _write(self, fd: int, data: bytes) -> None:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]

    def _fsync(self, fd: int) -> None:
        os.fsync(fd)

    def _rename(self, src: str, dst: Path) -> None:
        os.replace(src, dst)

    def _fsync_dir(self, directory: Path) -> None:
        with contextlib.suppress(OSError):  # not every filesystem allows it
            fd = os.open(directory, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)

    # -- interface -----------------------------------------------------------------------
    def put(self, data: bytes) -> str:
        key = digest(data)
        final = self.path_for(key)
        if final.exists():
            try:
                _verified(key, final.read_bytes())
                return key  # same content already stored (content addressing)
            except ChecksumMismatch:
                pass  # a damaged copy: replace it with the good bytes
        try:
            final.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=final.parent)
        except OSError as exc:
            raise StorageError(f"cannot create a temporary file: {exc.strerror or exc}") from exc
        try:
            try:
                self._write(fd, data)
                self._fsync(fd)
            finally:
                os.close(fd)
            self._rename(tmp, final)
        except BaseException as exc:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            if isinstance(exc, OSError):
                raise StorageError(f"cannot store the file: {exc.strerror or exc}") from exc
            raise
        self._fsync_dir(final.parent)
        return key

    def get(self, key: str) -> bytes:
        path = self.path_for(key)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise BlobMissing(key) from None
        except OSError as exc:
            raise StorageError(f"cannot read the file: {exc.strerror or exc}") from exc
        return _verified(key, data)

    def exists(self, key: str) -> bool:
        return self.path_for(key).is_file()

    def delete(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path_for(key).unlink()

    def iter_keys(self) -> Iterator[str]:
        if not self.root.is_dir():
            return
        for path in sorted(self.root.glob("??/??/*")):
            if path.is_file() and KEY_RE.match(path.name) \
                    and path.parent.name == path.name[2:4] \
                    and path.parent.parent.name == path.name[:2]:
                yield path.name

    def iter_temp(self) -> Iterator[Path]:
        """Temporary files left by an interrupted write (partial uploads)."""
        if not self.root.is_dir():
            return
        yield from sorted(self.root.glob(f"**/{TEMP_PREFIX}*"))


class S3Storage:
    """An S3-compatible bucket; objects are named ``<prefix><sha256>``. A PUT is atomic in
    S3, so no temporary object is needed."""

    def __init__(self, bucket: str, endpoint_url: str | None = None, prefix: str = "files/",
                 client: Any = None) -> None:
        if not bucket:
            raise StorageError("S3 storage needs S3_BUCKET")
        self.bucket = bucket
        self.prefix = prefix
        self.endpoint_url = endpoint_url
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            try:
                import boto3
            except ImportError as exc:  # pragma: no cover - depends on the install
                raise StorageError(
                    "STORAGE_BACKEND=s3 needs boto3: pip install 'customer-archive-portal[s3]'"
                ) from exc
            self._client = boto3.client("s3", endpoint_url=self.endpoint_url or None)
        return self._client

    def _name(self, key: str) -> str:
        return self.prefix + check_key(key)

    @staticmethod
    def _is_missing(exc: Exception) -> bool:
        code = str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))
        return code in ("404", "NoSuchKey", "NotFound")

    def put(self, data: bytes) -> str:
        key = digest(data)
        if self.exists(key):
            try:
                self.get(key)
                return key
            except ChecksumMismatch:
                pass
        try:
            self.client.put_object(Bucket=self.bucket, Key=self._name(key), Body=data,
                                   ContentType="application/octet-stream")
        except Exception as exc:  # botocore errors have no common importable base here
            raise StorageError(f"cannot store the file: {exc}") from exc
        return key

    def get(self, key: str) -> bytes:
        try:
            obj = self.client.get_object(Bucket=self.bucket, Key=self._name(key))
            data = obj["Body"].read()
        except Exception as exc:
            if self._is_missing(exc):
                raise BlobMissing(key) from None
            raise StorageError(f"cannot read the file: {exc}") from exc
        return _verified(key, data)

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self._name(key))
            return True
        except Exception as exc:
            if self._is_missing(exc):
                return False
            raise StorageError(f"cannot reach the store: {exc}") from exc

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._name(key))

    def iter_keys(self) -> Iterator[str]:
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix):
            for item in page.get("Contents", []) or []:
                name = item["Key"][len(self.prefix):]
                if KEY_RE.match(name):
                    yield name


def from_config(config: Any) -> Storage:
    """Build the backend named by the configuration (a Flask config mapping)."""
    backend = (config.get("STORAGE_BACKEND") or "local").lower()
    if backend == "s3":
        return S3Storage(config.get("S3_BUCKET") or "", config.get("S3_ENDPOINT_URL"),
                         prefix=config.get("S3_PREFIX", "files/"))
    if backend != "local":
        raise StorageError(f"unknown STORAGE_BACKEND {backend!r}; use local or s3")
    path = config.get("STORAGE_PATH")
    if not path:
        raise StorageError("STORAGE_PATH is not set")
    return LocalStorage(path)


_EXT_KEY = "portal_storage"
_fallback: Storage | None = None


def init_app(app: Any) -> Storage:
    """Create the app's store (called by the app factory)."""
    global _fallback
    store = from_config(app.config)
    root = getattr(store, "root", None)
    if root is not None:
        for served in (app.static_folder, app.template_folder):
            if served and Path(app.root_path, served).resolve() in (root, *root.parents):
                raise StorageError("STORAGE_PATH must not be inside a served folder")
    app.extensions[_EXT_KEY] = store
    _fallback = store
    return store


def current() -> Storage:
    """The store of the current app (services call this; no request needed)."""
    try:
        from flask import current_app, has_app_context

        if has_app_context():
            store = current_app.extensions.get(_EXT_KEY)
            if store is not None:
                return store
    except ImportError:  # pragma: no cover
        pass
    if _fallback is None:
        raise StorageError("no storage configured")
    return _fallback
