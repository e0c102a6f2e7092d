"""The Jinja2 environment and the page context shared by every capability's views."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from fangkong.core.auth import Principal
from fangkong.core.i18n import LANGUAGES, pick_language, translations

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent / "static"
LANG_COOKIE = "fk_lang"

templates = Jinja2Templates(directory=str(TEMPLATES_DIR))

def language_of(request: Request) -> str:
    default = request.app.state.settings.default_language
    return pick_language(request.cookies.get(LANG_COOKIE), request.headers.get("accept-language"), default)


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
    from fangkong.routes import navigation

    nav = [(url, gettext(label)) for perm, url, label in navigation() if principal is not None and principal.can(perm)]
    page_context: dict[str, Any] = {
        "_": gettext,
        "lang": language,
        "languages": LANGUAGES,
        "me": principal,
        "nav": nav,
        "path": request.url.path,
        "csrf": principal.csrf if principal else request.cookies.get("fk_login_csrf", ""),
        **(context or {}),
    }
    return templates.TemplateResponse(request, template, page_context, status_code=status_code)
