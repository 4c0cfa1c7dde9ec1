"""The copy mark inside a copy (R-FILE-5: the level mark is inseparable from the file; R-FILE-3:
copies are marked with who and when and count as originals).

Every approved copy carries, inside its content, the level in force, the recipient, the time and
the copy request:

- text: a header line; PDF: a trailing comment after ``%%EOF`` (see ``download``);
- DOCX (python-docx): the core document properties (category = level, keywords, comments,
  content status) and a first paragraph in the header and the footer of every section;
- XLSX (openpyxl): the workbook properties, the header and footer of every sheet, and a first
  sheet 复制件标记 with the mark in its cells (it opens on it);
- PNG / JPEG / GIF (Pillow): a visible stamp band along the bottom of the image (every frame of
  an animated GIF) and the whole mark in the image's text/comment metadata.

A copy whose content cannot be marked is refused (``CopyNotMarkable``): an unmarked copy would
separate the mark from the file.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from models.enums import Level
from portal.services.errors import N_, RuleViolation
from portal.services.files.common import LEVEL_NAMES

MARK_SHEET = "复制件标记"


class CopyNotMarkable(RuleViolation):
    """The content could not be parsed to carry the mark inside; no copy is handed out."""


@dataclass(frozen=True)
class CopyMark:
    """What every copy says about itself."""

    level: Level
    username: str
    full_name: str
    when: datetime
    request_id: int

    @property
    def level_zh(self) -> str:
        return LEVEL_NAMES[self.level][1]

    @property
    def level_en(self) -> str:
        return LEVEL_NAMES[self.level][0]

    @property
    def timestamp(self) -> str:
        return self.when.strftime("%Y-%m-%d %H:%M:%S UTC")

    def line(self) -> str:
        """The full mark, Chinese and English."""
        return (f"[复制件 COPY] 密级 {self.level_zh} ({self.level_en}) · "
                f"{self.username} ({self.full_name}) · {self.timestamp} · "
                f"复制审批 #{self.request_id} · 复制件视同原件 / this copy counts as the original")

    def ascii_line(self) -> str:
        """The stamp drawn on images (the bundled font has no Chinese glyphs)."""
        who = self.username.encode("ascii", "replace").decode()
        return (f"COPY - {self.level_en.upper()} - {who} - {self.timestamp} - "
                f"copy request #{self.request_id}")


def not_markable(kind: str) -> CopyNotMarkable:
    return CopyNotMarkable(
        N_("This %(kind)s file cannot carry the copy mark inside it, so no copy can be handed "
           "out; ask the security administrator."), rule="R-FILE-5", kind=kind)


def mark_docx(content: bytes, mark: CopyMark) -> bytes:
    import docx

    try:
        document = docx.Document(io.BytesIO(content))
    except Exception as exc:  # python-docx raises several types for a damaged package
        raise not_markable("DOCX") from exc
    props = document.core_properties
    props.category = mark.level_zh
    props.keywords = f"密级:{mark.level_zh}; {mark.level_en}; 复制件 COPY; {mark.username}"
    props.comments = mark.line()
    props.content_status = f"复制件 COPY · {mark.level_zh}"
    if not document.sections:
        document.element.body.get_or_add_sectPr()
    for section in document.sections:
        parts = [section.header, section.footer]
        if section.different_first_page_header_footer:
            parts += [section.first_page_header, section.first_page_footer]
        if document.settings.odd_and_even_pages_header_footer:
            parts += [section.even_page_header, section.even_page_footer]
        for part in parts:
            part.is_linked_to_previous = False
            paragraphs = part.paragraphs
            if paragraphs:
                paragraphs[0].insert_paragraph_before(mark.line())
            else:
                part.add_paragraph(mark.line())
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def mark_xlsx(content: bytes, mark: CopyMark) -> bytes:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content))
    except Exception as exc:  # openpyxl raises several types for a damaged package
        raise not_markable("XLSX") from exc
    props = workbook.properties
    props.category = mark.level_zh
    props.keywords = f"密级:{mark.level_zh}; {mark.level_en}; 复制件 COPY; {mark.username}"
    props.description = mark.line()
    props.contentStatus = f"复制件 COPY · {mark.level_zh}"
    short = f"复制件 · 密级 {mark.level_zh} · {mark.username} · {mark.timestamp}"
    for sheet in workbook.worksheets:
        for hf in (sheet.oddHeader, sheet.evenHeader, sheet.firstHeader):
            hf.center.text = short
        for hf in (sheet.oddFooter, sheet.evenFooter, sheet.firstFooter):
            hf.center.text = f"复制审批 #{mark.request_id} · 复制件视同原件"
    stamp = workbook.create_sheet(MARK_SHEET, 0)
    rows = [("复制件 COPY", mark.line()), ("密级 Level", f"{mark.level_zh} ({mark.level_en})"),
            ("接收人 Recipient", f"{mark.username} ({mark.full_name})"),
            ("时间 Time", mark.timestamp), ("复制审批 Copy request", f"#{mark.request_id}"),
            ("说明 Note", "复制件视同原件 / this copy counts as the original")]
    for row in rows:
        stamp.append(row)
    stamp.column_dimensions["A"].width = 24
    stamp.column_dimensions["B"].width = 100
    workbook.active = 0
    for sheet in workbook.worksheets[1:]:
        sheet.sheet_view.tabSelected = False
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _stamp_frame(frame: Any, text: str) -> Any:
    from PIL import Image, ImageDraw, ImageFont

    image = frame.convert("RGBA")
    width, height = image.size
    size = max(8, min(28, width // 40, max(8, height // 8)))
    font = ImageFont.load_default(size=size)
    band = size + size // 2
    overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    draw.rectangle((0, max(0, height - band), width, height), fill=(176, 0, 0, 200))
    draw.text((size // 3, max(0, height - band) + size // 4), text, font=font,
              fill=(255, 255, 255, 255))
    return Image.alpha_composite(image, overlay)


def mark_image(content: bytes, mark: CopyMark, kind: str) -> bytes:
    """A visible stamp on every frame, and the mark in the metadata of the format."""
    from PIL import Image, ImageSequence, UnidentifiedImageError
    from PIL.PngImagePlugin import PngInfo

    try:
        original = Image.open(io.BytesIO(content))
        original.load()
        frames = [_stamp_frame(f.copy(), mark.ascii_line())
                  for f in ImageSequence.Iterator(original)]
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise not_markable(kind.upper()) from exc
    out = io.BytesIO()
    if kind == "png":
        info = PngInfo()
        info.add_itxt("Copy-Mark", mark.line())
        info.add_itxt("Classification", f"{mark.level_zh} ({mark.level_en})")
        frames[0].save(out, format="PNG", pnginfo=info)
    elif kind == "jpeg":
        frames[0].convert("RGB").save(out, format="JPEG", quality=92,
                                      comment=mark.line().encode())
    else:
        first, rest = frames[0].convert("RGB"), [f.convert("RGB") for f in frames[1:]]
        first.save(out, format="GIF", save_all=bool(rest), append_images=rest,
                   comment=mark.ascii_line().encode(),
                   duration=original.info.get("duration", 100), loop=original.info.get("loop", 0))
    return out.getvalue()


MARKERS = {"docx": mark_docx, "xlsx": mark_xlsx}
IMAGE_KINDS = ("png", "jpeg", "gif")


def mark_inside(kind: str, content: bytes, mark: CopyMark) -> bytes | None:
    """The marked copy for DOCX, XLSX and images; None for the kinds marked elsewhere."""
    if kind in MARKERS:
        return MARKERS[kind](content, mark)
    if kind in IMAGE_KINDS:
        return mark_image(content, mark, kind)
    return None
