"""Import of customer archives from Excel (.xlsx) and CSV (客户档案导入).

Two steps: ``dry_run`` reports every row (created / duplicate of … / invalid: reason) and
writes nothing; ``import_rows`` re-checks the same rows against the database of that moment
and creates the valid ones through the same rules as ``create_customer`` (R-CUST-1 …), in
one transaction. A file with problems imports nothing unless the user asks for the valid rows
only. Duplicates inside the file are detected too: the first row wins.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.customer import Customer
from models.enums import CustomerKind, Intent
from models.org import Branch, User
from portal import audit, policy
from portal.normalize import normalize_credit_code, normalize_name, normalize_phone
from portal.services import customers
from portal.services.errors import N_, DomainError, PermissionDenied, ValidationFailed
from portal.services.unit import verb

MAX_BYTES = 5 * 1024 * 1024
MAX_UNCOMPRESSED_BYTES = 50 * 1024 * 1024  # an .xlsx is a zip: refuse zip bombs
MAX_ROWS = 5000
MAX_COLUMNS = 50

# Header → field. Keys are compared after NFKC, case folding and dropping spaces, "*" and
# bracketed hints, so "客户名称 *" and "Name (required)" both map.
HEADERS: dict[str, str] = {
    "客户名称": "name", "名称": "name", "客户": "name", "name": "name", "customername": "name",
    "电话": "phone", "联系电话": "phone", "手机": "phone", "手机号": "phone", "phone": "phone",
    "tel": "phone", "telephone": "phone",
    "统一社会信用代码": "credit_code", "信用代码": "credit_code", "身份证号": "credit_code",
    "证件号码": "credit_code", "creditcode": "credit_code", "credit_code": "credit_code",
    "类型": "kind", "客户类型": "kind", "kind": "kind", "type": "kind",
    "来源": "source", "客户来源": "source", "source": "source",
    "重要级别": "importance", "重要性": "importance", "等级": "importance",
    "importance": "importance",
    "意向级别": "intent", "意向": "intent", "intent": "intent",
    "地址": "address", "address": "address",
    "网址": "website", "website": "website",
    "备注": "notes", "notes": "notes", "note": "notes", "remarks": "notes",
    "门店": "branch", "展厅": "branch", "branch": "branch",
    "归属人": "owner", "跟进人": "owner", "owner": "owner",
}
KIND_WORDS = {
    "最终客户": "end", "终端客户": "end", "最终": "end", "end": "end", "endcustomer": "end",
    "经销商": "dealer", "经销商客户": "dealer", "dealer": "dealer",
    "供应商": "supplier", "supplier": "supplier",
    "特殊客户": "special", "特殊": "special", "special": "special",
}
SPECIAL_WORDS = {"律师": "lawyer", "银行": "bank", "保险": "insurer", "保险公司": "insurer",
                 "顾问": "advisor", "lawyer": "lawyer", "bank": "bank", "insurer": "insurer",
                 "advisor": "advisor"}
SOURCE_WORDS = {
    "到店": "walk_in", "来访": "walk_in", "自然到店": "walk_in", "walkin": "walk_in",
    "walk_in": "walk_in", "来电": "call", "电话": "call", "call": "call",
    "转介绍": "referral", "老带新": "referral", "介绍": "referral", "referral": "referral",
    "活动": "event", "展会": "event", "event": "event", "推广": "campaign",
    "广告": "campaign", "campaign": "campaign", "其他": "other", "other": "other",
}
INTENT_WORDS = {"热": "hot", "高": "hot", "hot": "hot", "温": "warm", "中": "warm",
                "warm": "warm", "冷": "cold", "低": "cold", "cold": "cold"}
STATUS_CREATED = "created"
STATUS_DUPLICATE = "duplicate"
STATUS_INVALID = "invalid"


@dataclass
class ImportFile:
    """The rows of an uploaded file, as text keyed by field name, with their line numbers."""

    filename: str
    rows: list[dict[str, str]]
    lines: list[int]
    unknown_headers: list[str] = field(default_factory=list)


@dataclass
class RowResult:
    line: int
    status: str  # created / duplicate / invalid
    name: str
    message: str
    field: str | None = None
    duplicate_of: str | None = None  # "code name" or "row N"
    customer_id: int | None = None

    @property
    def created(self) -> bool:
        """The row makes (or, in a preview, would make) a new archive."""
        return self.status == STATUS_CREATED

    @property
    def duplicate(self) -> bool:
        """The row is a 重卡 of an existing archive or of an earlier row (R-CUST-1)."""
        return self.status == STATUS_DUPLICATE


@dataclass
class ImportReport:
    results: list[RowResult]
    written: bool = False

    @property
    def valid(self) -> int:
        return sum(1 for r in self.results if r.status == STATUS_CREATED)

    @property
    def problems(self) -> int:
        return len(self.results) - self.valid

    def counts(self) -> dict[str, int]:
        out = {STATUS_CREATED: 0, STATUS_DUPLICATE: 0, STATUS_INVALID: 0}
        for r in self.results:
            out[r.status] += 1
        return out


# ---------------------------------------------------------------------------------------------
# Reading files
# ---------------------------------------------------------------------------------------------


def _header_key(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "").casefold()
    text = re.sub(r"[(\[（【].*?[)\]）】]", "", text)
    return re.sub(r"[\s*:：]+", "", text)


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # Excel stores phone numbers typed as numbers as floats
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).strip()


def _decode_csv(content: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):  # gb18030 is a superset of GBK / GB2312
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValidationFailed(N_("The CSV file is neither UTF-8 nor GBK text."), field="file")


def _csv_rows(content: bytes) -> list[list[str]]:
    text = _decode_csv(content)
    sample = text[:4096]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = []
    for i, row in enumerate(csv.reader(io.StringIO(text), dialect)):
        if i > MAX_ROWS + 1:
            raise ValidationFailed(N_("The file has more than %(max)s rows."), field="file",
                                   max=MAX_ROWS)
        rows.append([c.strip() for c in row[:MAX_COLUMNS]])
    return rows


def _xlsx_rows(content: bytes) -> list[list[str]]:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            if sum(i.file_size for i in archive.infolist()) > MAX_UNCOMPRESSED_BYTES:
                raise ValidationFailed(N_("The workbook is too large once unpacked."),
                                       field="file")
    except zipfile.BadZipFile:
        raise ValidationFailed(N_("This is not an Excel (.xlsx) workbook."),
                               field="file") from None
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many types for a damaged workbook
        raise ValidationFailed(N_("The workbook cannot be read."), field="file") from None
    try:
        sheet = book.worksheets[0]
        rows = []
        for i, row in enumerate(sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS)):
            if i > MAX_ROWS + 1:
                raise ValidationFailed(N_("The file has more than %(max)s rows."),
                                       field="file", max=MAX_ROWS)
            rows.append([_cell_text(v) for v in row])
        return rows
    finally:
        book.close()


def read_upload(filename: str, content: bytes) -> ImportFile:
    """Parse an uploaded .xlsx or .csv into rows keyed by field name. Formulas are read as
    their cached values; files over the size or row limits are refused."""
    name = (filename or "").strip()
    if not content:
        raise ValidationFailed(N_("The file is empty."), field="file")
    if len(content) > MAX_BYTES:
        raise ValidationFailed(N_("The file is larger than %(mb)s MB."), field="file",
                               mb=MAX_BYTES // (1024 * 1024))
    lower = name.lower()
    if lower.endswith(".xlsx"):
        raw = _xlsx_rows(content)
    elif lower.endswith(".csv"):
        raw = _csv_rows(content)
    else:
        raise ValidationFailed(N_("Upload an Excel (.xlsx) or CSV (.csv) file."), field="file")
    header_at = next((i for i, r in enumerate(raw) if any(c for c in r)), None)
    if header_at is None:
        raise ValidationFailed(N_("The file has no header row."), field="file")
    mapping: dict[int, str] = {}
    unknown: list[str] = []
    for col, title in enumerate(raw[header_at]):
        key = HEADERS.get(_header_key(title))
        if key is None:
            if title:
                unknown.append(title[:40])
            continue
        if key in mapping.values():
            raise ValidationFailed(N_("The column %(column)s appears twice."), field="file",
                                   column=title[:40])
        mapping[col] = key
    if "name" not in mapping.values():
        raise ValidationFailed(N_("The file needs a 客户名称 (name) column."), field="file")
    rows: list[dict[str, str]] = []
    lines: list[int] = []
    for offset, raw_row in enumerate(raw[header_at + 1:], start=header_at + 2):
        if not any(c for c in raw_row):
            continue
        rows.append({key: (raw_row[col] if col < len(raw_row) else "")
                     for col, key in mapping.items()})
        lines.append(offset)
    if len(rows) > MAX_ROWS:
        raise ValidationFailed(N_("The file has more than %(max)s rows."), field="file",
                               max=MAX_ROWS)
    if not rows:
        raise ValidationFailed(N_("The file has no data rows."), field="file")
    return ImportFile(filename=name[:200], rows=rows, lines=lines, unknown_headers=unknown)


# ---------------------------------------------------------------------------------------------
# Rows → service input
# ---------------------------------------------------------------------------------------------


def _word(value: str, words: Mapping[str, str], fieldname: str) -> str | None:
    if not value:
        return None
    key = _header_key(value)
    if key in words:
        return words[key]
    raise ValidationFailed(N_("%(value)s is not a known %(label)s."), field=fieldname,
                           value=value[:40], label=fieldname)


def _row_data(session: Session, row: Mapping[str, str]) -> dict[str, Any]:
    """Translate one row's words (Chinese or English) into ``create_customer`` input."""
    data: dict[str, Any] = {}
    for key in ("name", "phone", "credit_code", "address", "website", "notes"):
        value = (row.get(key) or "").strip()
        if value:
            if key in ("name", "address", "notes") and value[0] in "=@":
                raise ValidationFailed(N_("%(label)s looks like a spreadsheet formula."),
                                       field=key, label=key)
            data[key] = value
    raw_kind = (row.get("kind") or "").strip()
    if raw_kind:
        special = SPECIAL_WORDS.get(_header_key(raw_kind))
        if special:
            data["kind"], data["special_category"] = CustomerKind.SPECIAL.value, special
        else:
            data["kind"] = _word(raw_kind, KIND_WORDS, "kind")
    source = _word((row.get("source") or "").strip(), SOURCE_WORDS, "source")
    if source:
        data["source"] = source
    importance = (row.get("importance") or "").strip().upper()[:1]
    if importance:
        data["importance"] = importance
    intent = _word((row.get("intent") or "").strip(), INTENT_WORDS, "intent")
    if intent:
        data["intent"] = Intent(intent).value
    branch_text = (row.get("branch") or "").strip()
    if branch_text:
        branch = session.scalar(select(Branch).where(
            (Branch.code == branch_text) | (Branch.name == branch_text)))
        if branch is None:
            raise ValidationFailed(N_("There is no branch %(value)s."), field="branch",
                                   value=branch_text[:40])
        data["branch_id"] = branch.id
    owner_text = (row.get("owner") or "").strip()
    if owner_text:
        owner = session.scalar(select(User).where(User.username == owner_text))
        if owner is None:
            raise ValidationFailed(N_("There is no user %(value)s."), field="owner",
                                   value=owner_text[:40])
        data["owner_id"] = owner.id
    return data


def _check_rows(session: Session, actor: User, rows: Sequence[Mapping[str, str]],
                lines: Sequence[int], hits: list[tuple[int, int, str]] | None = None,
                ) -> tuple[list[RowResult], list[dict[str, Any] | None]]:
    """Judge every row without writing: the service's own validation and rules, plus
    duplicates among the file's earlier valid rows."""
    results: list[RowResult] = []
    prepared: list[dict[str, Any] | None] = []
    seen: dict[tuple[str, str], tuple[int, str]] = {}  # (key, value) → (line, credit code)
    hits = hits if hits is not None else []
    allowed = duplicate_hits_left(session, actor)
    for row, line in zip(rows, lines, strict=True):
        name = (row.get("name") or "").strip()[:200]
        if len(hits) >= allowed:  # R-CUST-1: no faster than a person could type them
            results.append(RowResult(line, STATUS_INVALID, name, N_(
                "重卡 check limit reached: too many rows matched archives outside your scope; "
                "try again later or ask your supervisor."), None))
            prepared.append(None)
            continue
        try:
            data = _row_data(session, row)
            customers.prepare_customer(session, actor, data)
        except PermissionDenied as exc:
            results.append(RowResult(line, STATUS_INVALID, name, exc.translated(), exc.field))
            prepared.append(None)
            continue
        except DomainError as exc:
            existing = exc.params.get("existing_id") if exc.rule == "R-CUST-1" else None
            if existing is not None:
                if exc.params.get("outside_scope"):  # code only, and the hit is audited
                    ref = str(exc.params.get("code"))
                    hits.append((line, int(existing), ref))
                else:
                    ref = f"{exc.params.get('code')} {exc.params.get('name')}"
                results.append(RowResult(line, STATUS_DUPLICATE, name, exc.translated(),
                                         exc.field, duplicate_of=ref))
            else:
                results.append(RowResult(line, STATUS_INVALID, name, exc.translated(),
                                         exc.field))
            prepared.append(None)
            continue
        keys = [("name", normalize_name(data["name"])),
                ("phone", normalize_phone(data.get("phone")) or ""),
                ("credit_code", normalize_credit_code(data.get("credit_code")) or "")]
        code = keys[2][1]
        twin = next(((k, seen[(k, v)][0]) for k, v in keys if v and (k, v) in seen
                     and (k == "credit_code" or not code or not seen[(k, v)][1]
                          or seen[(k, v)][1] == code)), None)
        if twin is not None:
            results.append(RowResult(
                line, STATUS_DUPLICATE, name,
                f"重卡: same {twin[0]} as row {twin[1]} of this file; the first row wins.",
                twin[0], duplicate_of=f"row {twin[1]}"))
            prepared.append(None)
            continue
        for k, v in keys:
            if v and (k, v) not in seen:
                seen[(k, v)] = (line, code)
        results.append(RowResult(line, STATUS_CREATED, name, "", None))
        prepared.append(data)
    return results, prepared


@verb
def dry_run(session: Session, actor: User, upload: ImportFile) -> ImportReport:
    """Report what importing the file would do, row by row. Writes nothing."""
    if not policy.can(actor, "customer.import"):
        raise PermissionDenied("customer.import", Customer)
    hits: list[tuple[int, int, str]] = []
    results, _ = _check_rows(session, actor, upload.rows, upload.lines, hits)
    session.rollback()  # nothing was written; make sure nothing could be
    record_duplicate_hits(session, actor, hits)
    return ImportReport(results)


def duplicate_hits_left(session: Session, actor: User) -> int:
    """How many more archives outside the user's scope a bulk check may still match this hour
    (R-CUST-1: bulk checks are rate-limited per user, setting
    ``customer.duplicate_hits_per_hour``)."""
    from datetime import timedelta

    from sqlalchemy import func

    from models.audit import AuditEntry
    from portal import clock, settings

    limit = int(settings.get(session, "customer.duplicate_hits_per_hour"))
    used = session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.actor_id == actor.id, AuditEntry.action == "customer.duplicate_hit",
        AuditEntry.at >= clock.now() - timedelta(hours=1))) or 0
    return max(0, limit - int(used))


def record_duplicate_hits(session: Session, actor: User,
                          hits: Sequence[tuple[int, int, str]]) -> None:
    """One audit entry per archive outside the user's scope that a bulk check matched."""
    for line, customer_id, code in hits:
        audit.record(session, actor, "customer.duplicate_hit", ("Customer", customer_id),
                     outcome="denied", detail=f"R-CUST-1: import row {line} matched {code}")


@verb
def import_rows(session: Session, actor: User, upload: ImportFile,
                valid_only: bool = False) -> ImportReport:
    """Create the file's archives. With problems in the file nothing is written unless
    ``valid_only``; then the valid rows are created, all in one transaction."""
    if not policy.can(actor, "customer.import"):
        raise PermissionDenied("customer.import", Customer)
    hits: list[tuple[int, int, str]] = []
    results, prepared = _check_rows(session, actor, upload.rows, upload.lines, hits)
    problems = sum(1 for r in results if r.status != STATUS_CREATED)
    if hits and problems and not valid_only:  # the refusal rolls back: keep the hits
        session.rollback()
        record_duplicate_hits(session, actor, hits)
        session.commit()
    elif hits:
        record_duplicate_hits(session, actor, hits)
    if problems and not valid_only:
        raise ValidationFailed(
            N_("%(count)s rows of the file have problems; nothing was imported. Fix the file "
               "or choose to import only the valid rows."), field="file", count=problems)
    created = 0
    for result, data in zip(results, prepared, strict=True):
        if data is None:
            continue
        customer = customers.create_customer_inner(session, actor, data)
        result.customer_id = customer.id
        result.message = f"{customer.code} {customer.name}"
        created += 1
    audit.record(session, actor, "customer.import", Customer,
                 after={"file": upload.filename, "created": created, "skipped": problems},
                 detail=f"import of {upload.filename}: {created} created, {problems} skipped")
    return ImportReport(results, written=True)
