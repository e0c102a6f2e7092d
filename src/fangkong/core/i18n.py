"""Chinese (default) and English for the web pages, through Babel message catalogs.

Message ids are English; ``locale/zh/LC_MESSAGES/messages.po`` translates them, and
``locale/en/LC_MESSAGES/messages.po`` words the stored keys English pages show (``command_centre``). The
catalogs are compiled in memory when first used (no build step; a missing translation falls back to
English). Sentences the code writes for people are ``Message`` objects, worded when the reader is known.
"""

from __future__ import annotations

import datetime as dt
import gettext
import io
import json
import re
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Union

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from pydantic import AfterValidator

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
LANGUAGES = {"zh": "中文", "en": "English"}
DEFAULT_LANGUAGE = "zh"


_KEY = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)+")


class _StoredKeysInWords(gettext.NullTranslations):
    """English's last resort: a stored key (``command_centre``, ``case_report``) read as words.

    Message ids are English sentences, but stored values (roles, categories, statuses) are keys; the
    English catalog words the ones that need more than spaces (``command_centre``: Command centre).
    """

    def gettext(self, message: str) -> str:
        return message.replace("_", " ") if _KEY.fullmatch(message) else message

    def pgettext(self, context: str, message: str) -> str:
        return self.gettext(message)


@cache
def translations(language: str) -> gettext.NullTranslations:
    po_path = LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"
    if not po_path.exists():
        return _StoredKeysInWords() if language == "en" else gettext.NullTranslations()
    with po_path.open("rb") as fh:
        catalog = read_po(fh, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    found = Translations(buffer)
    if language == "en":
        found.add_fallback(_StoredKeysInWords())
    return found


def pick_language(cookie: str | None, accept_language: str | None, default: str = DEFAULT_LANGUAGE) -> str:
    if cookie in LANGUAGES:
        return cookie
    if accept_language:
        for part in accept_language.split(","):
            code = part.split(";")[0].strip().lower()[:2]
            if code in LANGUAGES:
                return code
    return default


# ------------------------------------------------------------------------------------------ messages

Param = Union[str, int, float, dt.date, "Message", Sequence["Param"], None]
_ENCODED = '{"msgid":'


class Message:
    """A sentence for a person: its English msgid and its parameters, worded when the reader is known.

    ``Message("{value} is not a date", value=text)`` renders through the catalog at display time, so the
    same error or log line reads in Chinese on a Chinese page and in English in the JSON API and the CLI
    (``str(message)`` is the English). A parameter may itself be a ``Message`` (a stored key such as
    ``close_contact`` wrapped as ``Message("close_contact")``), rendered in the same language; a list
    is joined with the language's list separator. ``ctx`` picks a ``msgctxt`` where one English word needs
    two Chinese ones. ``dumps``/``loads`` keep a message in a text column, and ``loads`` returns old plain
    text unchanged, so rows written before messages had keys still show.
    """

    __slots__ = ("ctx", "msgid", "params")

    def __init__(self, msgid: str, /, *, ctx: str | None = None, **params: Param) -> None:
        self.msgid = msgid
        self.ctx = ctx
        self.params: tuple[tuple[str, Param], ...] = tuple(
            (k, tuple(v) if isinstance(v, list) else v) for k, v in params.items()
        )

    def render(self, language: str | None = None) -> str:
        """The message in ``language`` (None: English); an untranslated one stays English."""
        if not self.msgid:
            return ""  # gettext("") is the catalog's header
        catalog = translations(language or "en")
        template = catalog.pgettext(self.ctx, self.msgid) if self.ctx else self.msgid
        if template == self.msgid:
            # A context only where the word differs: the plain entry serves every other place.
            template = catalog.gettext(self.msgid)
        if not self.params:
            return template
        values = {k: _render_param(v, language) for k, v in self.params}
        try:
            return template.format(**values)
        except (KeyError, IndexError, ValueError):
            pass  # a translation that names a parameter the msgid does not: the English is still right
        try:
            return self.msgid.format(**values)
        except (KeyError, IndexError, ValueError):
            return self.msgid  # a message must never fail the page that shows it

    def __str__(self) -> str:
        return self.render(None)

    def __repr__(self) -> str:
        return f"Message({self.msgid!r}, {dict(self.params)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Message) and (self.msgid, self.ctx, self.params) == (
            other.msgid,
            other.ctx,
            other.params,
        )

    def __hash__(self) -> int:
        return hash((self.msgid, self.ctx, self.params))

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"msgid": self.msgid}
        if self.ctx:
            body["ctx"] = self.ctx
        if self.params:
            body["params"] = {k: _param_to_json(v) for k, v in self.params}
        return body

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> Message:
        params = {k: _param_from_json(v) for k, v in (body.get("params") or {}).items()}
        return cls(str(body["msgid"]), ctx=body.get("ctx"), **params)

    def dumps(self) -> str:
        """The message as one text value for a database column (``loads`` reads it back)."""
        return json.dumps(self.to_json(), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def loads(cls, text: str) -> Message | str:
        """A stored message, or the stored text itself when it was written as plain text."""
        if text.startswith(_ENCODED):
            try:
                body = json.loads(text)
            except ValueError:
                return text
            if isinstance(body, dict) and "msgid" in body:
                return cls.from_json(body)
        return text


def _render_param(value: Param, language: str | None) -> str:
    if isinstance(value, Message):
        return value.render(language)
    if isinstance(value, tuple | list):
        separator = translations(language or "en").gettext(", ")
        return separator.join(_render_param(v, language) for v in value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:g}"
    return "" if value is None else str(value)


def _param_to_json(value: Param) -> Any:
    if isinstance(value, Message):
        return value.to_json()
    if isinstance(value, tuple | list):
        return [_param_to_json(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _param_from_json(value: Any) -> Param:
    if isinstance(value, dict) and "msgid" in value:
        return Message.from_json(value)
    if isinstance(value, list):
        return [_param_from_json(v) for v in value]
    return value  # type: ignore[no-any-return]


def joined(parts: Sequence[Message], template: str = "{first}; {rest}") -> Message:
    """Several messages as one, joined by ``template``'s separator (worded per language in the catalog)."""
    if not parts:
        return Message("")
    result = parts[-1]
    for part in reversed(parts[:-1]):
        result = Message(template, first=part, rest=result)
    return result


def as_message(value: str | Message) -> Message:
    """Plain English text as a message: translated when the catalog knows it, else shown as written."""
    return value if isinstance(value, Message) else Message(value)


def render_text(value: str | Message | None, language: str | None, ctx: str | None = None) -> str:
    """What a page shows for a message, a stored (encoded) message, or old plain text, in ``language``.

    Plain text goes through the catalog too: English sentences stored before messages had keys, and
    stored keys (``close_contact``), read in the reader's language when the catalog knows them; ``ctx``
    is the ``msgctxt`` tried first for such a key (``reported`` in a case's history is not an assist
    request's status).
    """
    if value is None:
        return ""
    if isinstance(value, str):
        loaded = Message.loads(value)
        if isinstance(loaded, str):
            if not language or not loaded.strip():
                return loaded
            catalog = translations(language)
            shown = catalog.pgettext(ctx, loaded) if ctx else loaded
            return catalog.gettext(loaded) if shown == loaded else shown
        value = loaded
    return value.render(language)


def stored(value: str | Message) -> str:
    """The text to keep in a database column for ``value`` (see ``Message.loads`` and ``render_text``)."""
    return value.dumps() if isinstance(value, Message) else value


# The label a person reads for a form field, by the field's name: used where an error names a field the
# submitting form does not show, and on the page a browser without script gets. On a form the browser
# takes the label from the form itself (static/js/forms.js), so a page's own wording wins.
FIELD_LABELS: dict[str, str] = {
    "address": "Address",
    "age": "Age",
    "birth_date": "Birth date",
    "case_ref": "Case number",
    "classification": "Classification",
    "community_code": "Community code",
    "diagnosis_date": "Diagnosis date",
    "distance_m": "Distance (m)",
    "end": "End",
    "file": "File",
    "id_number": "ID number",
    "isolated_at": "Isolated at",
    "jurisdiction_code": "Jurisdiction",
    "jurisdiction_id": "Jurisdiction",
    "message": "Message",
    "method": "Method",
    "note": "Note",
    "onset_date": "Onset date",
    "outcome": "Outcome",
    "outcome_date": "Outcome date",
    "params": "Parameters",
    "password": "Password",
    "phone": "Mobile",
    "reason": "Reason",
    "role": "Role",
    "sampling_date": "Sampling date",
    "seeds": "Seeds",
    "setting": "Setting",
    "sex": "Sex",
    "start": "Start",
    "username": "Username",
}


def field_label(field: str, language: str | None) -> str:
    """The label for ``field`` in ``language``; a name already in words (an import's header) as it is.

    A field with no label known here answers "" rather than a programmer's name: the message then
    stands alone beside the field it belongs to.
    """
    label = FIELD_LABELS.get(field)
    if label is not None:
        return translations(language).gettext(label) if language else label
    if field == "*" or (field.isascii() and ("_" in field or field.islower())):
        return ""
    return field


# A text column that may hold a stored message, as the JSON API shows it: in English.
StoredText = Annotated[str, AfterValidator(lambda text: render_text(text, None))]
