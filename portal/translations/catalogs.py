"""The two message catalogs, and the commands that keep them in step with the code.

The code uses two kinds of msgids:

- ENGLISH msgids (portal templates, portal/auth.py, every service error ``N_("…")``) are
  translated into Simplified Chinese by ``portal/translations/zh_Hans_CN``;
- CHINESE msgids (admin_views labels) are translated into English by
  ``admin_views/translations/en``.

``python -m portal.translations.catalogs extract`` extracts every message (babel.cfg), splits
them by language into ``portal/translations/messages.pot`` and
``admin_views/translations/messages.pot`` and updates both catalogs; new entries then need a
translation (tests/test_i18n.py fails until they have one). ``… compile`` writes the .mo files
(also done at start-up, see ``compile_stale``).
"""

from __future__ import annotations

import logging
import os
import re
import sys
import tempfile
from pathlib import Path

from babel.messages.catalog import Catalog

ROOT = Path(__file__).resolve().parents[2]
PORTAL_TRANSLATIONS = ROOT / "portal" / "translations"
ADMIN_TRANSLATIONS = ROOT / "admin_views" / "translations"
DIRECTORIES = (PORTAL_TRANSLATIONS, ADMIN_TRANSLATIONS)
# msgid language -> (catalog directory, locale the catalog translates into)
TARGETS = {"en": (PORTAL_TRANSLATIONS, "zh_Hans_CN"), "zh": (ADMIN_TRANSLATIONS, "en")}
KEYWORDS = ("lazy_gettext", "_l", "N_")
PROJECT = "customer-archive portal"

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")
PLACEHOLDER = re.compile(r"%\((\w+)\)[#0\- +]*\d*(?:\.\d+)?[sdifr%]|%[sdif%]")

log = logging.getLogger(__name__)


def text_of(msgid: str | tuple) -> str:
    return msgid[0] if isinstance(msgid, tuple) else msgid


def language_of(msgid: str | tuple) -> str:
    """'zh' when the msgid is Chinese text, else 'en'. An English sentence may quote a Chinese
    term (“重卡: an archive with …”), a Chinese label may name a file type (“上传 Excel…”):
    a Chinese character weighs two Latin letters (“导出 CSV” is Chinese); placeholders do not
    count."""
    text = PLACEHOLDER.sub("", text_of(msgid))
    return "zh" if 2 * len(_CJK.findall(text)) > len(_LATIN.findall(text)) else "en"


def placeholders(text: str) -> list[str]:
    return sorted(m.group(0) for m in PLACEHOLDER.finditer(text) if m.group(0) != "%%")


def extract() -> Catalog:
    """A fresh extraction of every message in the code, as configured by babel.cfg."""
    from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
    from babel.messages.frontend import parse_mapping_cfg

    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    keywords = dict(DEFAULT_KEYWORDS)
    keywords.update({name: None for name in KEYWORDS})
    keywords["lazy_pgettext"] = ((1, "c"), 2)
    catalog = Catalog(project=PROJECT, charset="utf-8")
    for filename, lineno, message, comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=keywords
    ):
        catalog.add(message, None, [(filename.replace("\\", "/"), lineno)],
                    auto_comments=comments, context=context)
    return catalog


def split(catalog: Catalog) -> dict[str, Catalog]:
    """The extracted messages as one template per msgid language."""
    parts = {lang: Catalog(project=PROJECT, charset="utf-8") for lang in TARGETS}
    for message in catalog:
        if not message.id:
            continue
        parts[language_of(message.id)].add(
            message.id, None, message.locations, flags=message.flags,
            auto_comments=message.auto_comments, context=message.context,
        )
    return parts


def po_path(lang: str) -> Path:
    directory, locale = TARGETS[lang]
    return directory / locale / "LC_MESSAGES" / "messages.po"


def read(path: Path) -> Catalog:
    from babel.messages.pofile import read_po

    with path.open("rb") as src:
        return read_po(src)


def write(path: Path, catalog: Catalog) -> None:
    from babel.messages.pofile import write_po

    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as dst:
        write_po(dst, catalog, width=100, sort_output=False, ignore_obsolete=True)


def update() -> dict[str, int]:
    """Extract, write both templates, merge them into both catalogs; returns how many entries
    of each catalog still need a translation (empty or fuzzy)."""
    todo = {}
    for lang, template in split(extract()).items():
        directory, locale = TARGETS[lang]
        write(directory / "messages.pot", template)
        path = po_path(lang)
        if path.exists():
            catalog = read(path)
        else:
            catalog = Catalog(locale=locale, project=PROJECT, charset="utf-8")
        catalog.update(template)
        catalog.fuzzy = False
        write(path, catalog)
        todo[str(path.relative_to(ROOT))] = sum(
            1 for m in catalog if m.id and (not m.string or m.fuzzy)
        )
    return todo


def compile_stale(force: bool = False) -> list[Path]:
    """Write the .mo of every catalog whose .mo is missing or older than its .po (fuzzy
    entries are left out). A read-only install keeps the .mo files it shipped with."""
    from babel.messages.mofile import write_mo

    written = []
    for directory in DIRECTORIES:
        for po in sorted(directory.glob("*/LC_MESSAGES/*.po")):
            mo = po.with_suffix(".mo")
            if not force and mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
                continue
            try:
                catalog = read(po)
                # Write then rename: a concurrent process never loads a half-written .mo.
                fd, tmp = tempfile.mkstemp(dir=mo.parent, prefix=".messages-", suffix=".mo")
                try:
                    with os.fdopen(fd, "wb") as dst:
                        write_mo(dst, catalog)
                    os.replace(tmp, mo)
                finally:
                    if os.path.exists(tmp):
                        os.unlink(tmp)
            except OSError as exc:  # pragma: no cover - read-only installs
                log.warning("cannot compile %s: %s", po, exc)
                continue
            written.append(mo)
    return written


def main(argv: list[str]) -> int:
    command = argv[0] if argv else ""
    if command == "extract":
        for path, count in update().items():
            print(f"{path}: {count} entries to translate")
        return 0
    if command == "compile":
        for mo in compile_stale(force="--force" in argv):
            print(f"compiled {mo.relative_to(ROOT)}")
        return 0
    print("usage: python -m portal.translations.catalogs extract|compile [--force]",
          file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
