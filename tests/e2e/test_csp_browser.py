"""The Content-Security-Policy in a real headless Chromium (issue 11, item 16): pages work under it, and
a script that was not part of the page as rendered is refused.

The pages' own inline scripts carry the answer's nonce and run (the Rt charts draw); the header's
jurisdiction picker sends its form from a static script, not an inline handler; the browser reports no
violation on the way; and a script injected afterwards is refused by the browser.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import PASSWORD, World

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]

# Collects what the browser refuses under the policy (set before any page script runs).
WATCH_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__violations.push(e.violatedDirective + " " + (e.blockedURI || "inline"));
});
"""


def test_pages_run_their_own_scripts_under_the_policy_and_refuse_an_injected_one(
    live_server: str, page, world: World, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    page.add_init_script(WATCH_VIOLATIONS)
    counts = tmp_path / "counts.csv"
    counts.write_text(
        "date,jurisdiction,local\n"
        + "".join(f"2024-03-{d:02d},330106001001,{d // 3 + 1}\n" for d in range(1, 31)),
        encoding="utf-8",
    )
    page.goto(f"{live_server}/login?next=/modeling/rt")
    page.fill("#username", "home_command_centre")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}/modeling/rt")
    page.set_input_files("[data-testid=rt-upload] input[type=file]", str(counts))
    page.click("[data-testid=rt-upload] button[type=submit]")
    page.wait_for_selector("[data-testid=rt-table]")
    page.wait_for_selector("#rt-charts canvas")  # drawn by the page's inline script, under its nonce
    assert page.evaluate("window.__violations") == []

    # The header's jurisdiction picker submits on change (autosubmit.js, no inline onchange).
    township = world.jurisdictions["330106001"]
    with page.expect_navigation():
        page.select_option("[data-testid=focus]", str(township))
    assert page.locator("[data-testid=focus]").input_value() == str(township)
    assert page.evaluate("window.__violations") == []

    # A script that was not in the page as rendered does not run.
    page.evaluate(
        """() => {
          const s = document.createElement("script");
          s.textContent = "window.__injected = true;";
          document.body.appendChild(s);
        }"""
    )
    assert page.evaluate("window.__injected === undefined")
    assert any(v.startswith("script-src") for v in page.evaluate("window.__violations"))
