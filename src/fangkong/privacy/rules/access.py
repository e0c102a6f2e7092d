"""Access outside one's jurisdiction ("break the glass"): the reasons one may give and how long it lasts."""

from __future__ import annotations

from fangkong.core.i18n import Message
from fangkong.core.scope import is_sandbox_path

# A grant lasts one working shift: long enough to handle an arrival or a referred contact, short enough
# that a forgotten grant does not become standing access (DHIS2 ties it to the session; we keep a clock).
GRANT_HOURS = 8

REASONS = ("arrival", "referred_contact", "case_investigation", "other")
OTHER = "other"
MIN_TYPED_REASON = 4
MAX_TYPED_REASON = 300


def check_reason(reason: str, text: str) -> list[tuple[str, Message]]:
    """(field, message) for each problem; a chosen reason may carry text, "other" must."""
    text = text.strip()
    if reason not in REASONS:
        return [("reason", Message("Choose a reason."))]
    if reason == OTHER and len(text) < MIN_TYPED_REASON:
        return [("reason_text", Message("Type the reason (at least {n} characters).", n=MIN_TYPED_REASON))]
    if len(text) > MAX_TYPED_REASON:
        return [("reason_text", Message("At most {n} characters.", n=MAX_TYPED_REASON))]
    return []


def same_province(a: str, b: str) -> bool:
    """Two real paths in one province: glass may be broken only there (a province runs one deployment).
    Inside a drill's sandbox the same holds within that sandbox only (the drill plays it): a sandbox
    path never reaches a real one, nor another drill's sandbox."""
    if is_sandbox_path(a) or is_sandbox_path(b):
        pa, pb = _codes(a), _codes(b)
        # ~ / province / city / county / sandbox township: one drill's sandbox.
        return is_sandbox_path(a) and is_sandbox_path(b) and len(pa) >= 5 and pa[:5] == pb[:5]
    pa, pb = _codes(a), _codes(b)
    return bool(pa and pb and pa[0] == pb[0])


def _codes(path: str) -> list[str]:
    return [c for c in path.split("/") if c]
