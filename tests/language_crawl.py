"""A crawler for the language checks (issue 14, part 5): every page reachable from a user's menu
and home page, plus the details, edit and create pages of one record per list and the action
pages a details page links to; and the checks of what a person reads on them.

- Chinese UI: no ``__None``, no Latin-only word outside ``LATIN_ALLOWED`` (codes, logins and
  addresses contain digits or ``@`` and are data), no raw identifier (``follow_up``).
- English UI: no Han character outside data (table cells, options, form values, elements
  marked ``portal-data`` or ``lang="zh-CN"``); badges and labels inside cells are UI again.
- Text a service recorded as it was (``portal-raw``: audit details, timeline comments) is data
  in both languages and not checked.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlparse

# Words a Chinese page may show in Latin letters: file formats, units, the product names of
# standards and tools, the language switcher's "English".
LATIN_ALLOWED = frozenset({
    "csv", "CSV", "Excel", "xlsx", "GBK", "UTF", "MB", "KB", "API", "GraphQL", "English",
    "Token", "token", "ID", "Bearer", "Authorization", "https", "http", "AES", "PDF", "SHA",
    "HMAC", "JSON",
    # car types as Chinese showrooms write them (demo visit notes: 比较SUV车型配置)
    "SUV", "MPV",
    # product names of authenticator apps on the two-factor page (R-ROLE-6)
    "Microsoft", "Google", "Authenticator",
    # the package the month calendar imports official holidays from, named so that the
    # administrator knows what to upgrade (its page is reached from December's warning)
    "chinesecalendar",
})
HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_\-.@/:]*")
SKIP_PATHS = ("/logout", "/lang/", "/export/", "/download", "/static/", "/graphql")
VOID_TAGS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
             "source", "track", "wbr"}
DATA_TAGS = {"td", "option", "textarea", "code", "pre"}
VISIBLE_ATTRS = ("placeholder", "title", "aria-label", "data-placeholder")


@dataclass
class Text:
    text: str
    data: bool  # inside data (a cell, an option, a value) — not UI text
    where: str


@dataclass
class Page:
    url: str
    texts: list[Text] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    menu_links: list[str] = field(default_factory=list)


class _Parser(HTMLParser):
    def __init__(self, url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page = Page(url)
        self.stack: list[tuple[str, bool, bool]] = []  # (tag, hidden, data)

    def _state(self) -> tuple[bool, bool]:
        return (self.stack[-1][1], self.stack[-1][2]) if self.stack else (False, False)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v or "") for k, v in attrs}
        hidden, data = self._state()
        classes = a.get("class", "").split()
        if tag in ("script", "style", "template") or "d-none" in classes \
                or "portal-raw" in classes \
                or a.get("type") == "hidden" or "hidden" in a:
            hidden = True
        if tag in DATA_TAGS or "portal-data" in classes or a.get("lang") == "zh-CN" \
                or a.get("lang") == "en":
            data = True
        if "portal-badge" in classes or (tag == "b" and self.stack and self.stack[-1][0] == "td"):
            data = False  # a badge or a details label inside a cell is UI text
        if not hidden:
            for name in VISIBLE_ATTRS:
                if a.get(name):
                    self.page.texts.append(Text(a[name], data, f"{tag}[{name}]"))
            if tag == "input" and a.get("type") in ("submit", "button") and a.get("value"):
                self.page.texts.append(Text(a["value"], data, "input[value]"))
        if tag == "a" and a.get("href"):
            href = urljoin(self.page.url, a["href"])
            self.page.links.append(href)
            if any(t == "nav" for t, _h, _d in self.stack):
                self.page.menu_links.append(href)
        if tag not in VOID_TAGS:
            self.stack.append((tag, hidden, data))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                return

    def handle_data(self, text: str) -> None:
        hidden, data = self._state()
        if hidden or not text.strip():
            return
        where = "/".join(t for t, _h, _d in self.stack[-3:])
        self.page.texts.append(Text(text.strip(), data, where))


def parse(url: str, html: str) -> Page:
    parser = _Parser(url)
    parser.feed(html)
    return parser.page


def _without(text: str, data: tuple[str, ...]) -> str:
    for value in data:
        if value in text:
            text = text.replace(value, " ")
    return text


def latin_leaks(page: Page, data: tuple[str, ...] = ()) -> list[str]:
    """Latin-only words and ``__None`` on a Chinese page; ``data`` (longest first): strings of
    the database (logins, addresses, file names) that may appear anywhere."""
    found = []
    for t in page.texts:
        if "__None" in t.text:
            found.append(f"__None in {t.where}: {t.text[:80]!r}")
            continue
        if t.where.endswith("[lang=en]"):
            continue
        for word in WORD.findall(_without(t.text, data)):
            if any(ch.isdigit() for ch in word) or "@" in word or "/" in word \
                    or word.strip("._-:") in LATIN_ALLOWED or len(word.strip("._-:")) < 2:
                continue
            found.append(f"{word!r} in {t.where}: {t.text[:80]!r}")
    return found


def han_leaks(page: Page, data: tuple[str, ...] = ()) -> list[str]:
    """Han characters in the UI text of an English page; data (cells, options, values, and
    the ``data`` strings of the database: names, titles) may be Chinese."""
    return [f"{t.where}: {t.text[:80]!r}" for t in page.texts
            if not t.data and HAN.search(_without(t.text, data))]


def _local(url: str, base: str) -> str | None:
    parsed = urlparse(url)
    if parsed.netloc and parsed.netloc != urlparse(base).netloc:
        return None
    path = parsed.path + (f"?{parsed.query}" if parsed.query else "")
    if not path.startswith(("/admin", "/tokens", "/files", "/account", "/password")) \
            or any(s in path for s in SKIP_PATHS):
        return None
    return path


ROW_LINK = re.compile(r"/(details|edit)/\?id=")


def crawl(client, base: str = "http://localhost"  # noqa: C901
          ) -> Iterator[tuple[str, int, Page]]:
    """GET the home page, every menu and home-page link, and per list the first row's details
    and edit pages, the create page, and the buttons of that details page. Yields
    (path, status, page); a path is visited once."""
    seen: set[str] = set()
    queue: list[tuple[str, int]] = [("/admin/", 0)]
    while queue:
        path, depth = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        response = client.get(path)
        if response.status_code in (301, 302, 303, 307, 308):
            target = _local(urljoin(base + path, response.headers["Location"]), base)
            if target:
                queue.append((target, depth))
            continue
        html = response.get_data(as_text=True)
        if "text/html" not in response.content_type:
            continue
        page = parse(base + path, html)
        yield path, response.status_code, page
        if response.status_code != 200:
            continue
        if depth == 0:
            for link in page.links:
                target = _local(link, base)
                if target and "id=" not in target and target not in seen:
                    queue.append((target, 1))
        if depth <= 1:
            rows = [t for t in (_local(link, base) for link in page.links)
                    if t and ROW_LINK.search(t)]
            extras = [t for t in (_local(link, base) for link in page.links)
                      if t and t.split("?")[0].endswith("/new/")]
            for kind in ("details", "edit"):
                first = next((t for t in rows if f"/{kind}/" in t), None)
                if first:
                    queue.append((first, 2 if kind == "details" else 3))
            queue.extend((t, 3) for t in extras)
        elif depth == 2:  # a details page: its action and workflow buttons
            for link in page.links:
                target = _local(link, base)
                if target and "id" in target and not ROW_LINK.search(target) \
                        and "/delete/" not in target:
                    queue.append((target, 3))
