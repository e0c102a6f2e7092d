"""Every text the pages show has a Chinese translation (Chinese is the default UI); the catalog is sound."""

from __future__ import annotations

import re

from babel.messages.pofile import read_po

from fangkong.core.i18n import LOCALE_DIR, translations
from fangkong.web.templating import TEMPLATES_DIR

# {{ _("...") }} and _('...') in templates; dynamic ids like _(r.section) are checked where they are made.
LITERAL = re.compile(r"""_\(\s*(["'])(.+?)\1\s*\)""")


def _template_ids() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in TEMPLATES_DIR.rglob("*.html"):
        for match in LITERAL.finditer(path.read_text(encoding="utf-8")):
            found.setdefault(match.group(2), set()).add(str(path.relative_to(TEMPLATES_DIR)))
    return found


def test_catalog_has_no_duplicate_ids() -> None:
    text = (LOCALE_DIR / "zh" / "LC_MESSAGES" / "messages.po").read_text(encoding="utf-8")
    ids = re.findall(r'^msgid "(.+)"$', text, flags=re.MULTILINE)
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    assert duplicates == []


def test_catalog_parses() -> None:
    with (LOCALE_DIR / "zh" / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        catalog = read_po(fh, locale="zh")
    assert len(catalog) > 50


def test_every_template_text_is_translated_to_chinese() -> None:
    zh = translations("zh")
    missing = {text: sorted(where) for text, where in _template_ids().items() if zh.gettext(text) == text}
    assert missing == {}
