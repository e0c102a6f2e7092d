"""Every text the pages show has a Chinese translation (Chinese is the default UI); the catalog is sound."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from babel.messages.pofile import read_po

import fangkong
from fangkong.core.i18n import LOCALE_DIR, translations
from fangkong.web.templating import TEMPLATES_DIR

# {{ _("...") }} and _('...') in templates; dynamic ids like _(r.section) are checked where they are made.
LITERAL = re.compile(r"""_\(\s*(["'])(.+?)\1\s*\)""")
CONTEXTUAL = re.compile(r"""pgettext\(\s*["']([^"']+)["']\s*,\s*["']([^"']+)["']\s*\)""")
PLACEHOLDER = re.compile(r"\{(\w+)\}")
SOURCE_DIR = Path(fangkong.__file__).resolve().parent
ERRORS = {"DomainError", "NotFound", "Conflict", "Forbidden", "RuleError", "ClassifierError"}


def _template_ids() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in TEMPLATES_DIR.rglob("*.html"):
        for match in LITERAL.finditer(path.read_text(encoding="utf-8")):
            found.setdefault(match.group(2), set()).add(str(path.relative_to(TEMPLATES_DIR)))
    return found


def test_catalog_has_no_duplicate_ids() -> None:
    for language in ("zh", "en"):
        text = (LOCALE_DIR / language / "LC_MESSAGES" / "messages.po").read_text(encoding="utf-8")
        # One English word may have one entry per context (msgctxt "certainty" / none: 确定 / 确诊病例).
        ids = re.findall(r'^(?:msgctxt "(.*)"\n)?msgid "(.+)"$', text, flags=re.MULTILINE)
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        assert duplicates == [], language


def test_catalog_parses() -> None:
    with (LOCALE_DIR / "zh" / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        catalog = read_po(fh, locale="zh")
    assert len(catalog) > 50


def test_every_template_text_is_translated_to_chinese() -> None:
    zh = translations("zh")
    missing = {text: sorted(where) for text, where in _template_ids().items() if zh.gettext(text) == text}
    assert missing == {}


def test_every_template_text_with_a_context_is_translated_to_chinese() -> None:
    zh = translations("zh")
    missing = sorted(
        f"{path.relative_to(TEMPLATES_DIR)}: {ctx} / {text}"
        for path in TEMPLATES_DIR.rglob("*.html")
        for ctx, text in CONTEXTUAL.findall(path.read_text(encoding="utf-8"))
        if zh.pgettext(ctx, text) == text
    )
    assert missing == []


def _source_messages() -> dict[tuple[str | None, str], str]:
    """Sentences the code writes for people: Message msgids, and the literal text of errors."""
    found: dict[tuple[str | None, str], str] = {}
    for path in SOURCE_DIR.rglob("*.py"):
        if "analytics" in path.parts:  # a library of its own: its errors are worded where they are used
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = (
                func.id
                if isinstance(func, ast.Name)
                else func.attr
                if isinstance(func, ast.Attribute)
                else ""
            )
            position = {"Message": 0, "RowError": 2}.get(name, 0 if name in ERRORS else None)
            if position is None or len(node.args) <= position:
                continue
            arg = node.args[position]
            if not isinstance(arg, ast.Constant) or not isinstance(arg.value, str) or not arg.value.strip():
                continue
            ctx = next(
                (
                    str(k.value.value)
                    for k in node.keywords
                    if k.arg == "ctx" and isinstance(k.value, ast.Constant)
                ),
                None,
            )
            found.setdefault((ctx, arg.value), f"{path.relative_to(SOURCE_DIR)}:{node.lineno}")
    return found


def test_every_message_the_code_writes_for_people_is_translated_to_chinese() -> None:
    zh = translations("zh")
    missing = sorted(
        f"{where}: {text!r}"
        for (ctx, text), where in _source_messages().items()
        if (zh.pgettext(ctx, text) if ctx else zh.gettext(text)) == text
        and re.search(r"[A-Za-z]", PLACEHOLDER.sub("", text))  # "{text}" alone has no words to translate
    )
    assert missing == []


def test_every_translation_keeps_the_messages_parameters() -> None:
    with (LOCALE_DIR / "zh" / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        catalog = read_po(fh, locale="zh")
    broken = sorted(
        str(m.id)
        for m in catalog
        if m.id
        and m.string
        and set(PLACEHOLDER.findall(str(m.id))) != set(PLACEHOLDER.findall(str(m.string)))
    )
    assert broken == []
