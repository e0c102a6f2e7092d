"""Every page form that changes something is an htmx form, so a failure never replaces the page.

The app's error handler answers htmx with the form's errors, which static/js/forms.js puts beside the
fields (see web/errors.py); a plain form would get a whole error page instead and lose what was typed.
"""

from __future__ import annotations

import re

from fangkong.web.templating import STATIC_DIR, TEMPLATES_DIR

FORM = re.compile(r"<form\b[^>]*>", re.DOTALL)


def test_every_post_form_is_an_htmx_form() -> None:
    plain = [
        f"{path.relative_to(TEMPLATES_DIR)}: {tag[:80]}"
        for path in sorted(TEMPLATES_DIR.rglob("*.html"))
        for tag in FORM.findall(path.read_text(encoding="utf-8"))
        if re.search(r'method="post"', tag, re.IGNORECASE) and not re.search(r"hx-(boost|post)=", tag)
    ]
    assert plain == []


def test_the_base_page_loads_the_inline_error_script() -> None:
    assert (STATIC_DIR / "js" / "forms.js").is_file()
    assert '<script src="/static/js/forms.js"' in (TEMPLATES_DIR / "base.html").read_text(encoding="utf-8")
