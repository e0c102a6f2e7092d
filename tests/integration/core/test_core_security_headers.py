"""Security headers on pages and API answers (issue 11, item 16), and templates that keep to the policy.

Every answer carries a Content-Security-Policy (own origin only, inline scripts by this answer's
nonce, no framing), X-Frame-Options, X-Content-Type-Options and a Referrer-Policy; HSTS only in
production. The template check keeps pages working under the policy as they grow: an inline script
or style block without the nonce, an inline event handler, a ``javascript:`` link or ``hx-on`` (htmx
evaluates it as code) would be refused by the browser, so none may be written.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from conftest import PASSWORD, World, token_for
from fangkong.core.config import Settings
from fangkong.web.templating import TEMPLATES_DIR


def _assert_hardened(headers: dict[str, str] | object) -> str:
    """The headers every answer carries; returns the policy's nonce."""
    policy = headers["content-security-policy"]  # type: ignore[index]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    nonce = re.fullmatch(r"'self' 'nonce-([A-Za-z0-9_-]{16,})'", directives["script-src"])
    assert nonce is not None, directives["script-src"]
    assert "unsafe-inline" not in directives["script-src"] and "unsafe-eval" not in policy
    assert headers["x-frame-options"] == "DENY"  # type: ignore[index]
    assert headers["x-content-type-options"] == "nosniff"  # type: ignore[index]
    assert headers["referrer-policy"] == "same-origin"  # type: ignore[index]
    return nonce.group(1)


def test_a_page_carries_the_headers_and_its_inline_scripts_carry_the_answers_nonce(
    client: TestClient, world: World
) -> None:
    login = client.get("/login")
    assert login.status_code == 200
    _assert_hardened(login.headers)
    assert "strict-transport-security" not in login.headers  # HSTS belongs to production

    csrf = re.search(r'name="csrf_token" value="([^"]+)"', login.text)
    assert csrf is not None
    client.post(
        "/login",
        data={"username": "home_command_centre", "password": PASSWORD, "csrf_token": csrf.group(1)},
        follow_redirects=False,
    )
    page = client.get("/modeling/rt")
    assert page.status_code == 200
    nonce = _assert_hardened(page.headers)
    inline = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", page.text)
    assert inline, "the Rt page draws its charts with an inline script"
    assert all(f'nonce="{nonce}"' in attributes for attributes in inline)
    assert nonce != _assert_hardened(client.get("/modeling/rt").headers)  # a new nonce for every answer


def test_an_api_answer_carries_the_headers(client: TestClient, world: World) -> None:
    me = client.get("/api/me", headers=token_for(client, "home_investigator"))
    assert me.status_code == 200
    _assert_hardened(me.headers)
    refused = client.post("/api/auth/token", json={"username": "nobody", "password": "wrong-password"})
    assert refused.status_code == 401
    _assert_hardened(refused.headers)


def test_production_adds_hsts(settings: Settings) -> None:
    from fangkong.app import create_app

    app = create_app(settings.model_copy(update={"env": "production"}))
    try:
        with TestClient(app) as client:
            answer = client.get("/healthz")
    finally:
        app.state.db.dispose()
    assert answer.headers["strict-transport-security"].startswith("max-age=")
    _assert_hardened(answer.headers)


TAG_RE = re.compile(r"<(script|style)\b([^>]*)>", re.IGNORECASE)
NONCE = 'nonce="{{ request.state.csp_nonce }}"'
FORBIDDEN = [
    (re.compile(r"<[a-z][^>]*\son[a-z]+\s*=\s*[\"']", re.IGNORECASE), "an inline event handler (on...=)"),
    (re.compile(r"javascript:", re.IGNORECASE), "a javascript: link"),
    (re.compile(r"\shx-on", re.IGNORECASE), "hx-on (htmx evaluates it as code)"),
    (re.compile(r"hx-(vals|vars)\s*=\s*['\"]\s*(js|javascript):", re.IGNORECASE), "hx-vals with js:"),
]


@pytest.mark.parametrize(
    "template", sorted(str(p.relative_to(TEMPLATES_DIR)) for p in TEMPLATES_DIR.rglob("*.html"))
)
def test_templates_keep_to_the_content_security_policy(template: str) -> None:
    text = (Path(TEMPLATES_DIR) / template).read_text(encoding="utf-8")
    problems = [
        f"<{tag}> without the nonce"
        for tag, attributes in TAG_RE.findall(text)
        if "src=" not in attributes and NONCE not in attributes
    ]
    problems += [what for pattern, what in FORBIDDEN if pattern.search(text)]
    assert problems == [], f"{template}: {problems}; see src/fangkong/web/security.py"
