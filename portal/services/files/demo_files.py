"""Demo files (called at the end of ``portal.demo.load``; idempotent)."""

from __future__ import annotations

import io
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import ConfidentialFile, Customer, User
from models.enums import Level
from portal import clock
from portal.services.files.classification import tick
from portal.services.files.common import _today
from portal.services.files.copies import request_copy
from portal.services.files.upload import upload_file

DEMO_MARKER = "公司简介（公开）"


def _demo_pdf(title: str) -> bytes:
    text = title.encode("ascii", "replace").decode()
    stream = f"BT /F1 18 Tf 72 720 Td ({text}) Tj ET".encode()
    return (b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
            b"2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n"
            b"3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            b"/Contents 4 0 R >>\nendobj\n"
            + f"4 0 obj\n<< /Length {len(stream)} >>\nstream\n".encode() + stream
            + b"\nendstream\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n")


def _demo_docx(text: str) -> bytes:
    """A real Word document (python-docx), so its copies carry the mark inside (R-FILE-5)."""
    import docx

    document = docx.Document()
    document.add_heading(text.split("：")[0], level=1)
    document.add_paragraph(text)
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def load_demo_files(session: Session) -> int:
    """A few classified demo files, one per level, uploaded through ``upload_file`` by the demo
    staff (so they are stored, checksummed and audited like any upload), an expired secrecy
    period recorded by ``tick``, and a pending copy request. Returns how many were added."""
    if session.scalar(select(ConfidentialFile.id).where(ConfidentialFile.title == DEMO_MARKER)):
        return 0
    staff = {u.username: u for u in session.scalars(select(User).where(
        User.username.in_(["sales1", "manager1", "gm"])))}
    if len(staff) != 3:
        return 0
    sales1, manager, gm = staff["sales1"], staff["manager1"], staff["gm"]
    customers = session.scalars(select(Customer).where(Customer.owner_id == sales1.id)
                                .order_by(Customer.id).limit(2)).all()
    if not customers:
        return 0
    first, second = customers[0], customers[-1]
    soon = _today() + timedelta(days=30)
    specs = [
        (gm, Level.PUBLIC, DEMO_MARKER, "company-profile.pdf",
         _demo_pdf("Company profile (public)"), {}),
        (manager, Level.INTERNAL, "2025年度销售政策（内部）", "销售政策.txt",
         "2025年度销售政策：展厅轮流接待，首访原则，老带新归属接待人。\n".encode(),
         {"department_id": manager.department_id}),
        (sales1, Level.SECRET, f"{first.name} 购车合同（秘密）", "购车合同.pdf",
         _demo_pdf("Purchase contract (secret)"), {"customer_id": first.id}),
        (manager, Level.CONFIDENTIAL, f"{first.name} 授信评估报告（机密）", "授信评估报告.docx",
         _demo_docx("授信评估报告：A级，建议临时授信。"), {"customer_id": first.id}),
        (gm, Level.TOP_SECRET, "集团战略合作协议（绝密）", "战略合作协议.pdf",
         _demo_pdf("Strategic cooperation agreement (top secret)"), {}),
        (sales1, Level.SECRET, f"{second.name} 报价单（秘密，已过保密期限）", "报价单.txt",
         "报价单：车型 A6L，优惠 3 万元。\n".encode(),
         {"customer_id": second.id, "secrecy_until": soon}),
    ]
    made: list[ConfidentialFile] = []
    for actor, level, title, name, content, extra in specs:
        made.append(upload_file(session, actor, {"title": title, "level": int(level), **extra},
                                content, name))
    expired = made[-1]
    expired.secrecy_until = _today() - timedelta(days=5)
    session.commit()
    tick(session, clock.now())
    request_copy(session, sales1, made[2].id, "客户要求提供合同副本用于贷款审批")
    _demo_scope_change(session, manager, made[2])
    return len(made)


def _demo_scope_change(session: Session, manager: User, contract: ConfidentialFile) -> None:
    """R-FILE-2 in the demo: the responsible manager named the showroom supervisor to the
    contract's knowledge scope for a loan review, then took him out again with a reason (both
    steps audited; the file page shows the current members)."""
    from portal.services.files.scope import add_scope_member, remove_scope_member

    supervisor = session.scalar(select(User).where(User.username == "supervisor1"))
    if supervisor is None:
        return
    add_scope_member(session, manager, contract.id, supervisor.id)
    remove_scope_member(session, manager, contract.id, supervisor.id,
                        "贷款审核已结束，展厅主管不再需要知悉")
