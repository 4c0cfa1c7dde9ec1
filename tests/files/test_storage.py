"""The storage interface: content addressing, atomic local writes, checksum on every read,
S3 backend selected by configuration with boto3 imported lazily (R-FILE-5)."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import pytest

from portal import storage
from portal.storage import BlobMissing, ChecksumMismatch, LocalStorage, S3Storage, StorageError


def test_R_FILE_5_local_put_get_exists_delete_iter(tmp_path: Path):
    store = LocalStorage(tmp_path / "blobs")
    key = store.put(b"hello")
    assert key == hashlib.sha256(b"hello").hexdigest()
    assert store.path_for(key) == (tmp_path / "blobs" / key[:2] / key[2:4] / key).resolve()
    assert store.put(b"hello") == key  # idempotent
    assert store.exists(key) and store.get(key) == b"hello"
    other = store.put(b"world")
    assert sorted(store.iter_keys()) == sorted([key, other])
    store.delete(key)
    assert not store.exists(key)
    with pytest.raises(BlobMissing):
        store.get(key)
    store.delete(key)  # deleting twice is harmless
    assert list(store.iter_temp()) == []


def test_R_FILE_5_local_read_verifies_checksum(tmp_path: Path):
    store = LocalStorage(tmp_path)
    key = store.put(b"original")
    store.path_for(key).write_bytes(b"tampered")
    with pytest.raises(ChecksumMismatch):
        store.get(key)
    # storing the original again repairs the damaged copy
    assert store.put(b"original") == key and store.get(key) == b"original"


@pytest.mark.parametrize("key", ["../../etc/passwd", "a" * 63, "A" * 64, "/" + "a" * 63,
                                 "a" * 64 + "/..", ""])
def test_R_FILE_5_keys_never_become_arbitrary_paths(tmp_path: Path, key: str):
    store = LocalStorage(tmp_path)
    with pytest.raises(ValueError):
        store.get(key)
    with pytest.raises(ValueError):
        store.delete(key)


def test_R_FILE_5_storage_inside_a_served_folder_is_refused(app):
    from flask import Flask

    other = Flask("portal", root_path=app.root_path)
    other.config.update(STORAGE_BACKEND="local",
                        STORAGE_PATH=str(Path(app.root_path) / "static" / "blobs"))
    with pytest.raises(StorageError):
        storage.init_app(other)


class _Missing(Exception):
    def __init__(self) -> None:
        self.response = {"Error": {"Code": "404"}}


class FakeS3:
    """Just enough of the boto3 S3 client."""

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], bytes] = {}

    def put_object(self, Bucket, Key, Body, **kw):
        self.objects[(Bucket, Key)] = bytes(Body)

    def get_object(self, Bucket, Key):
        if (Bucket, Key) not in self.objects:
            raise _Missing()
        data = self.objects[(Bucket, Key)]

        class Body:
            def read(self) -> bytes:
                return data
        return {"Body": Body()}

    def head_object(self, Bucket, Key):
        if (Bucket, Key) not in self.objects:
            raise _Missing()
        return {}

    def delete_object(self, Bucket, Key):
        self.objects.pop((Bucket, Key), None)

    def get_paginator(self, name):
        objects = self.objects

        class Pages:
            def paginate(self, Bucket, Prefix):
                yield {"Contents": [{"Key": k} for (b, k) in sorted(objects)
                                    if b == Bucket and k.startswith(Prefix)]}
        return Pages()


def test_R_FILE_5_s3_backend_same_interface():
    fake = FakeS3()
    store = S3Storage("archive", "http://minio.local:9000", client=fake)
    key = store.put(b"contract")
    assert ("archive", f"files/{key}") in fake.objects
    assert store.exists(key) and store.get(key) == b"contract"
    assert list(store.iter_keys()) == [key]
    fake.objects[("archive", f"files/{key}")] = b"altered"
    with pytest.raises(ChecksumMismatch):
        store.get(key)
    store.delete(key)
    assert not store.exists(key)
    with pytest.raises(BlobMissing):
        store.get(key)


def test_R_FILE_5_s3_selected_by_configuration_without_importing_boto3():
    sys.modules.pop("boto3", None)
    store = storage.from_config({"STORAGE_BACKEND": "s3", "S3_BUCKET": "archive",
                                 "S3_ENDPOINT_URL": "http://minio.local:9000"})
    assert isinstance(store, S3Storage) and store.endpoint_url == "http://minio.local:9000"
    assert "boto3" not in sys.modules  # imported only when the store is first used
    with pytest.raises(StorageError):
        storage.from_config({"STORAGE_BACKEND": "s3"})  # no bucket
    with pytest.raises(StorageError):
        storage.from_config({"STORAGE_BACKEND": "ftp"})
