"""The audit chain: every write is recorded, and tampering is found at the row it happened."""

from __future__ import annotations

import json

from sqlalchemy import select, text
from typer.testing import CliRunner

from conftest import HOME_COUNTY, World, token_for
from fangkong.cli import app as cli_app
from fangkong.core.models import AuditEntry


def _verify_cli(settings, monkeypatch) -> tuple[int, dict[str, object]]:  # type: ignore[no-untyped-def]
    from fangkong.core import config

    monkeypatch.setenv("FANGKONG_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("FANGKONG_VAR_DIR", str(settings.var_dir))
    config.get_settings.cache_clear()
    result = CliRunner().invoke(cli_app, ["audit", "verify", "--json"])
    config.get_settings.cache_clear()
    return result.exit_code, json.loads(result.stdout)


def test_writes_and_reveals_are_chained_and_verify(app, client, world: World, settings, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    headers = token_for(client, "home_investigator")
    client.post(f"/api/people/{world.people[HOME_COUNTY][0]}/reveal", headers=headers)
    code, report = _verify_cli(settings, monkeypatch)
    assert code == 0 and report["ok"] is True
    assert report["checked"] > 20  # users, people, tree import, token, reveal


def test_editing_a_row_breaks_the_chain_at_that_row(app, client, world: World, settings, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    with app.state.db.unit_of_work() as session:
        ids = list(session.scalars(select(AuditEntry.id).order_by(AuditEntry.id)))
        target = ids[len(ids) // 2]
        session.execute(text("UPDATE audit_log SET actor = 'someone_else' WHERE id = :id"), {"id": target})
    code, report = _verify_cli(settings, monkeypatch)
    assert code == 1
    assert report["first_broken_id"] == target


def test_deleting_a_row_breaks_the_chain_after_it(app, world: World, settings, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    with app.state.db.unit_of_work() as session:
        ids = list(session.scalars(select(AuditEntry.id).order_by(AuditEntry.id)))
        session.execute(text("DELETE FROM audit_log WHERE id = :id"), {"id": ids[3]})
    code, report = _verify_cli(settings, monkeypatch)
    assert code == 1
    assert report["first_broken_id"] == ids[4]


def test_audit_verify_api_reports_intact_chain(client, world: World) -> None:
    headers = token_for(client, "province_admin")
    body = client.get("/api/audit/verify", headers=headers).json()
    assert body["ok"] is True and body["first_broken_id"] is None
