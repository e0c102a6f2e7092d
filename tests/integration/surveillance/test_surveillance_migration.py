"""Migration 0004 creates exactly the tables of ``fangkong.surveillance.models``, on both backends."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from fangkong.core.db import Base
from fangkong.models_registry import import_all_models


def _ours(diff: object) -> bool:
    # compare_metadata reports tuples (op, object, ...) or lists of them for column changes.
    items = diff if isinstance(diff, list) else [diff]
    for item in items:
        for part in item:
            table = getattr(part, "table", None)
            name = getattr(part, "name", None) if table is None else table.name
            if isinstance(part, str) and part.startswith("surveillance_"):
                return True
            if isinstance(name, str) and name.startswith("surveillance_"):
                return True
    return False


def test_the_migrated_schema_matches_the_models(database_url: str) -> None:
    import_all_models()
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            differences = [d for d in compare_metadata(context, Base.metadata) if _ours(d)]
            tables = [t for t in Base.metadata.tables if t.startswith("surveillance_")]
            present = set(conn.dialect.get_table_names(conn))
    finally:
        engine.dispose()
    assert len(tables) == 16
    assert set(tables) <= present
    assert differences == []
