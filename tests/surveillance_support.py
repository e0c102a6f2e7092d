"""Helpers shared by the surveillance tests (a module beside conftest, imported by the tests)."""

from __future__ import annotations

# A listed disease whose single case raises a red 2-hour alert (the rule a new channel gets).
CHOLERA_CHANNEL = {
    "code": "cases.cholera",
    "name": "Cholera cases",
    "unit": "cases",
    "frequency": "daily",
    "report_level": "county",
    "kind": "case_reports",
    "disease": "cholera",
}


def add_cholera_channel(client, headers: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    """Create the cholera case-report channel as the given user."""
    created = client.post("/api/surveillance/channels", headers=headers, json=CHOLERA_CHANNEL)
    assert created.status_code == 201, created.text
