"""Fixtures for the confidential-file tests: sample contents of every accepted type, an upload
helper, and a fingerprint of the storage folder."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from models.enums import Level

PDF = (b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
       b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
       b"trailer\n<< /Root 1 0 R >>\n%%EOF\n")
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
GIF = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00;"
TEXT = "客户合同摘要\n金额: 100 万元\n".encode()


def ooxml(main_type: str, part: str, extra: dict[str, bytes] | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("[Content_Types].xml",
                    '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
                    f'package/2006/content-types"><Override PartName="/{part}" '
                    f'ContentType="{main_type}"/></Types>')
        zf.writestr(part, "<document/>")
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return buf.getvalue()


DOCX = ooxml("application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
             "word/document.xml")


def xlsx() -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    wb.active["A1"] = "授信额度"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def storage_files(root: Path) -> list[str]:
    """Every file under the storage folder (blobs and temporaries), relative."""
    if not root.exists():
        return []
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


@pytest.fixture
def storage_root(app) -> Path:
    return Path(app.config["STORAGE_PATH"])


@pytest.fixture
def upload(session):
    """``upload(actor, level, content=TEXT, name="notes.txt", **data)`` → the new file."""
    from portal.services import files

    counter = iter(range(1, 10_000))

    def _upload(actor, level=Level.PUBLIC, content=None, name="notes.txt", **data):
        if content is None:
            content = TEXT + f"#{next(counter)}".encode()
        data.setdefault("title", f"文件 {name}")
        return files.upload_file(session, actor, {"level": int(level), **data}, content, name)
    return _upload


@pytest.fixture
def cleared(world, session):
    """World users with clearances suited to the file tests."""
    world.sales1.clearance = Level.SECRET
    world.sales2.clearance = Level.SECRET
    world.supervisor.clearance = Level.SECRET
    world.manager.clearance = Level.TOP_SECRET
    world.manager2.clearance = Level.CONFIDENTIAL
    session.commit()
    return world
