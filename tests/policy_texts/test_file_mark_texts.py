"""Issue 16, R-FILE-5 as the confidentiality policy writes it: the level mark is inseparable from
the copy. DOCX and XLSX copies carry it in their document properties and in a header/footer (and
a first sheet), images get a visible stamp; a copy that cannot be marked is not handed out.

The copy is requested through GraphQL (``requestFileCopy``) or the service, approved by the
department manager, and downloaded through the one download route both doors link to."""

from __future__ import annotations

import io
from datetime import timedelta

import docx
import pytest
from openpyxl import Workbook, load_workbook
from PIL import Image

from models.enums import Level
from portal import clock
from portal.services import files
from portal.services.errors import DomainError
from tests.files.conftest import DOCX, cleared, upload  # noqa: F401


def _word() -> bytes:
    document = docx.Document()
    document.add_paragraph("授信评估报告：A级")
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def _sheet() -> bytes:
    wb = Workbook()
    wb.active.title = "额度"
    wb.active["A1"] = "授信额度"
    wb.active["B1"] = 500000
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _image(fmt: str) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (400, 240), (250, 250, 250)).save(buf, format=fmt)
    return buf.getvalue()


def _approved_copy(w, session, f) -> str:
    req = files.request_copy(session, w.sales1, f.id, "客户签约需要")
    return files.decide_copy(session, w.manager, req.id, True)


def _download(login, w, f, token):
    with clock.frozen(clock.now() + timedelta(seconds=5)):
        resp = login(w.sales1).get(f"/files/{f.id}/download?token={token}")
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp


def _secret(w, upload, content, name):  # noqa: F811
    return upload(w.sales1, Level.SECRET, content=content, name=name,
                  customer_id=w.customers["sales1"][0].id)


def test_R_FILE_5_docx_copy_carries_the_mark_in_its_properties_and_header(
        cleared, session, upload, login, api):  # noqa: F811
    w = cleared
    f = _secret(w, upload, _word(), "评估.docx")
    # GraphQL door: the copy request is the same service
    out = api(w.sales1)('mutation($id: ID!) { requestFileCopy(fileId: $id, reason: "签约") '
                        '{ ok errors { message } } }',
                        {"id": f"ConfidentialFile:{f.id}"})
    assert out["data"]["requestFileCopy"]["ok"], out
    token = _approved_copy(w, session, f)
    resp = _download(login, w, f, token)
    assert "秘密" in resp.headers["Content-Disposition"] or "%E7%A7%98%E5%AF%86" in \
        resp.headers["Content-Disposition"]
    copy = docx.Document(io.BytesIO(resp.data))
    props = copy.core_properties
    assert props.category == "秘密"
    assert "sales1" in props.comments and "复制件" in props.comments
    header = copy.sections[0].header.paragraphs[0].text
    footer = copy.sections[0].footer.paragraphs[0].text
    for text in (header, footer):
        assert "秘密" in text and "sales1" in text and "UTC" in text
    assert any("授信评估报告" in p.text for p in copy.paragraphs)  # the content is intact


def test_R_FILE_5_xlsx_copy_carries_the_mark_in_properties_header_and_first_sheet(
        cleared, session, upload, login):  # noqa: F811
    w = cleared
    f = _secret(w, upload, _sheet(), "额度.xlsx")
    resp = _download(login, w, f, _approved_copy(w, session, f))
    wb = load_workbook(io.BytesIO(resp.data))
    assert wb.properties.category == "秘密" and "sales1" in wb.properties.description
    first = wb.worksheets[0]
    assert first.title == files.marks.MARK_SHEET and wb.active.title == first.title
    cells = " ".join(str(c.value) for row in first.iter_rows() for c in row)
    assert "秘密" in cells and "sales1" in cells and "复制件" in cells
    data = wb["额度"]
    assert data["A1"].value == "授信额度" and data["B1"].value == 500000  # the data is intact
    assert "秘密" in data.oddHeader.center.text and "sales1" in data.oddHeader.center.text


@pytest.mark.parametrize("fmt,name", [("PNG", "scan.png"), ("JPEG", "id.jpg"),
                                      ("GIF", "logo.gif")])
def test_R_FILE_5_image_copy_gets_a_visible_stamp(cleared, session, upload, login,  # noqa: F811
                                                  fmt, name):
    w = cleared
    f = _secret(w, upload, _image(fmt), name)
    resp = _download(login, w, f, _approved_copy(w, session, f))
    img = Image.open(io.BytesIO(resp.data))
    assert img.format == fmt and img.size == (400, 240)
    rgb = img.convert("RGB")
    bottom = [rgb.getpixel((x, 239)) for x in range(0, 400, 20)]
    assert all(r > 120 and g < 100 and b < 100 for r, g, b in bottom)  # the red stamp band
    assert rgb.getpixel((200, 20)) == (250, 250, 250)  # the picture above it is untouched
    meta = " ".join(str(v) for v in img.info.values())
    assert "sales1" in meta


def test_R_FILE_5_a_copy_that_cannot_be_marked_is_not_handed_out(
        cleared, session, upload, login):  # noqa: F811
    w = cleared
    f = _secret(w, upload, DOCX, "坏.docx")  # a package python-docx cannot open
    token = _approved_copy(w, session, f)
    with clock.frozen(clock.now() + timedelta(seconds=5)):
        resp = login(w.sales1).get(f"/files/{f.id}/download?token={token}")
        assert resp.status_code == 409
        with pytest.raises(DomainError):
            files.open_download(session, w.sales1, f.id, token=token)
