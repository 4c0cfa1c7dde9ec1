"""Confidential files: content and name checks (the type comes from the magic bytes)."""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from typing import Any

from portal.services.errors import N_, ValidationFailed


@dataclass(frozen=True)
class FileKind:
    name: str
    content_type: str
    extensions: tuple[str, ...]


KINDS = {
    "pdf": FileKind("pdf", "application/pdf", ("pdf",)),
    "png": FileKind("png", "image/png", ("png",)),
    "jpeg": FileKind("jpeg", "image/jpeg", ("jpg", "jpeg")),
    "gif": FileKind("gif", "image/gif", ("gif",)),
    "docx": FileKind("docx", "application/vnd.openxmlformats-officedocument."
                     "wordprocessingml.document", ("docx",)),
    "xlsx": FileKind("xlsx", "application/vnd.openxmlformats-officedocument."
                     "spreadsheetml.sheet", ("xlsx",)),
    "text": FileKind("text", "text/plain; charset=utf-8", ("txt", "csv", "md", "log")),
}
KIND_BY_CONTENT_TYPE = {k.content_type: k for k in KINDS.values()}

DANGEROUS_EXTENSIONS = frozenset({
    "exe", "com", "bat", "cmd", "scr", "pif", "msi", "msp", "dll", "cpl", "sys", "js", "jse",
    "mjs", "vbs", "vbe", "wsf", "wsh", "ps1", "psm1", "sh", "bash", "zsh", "csh", "php", "php3",
    "php4", "php5", "php7", "phtml", "phar", "jsp", "jspx", "asp", "aspx", "cer", "cgi", "pl",
    "py", "pyc", "rb", "html", "htm", "xhtml", "shtml", "mht", "mhtml", "svg", "svgz", "xml",
    "xsl", "hta", "jar", "class", "swf", "lnk", "reg", "inf", "docm", "xlsm", "pptm", "dotm",
    "xltm", "app", "apk", "deb", "rpm", "iso", "img", "vhd",
})
_MARKUP = re.compile(rb"<\s*[!?/]?\s*[a-z][^>]*>|<\s*!--|<\?|<!\[cdata\[", re.IGNORECASE)
_SCRIPTY = re.compile(rb"javascript\s*:|vbscript\s*:|data\s*:\s*text/html", re.IGNORECASE)
_BOM = b"\xef\xbb\xbf"
OOXML_MAIN = {
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
             "word/document.xml"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
             "xl/workbook.xml"),
}


def _refuse(message: str, field_name: str = "content", **params: Any) -> ValidationFailed:
    return ValidationFailed(message, field=field_name, **params)


def _ooxml_kind(data: bytes) -> str | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            try:
                info = zf.getinfo("[Content_Types].xml")
            except KeyError:
                return None
            if info.file_size > 1_000_000:
                return None
            types = zf.read(info).decode("utf-8", "replace")
            names = set(zf.namelist())
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, OSError,
            RuntimeError, ValueError):
        return None
    if any("vbaproject" in n.lower() or n.lower().endswith(".bin") and "activex" in n.lower()
           for n in names):
        return None  # macro-enabled documents are refused
    for kind, (main_type, part) in OOXML_MAIN.items():
        if main_type in types and part in names:
            return kind
    return None


def _plain_text(data: bytes) -> bool:
    if b"\x00" in data:
        return False
    body = data[len(_BOM):] if data.startswith(_BOM) else data
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    if any(unicodedata.category(ch) == "Cc" and ch not in "\t\n\r\f" for ch in text):
        return False
    if body.lstrip().startswith(b"#!"):
        return False  # a script
    return not (_MARKUP.search(body) or _SCRIPTY.search(body))


def sniff(data: bytes) -> FileKind:
    """The file's type from its magic bytes; refuse anything outside the allowlist."""
    if not data:
        raise _refuse(N_("The file is empty."))
    if data.startswith(b"%PDF-"):
        return KINDS["pdf"]
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return KINDS["png"]
    if data.startswith(b"\xff\xd8\xff"):
        return KINDS["jpeg"]
    if data.startswith((b"GIF87a", b"GIF89a")):
        return KINDS["gif"]
    if data.startswith(b"PK\x03\x04"):
        kind = _ooxml_kind(data)
        if kind:
            return KINDS[kind]
        raise _refuse(N_("Only Word (.docx) and Excel (.xlsx) documents are accepted among "
                         "packaged files."))
    if _plain_text(data):
        return KINDS["text"]
    raise _refuse(N_("This type of file is not accepted (PDF, PNG, JPEG, GIF, DOCX, XLSX and "
                     "plain UTF-8 text are)."))


def check_filename(name: Any) -> tuple[str, str]:
    """(clean name, lower-case extension or '') or a refusal. The name is data only: it never
    becomes a path."""
    if not isinstance(name, str) or not name.strip():
        raise _refuse(N_("A file name is required."), "filename")
    name = unicodedata.normalize("NFC", name)
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Zl", "Zp") for ch in name):
        raise _refuse(N_("The file name contains control characters."), "filename")
    name = name.strip()
    if "/" in name or "\\" in name or ":" in name or name in (".", "..") or ".." in name:
        raise _refuse(N_("The file name may not contain a path."), "filename")
    if name.startswith(".") or name.rstrip(". ") != name:
        raise _refuse(N_("The file name may not start or end with a dot."), "filename")
    if len(name) > 180:
        raise _refuse(N_("The file name is too long."), "filename")
    parts = name.split(".")
    ext = parts[-1].lower() if len(parts) > 1 else ""
    inner = [p.strip().lower() for p in parts[1:-1]]
    if ext in DANGEROUS_EXTENSIONS or any(p in DANGEROUS_EXTENSIONS for p in inner):
        raise _refuse(N_("The file name has a forbidden extension."), "filename")
    return name, ext
