"""The Jinja2 environment and the page context shared by every capability's views."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context

from fangkong.core import clock
from fangkong.core.auth import Principal
from fangkong.core.i18n import LANGUAGES, Message, field_label, pick_language, render_text, translations
from fangkong.core.scope import is_sandbox_path

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent / "static"
LANG_COOKIE = "fk_lang"

templates = Jinja2Templates(directory=str(TEMPLATES_DIR))


@pass_context
def _msg_filter(context: Any, value: str | Message | None, ctx: str | None = None) -> str:
    """``{{ value | msg }}``: a Message, a stored message or a stored key, in the page's language.

    ``{{ h.reason | msg("case history") }}`` reads a stored key in that ``msgctxt`` first.
    """
    return render_text(value, context.get("lang"), ctx)


@pass_context
def _error_filter(context: Any, error: object) -> str:
    """``{{ e | error }}``: a RowError as "label: message" (a DomainError or text: its message)."""
    from fangkong.core.errors import DomainError, RowError

    language = context.get("lang")
    if isinstance(error, RowError):
        label = field_label(error.field, language)
        text = render_text(error.text, language)
        return f"{label}{render_text(': ', language)}{text}" if label else text
    if isinstance(error, DomainError):
        return render_text(error.text, language)
    return render_text(str(error), language)


templates.env.filters["msg"] = _msg_filter
templates.env.filters["error"] = _error_filter


def local_time(moment: dt.datetime | None, fmt: str = "%Y-%m-%d %H:%M", missing: str = "—") -> str:
    """An instant as the reader's local wall-clock time; a naive value is already local wall time."""
    if moment is None:
        return missing
    return (clock.as_local(moment) if moment.tzinfo is not None else moment).strftime(fmt)


# Every instant on a page goes through this filter: stored instants are UTC, pages speak local time.
templates.env.filters["local"] = local_time


def language_of(request: Request) -> str:
    # Chinese unless the user chose English: the browser's Accept-Language is not consulted, because
    # shared terminals in health offices often run English-language browsers.
    default = request.app.state.settings.default_language
    return pick_language(request.cookies.get(LANG_COOKIE), None, default)


FOCUS_COOKIE = "fk_focus"
# The picker lists the user's own node and everything under it down to this level.
FOCUS_LEVELS = ("province", "city", "county", "township")


def focus_choices(request: Request, principal: Principal) -> list[tuple[int, str, int]]:
    """(id, name, depth below the user's node) for the header's jurisdiction picker."""
    from sqlalchemy import select

    from fangkong.core.models import Jurisdiction
    from fangkong.core.scope import under

    with request.app.state.db.unit_of_work() as session:
        rows = session.execute(
            select(Jurisdiction.id, Jurisdiction.name, Jurisdiction.path)
            .where(under(Jurisdiction.path, principal.jpath), Jurisdiction.level.in_(FOCUS_LEVELS))
            .order_by(Jurisdiction.path)
            .limit(500)
        ).all()
    base = principal.jpath.count("/")
    return [(jid, name, path.count("/") - base) for jid, name, path in rows]


def focus_of(request: Request, principal: Principal) -> int:
    """The jurisdiction the user is looking at: the picker's choice if it lies in scope, else their own."""
    from fangkong.core.models import Jurisdiction

    raw = request.cookies.get(FOCUS_COOKIE, "")
    if raw.isdigit():
        with request.app.state.db.unit_of_work() as session:
            node = session.get(Jurisdiction, int(raw))
            if node is not None and node.path.startswith(principal.jpath):
                return int(node.id)
    return principal.jurisdiction_id


def _navigation(
    principal: Principal | None, gettext: Any, path: str
) -> tuple[list[tuple[str, str, bool]], list[tuple[str, str]]]:
    """Top bar entries (url, label, active) and the second row of the group the user is in."""
    from fangkong.routes import navigation

    top: list[tuple[str, str, bool]] = []
    second: list[tuple[str, str]] = []
    if principal is None:
        return top, second
    for title, entries in navigation():
        visible = [(url, gettext(label)) for perm, url, label in entries if principal.can(perm)]
        if not visible:
            continue
        if title is None or len(visible) == 1:
            # A group the user sees one page of is that page.
            url, label = visible[0]
            top.append((url, label, path == url or (url != "/" and path.startswith(url + "/"))))
            continue
        inside = any(path == url or path.startswith(url.rstrip("/") + "/") for url, _label in visible)
        top.append((visible[0][0], gettext(title), inside))
        if inside:
            second = visible
    return top, second


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    principal: Principal | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    language = language_of(request)
    gettext = translations(language).gettext
    nav, subnav = _navigation(principal, gettext, request.url.path)
    focus_options: list[tuple[int, str, int]] = []
    focus_id: int | None = None
    if principal is not None:
        focus_options = focus_choices(request, principal)
        focus_id = focus_of(request, principal)
    page_context: dict[str, Any] = {
        "focus_options": focus_options,
        "focus_id": focus_id,
        "_": gettext,
        # pgettext("certainty", "confirmed"): one English word that needs two Chinese ones (确定, 确诊).
        "pgettext": translations(language).pgettext,
        "lang": language,
        "languages": LANGUAGES,
        "me": principal,
        # The user entered a drill: every page shows its sandbox only, under a banner that says so.
        "drill_mode": principal is not None and is_sandbox_path(principal.jpath),
        "nav": nav,
        "subnav": subnav,
        "path": request.url.path,
        "csrf": principal.csrf if principal else request.cookies.get("fk_login_csrf", ""),
        **(context or {}),
    }
    return templates.TemplateResponse(request, template, page_context, status_code=status_code)
