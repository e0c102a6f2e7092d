"""The one Alembic history upgrades an empty database, and downgrades cleanly, on both backends."""

from __future__ import annotations

from sqlalchemy import create_engine, inspect

from fangkong.core.migrate import downgrade, upgrade


def _tables(url: str) -> set[str]:
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_down_to_base_and_up_again(database_url: str) -> None:
    downgrade(database_url, "base")
    assert _tables(database_url) <= {"alembic_version"}
    upgrade(database_url)
    assert {"jurisdictions", "people", "households", "users", "audit_log"} <= _tables(database_url)
