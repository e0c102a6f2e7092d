"""Migration 0017 encrypts the work phones stored in clear before it, with the deployment's keys, and
drops the clear column and the undated on-call flag (on SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, inspect, text

from fangkong.core import config
from fangkong.core.crypto import Vault
from fangkong.core.migrate import downgrade, upgrade


@pytest.fixture
def keys(monkeypatch, settings) -> Iterator[Vault]:  # type: ignore[no-untyped-def]
    """The keys as ``fangkong db upgrade`` reads them: from the settings (here the environment)."""
    for name in ("encryption_key", "hash_key", "secret_key"):
        monkeypatch.setenv(f"FANGKONG_{name.upper()}", getattr(settings, name))
    monkeypatch.setenv("FANGKONG_VAR_DIR", str(settings.var_dir))
    config.get_settings.cache_clear()
    yield Vault(settings.encryption_key, settings.hash_key)
    config.get_settings.cache_clear()


def test_the_migration_encrypts_the_phones_stored_in_clear(database_url: str, keys: Vault) -> None:
    downgrade(database_url, "0016")
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO jurisdictions (id, code, name, level, parent_id, path, is_sandbox)"
                    " VALUES (9001, '339901', '测试县', 'county', NULL, '/339901/', false)"
                )
            )
            for n, phone in enumerate(("13905712345", "0571-87001234", "")):
                conn.execute(
                    text(
                        "INSERT INTO resources_staff (jurisdiction_id, jpath, name, unit, work_phone,"
                        " available, on_call, created_at) VALUES (9001, '/339901/', :name, '疾控', :phone,"
                        " true, :on_call, '2026-12-06 20:19:00')"
                    ),
                    {"name": f"员{n}", "phone": phone, "on_call": n == 0},
                )
        upgrade(database_url)
        with engine.connect() as conn:
            columns = {c["name"] for c in inspect(conn).get_columns("resources_staff")}
            rows = conn.execute(
                text("SELECT name, phone_cipher, phone_hash, phone_masked FROM resources_staff ORDER BY id")
            ).all()
    finally:
        engine.dispose()
    assert "work_phone" not in columns and "on_call" not in columns
    assert [(r.name, r.phone_masked) for r in rows] == [
        ("员0", "139****2345"),
        ("员1", "057*****1234"),
        ("员2", None),
    ]
    assert keys.decrypt_text(bytes(rows[0].phone_cipher)) == "13905712345"
    assert keys.decrypt_text(bytes(rows[1].phone_cipher)) == "0571-87001234"
    assert rows[0].phone_hash == keys.keyed_hash("13905712345")
    assert rows[2].phone_cipher is None and rows[2].phone_hash is None
