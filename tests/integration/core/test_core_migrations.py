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


def test_migrated_schema_matches_the_models(database_url: str) -> None:
    """Alembic's autogenerate finds nothing to add, drop or alter: the history and the models agree."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from fangkong.core.db import Base
    from fangkong.models_registry import import_all_models

    import_all_models()

    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()


def test_keyed_hashes_compare_bytewise_on_postgresql(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        return
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as conn:
            collations = dict(
                conn.exec_driver_sql(
                    "SELECT table_name || '.' || column_name, collation_name FROM information_schema.columns"
                    " WHERE column_name LIKE '%%\\_hash' AND table_name IN"
                    " ('people', 'households', 'tracing_unidentified_people', 'tracing_assist_requests')"
                ).all()
            )
    finally:
        engine.dispose()
    assert len(collations) == 8
    assert set(collations.values()) == {"C"}, collations
