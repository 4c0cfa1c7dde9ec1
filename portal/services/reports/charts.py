"""Reports: SVG bar and column charts."""

from __future__ import annotations

from html import escape

TONE_COLOURS = {None: "#2f6fb0", "danger": "#c9302c", "warning": "#e6a23c",
                "success": "#3c9a5f"}


def _fmt(value: float) -> str:
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}"


def _text_width(text: str, size: int = 13) -> float:
    """Rendered width estimate: CJK characters are square, Latin about 0.58 em."""
    return sum(size if ord(ch) > 0x2E80 else size * 0.58 for ch in text)


def bar_chart_svg(title: str, items: list[tuple[str, float]], unit: str = "",
                  width: int = 1000, *, tones: list[str | None] | None = None,
                  links: list[str | None] | None = None) -> str:
    """A horizontal bar chart as an inline SVG that fills the page width: one bar per item,
    its full label (the label column is as wide as the longest label, nothing is cut), the
    value at the end, a tooltip, a colour by meaning (``tones``) and, where given, a link
    per bar. Labels are escaped (they may come from data)."""
    row_h, top, right = 28, 36, 110
    label_w = int(min(max([_text_width(str(label)) for label, _ in items] + [60]) + 20,
                      width * 0.45))
    height = top + max(1, len(items)) * row_h + 10
    bar_w = width - label_w - right
    peak = max([float(v) for _, v in items] + [0.0])
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="report-chart" role="img" '
        f'width="100%" viewBox="0 0 {width} {height}" preserveAspectRatio="xMinYMin meet" '
        f'aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<text x="0" y="20" font-size="15" font-weight="bold" fill="#222">{escape(title)}'
        f"</text>",
    ]
    if not items:
        parts.append(f'<text x="{label_w}" y="{top + 17}" font-size="13" fill="#777">—</text>')
    for i, (label, value) in enumerate(items):
        y = top + i * row_h
        v = float(value)
        w = 0 if peak <= 0 else max(1 if v > 0 else 0, round(bar_w * v / peak))
        tone = tones[i] if tones and i < len(tones) else None
        color = TONE_COLOURS.get(tone, TONE_COLOURS[None])
        text = escape(str(label))
        bar = (f'<text x="{label_w - 8}" y="{y + 18}" font-size="13" fill="#333" '
               f'text-anchor="end">{text}</text>'
               f'<rect x="{label_w}" y="{y + 5}" width="{w}" height="{row_h - 10}" '
               f'fill="{color}" rx="2" data-tone="{tone or ""}"><title>{text}: {_fmt(v)}'
               f'{escape(unit)}</title></rect>'
               f'<text x="{label_w + w + 6}" y="{y + 18}" font-size="13" fill="#222">'
               f"{_fmt(v)}{escape(unit)}</text>")
        link = links[i] if links and i < len(links) else None
        if link:
            bar = f'<a href="{escape(link)}" class="report-bar-link">{bar}</a>'
        parts.append(bar)
    parts.append("</svg>")
    return "".join(parts)


def column_chart_svg(title: str, items: list[tuple[str, float]], unit: str = "",
                     width: int = 1000) -> str:
    """A time series as vertical columns in time order (items are given oldest first), the
    value above each column and the period below, rotated when they would not fit."""
    top, bottom, left, height = 40, 70, 10, 300
    n = max(1, len(items))
    slot = (width - left) / n
    col_w = max(4.0, min(48.0, slot * 0.7))
    plot_h = height - top - bottom
    peak = max([float(v) for _, v in items] + [0.0])
    rotate = max([_text_width(str(label), 12) for label, _ in items] + [0]) > slot - 4
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="report-chart" role="img" '
        f'width="100%" viewBox="0 0 {width} {height}" preserveAspectRatio="xMinYMin meet" '
        f'aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<text x="0" y="20" font-size="15" font-weight="bold" fill="#222">{escape(title)}'
        f"</text>",
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width}" y2="{top + plot_h}" '
        f'stroke="#bbb"/>',
    ]
    for i, (label, value) in enumerate(items):
        v = float(value)
        h = 0 if peak <= 0 else round(plot_h * v / peak)
        x = left + i * slot + (slot - col_w) / 2
        cx = x + col_w / 2
        text = escape(str(label))
        parts.append(f'<rect x="{x:.1f}" y="{top + plot_h - h}" width="{col_w:.1f}" '
                     f'height="{h}" fill="{TONE_COLOURS[None]}" rx="2"><title>{text}: '
                     f'{_fmt(v)}{escape(unit)}</title></rect>')
        if v:
            parts.append(f'<text x="{cx:.1f}" y="{top + plot_h - h - 4}" font-size="12" '
                         f'fill="#222" text-anchor="middle">{_fmt(v)}</text>')
        ly = top + plot_h + 16
        if rotate:
            parts.append(f'<text x="{cx:.1f}" y="{ly}" font-size="12" fill="#333" '
                         f'text-anchor="end" transform="rotate(-45 {cx:.1f} {ly})">'
                         f"{text}</text>")
        else:
            parts.append(f'<text x="{cx:.1f}" y="{ly}" font-size="12" fill="#333" '
                         f'text-anchor="middle">{text}</text>')
    parts.append("</svg>")
    return "".join(parts)
