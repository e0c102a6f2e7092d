"""Migration 0007 keeps every stored instant, and instants come back aware UTC on both databases."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session

from fangkong.core.db import Database
from fangkong.core.migrate import downgrade, upgrade
from fangkong.core.models import AuditEntry

INSTANT = dt.datetime(2026, 12, 6, 20, 19, 0, 123456, tzinfo=dt.UTC)  # 04:19 on the 7th in Beijing

# The forms an instant was left in by earlier code: SQLAlchemy's naive UTC text, sqlite3's default
# adapter (an offset suffix), a local time with its offset, and ISO "Z".
SQLITE_FORMS = [
    "2026-12-06 20:19:00.123456",
    "2026-12-06 20:19:00.123456+00:00",
    "2026-12-07 04:19:00.123456+08:00",
    "2026-12-06T20:19:00.123456Z",
]
POSTGRES_FORMS = [
    "2026-12-06 20:19:00.123456+00",
    "2026-12-07 04:19:00.123456+08",
    "2026-12-06 15:19:00.123456-05",
]


def _engine(url: str):  # type: ignore[no-untyped-def]
    return create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))


def test_the_migration_keeps_every_instant(database_url: str) -> None:
    downgrade(database_url, "0006")
    postgres = database_url.startswith("postgresql")
    forms = POSTGRES_FORMS if postgres else SQLITE_FORMS
    engine = _engine(database_url)
    try:
        with engine.begin() as conn:
            for n, form in enumerate(forms):
                conn.execute(
                    text(
                        "INSERT INTO audit_log (at, actor, action, object_type, object_id, detail, ip,"
                        " prev_hash, hash)"
                        " VALUES (:at, 'system', 'test.instant', 'row', :n, '', 'local', '', '')"
                    ),
                    {"at": form, "n": str(n)},
                )
    finally:
        engine.dispose()

    upgrade(database_url)

    db = Database(database_url)
    try:
        with db.unit_of_work() as session:
            read = session.scalars(
                select(AuditEntry.at).where(AuditEntry.action == "test.instant").order_by(AuditEntry.id)
            ).all()
            raw = session.execute(
                text("SELECT at FROM audit_log WHERE action = 'test.instant' ORDER BY id")
            ).scalars()
            stored = list(raw)
    finally:
        db.dispose()
    assert read == [INSTANT] * len(forms)
    assert all(moment.tzinfo is not None and moment.utcoffset() == dt.timedelta(0) for moment in read)
    if not postgres:
        assert stored == ["2026-12-06 20:19:00.123456"] * len(forms)


def test_an_instant_column_refuses_a_naive_time_and_reads_back_aware_utc(database_url: str) -> None:
    db = Database(database_url)
    try:
        with pytest.raises(Exception, match="naive datetime"), db.unit_of_work() as session:
            _add(session, dt.datetime(2026, 12, 7, 4, 19))
        local = INSTANT.astimezone(dt.timezone(dt.timedelta(hours=8)))
        with db.unit_of_work() as session:
            _add(session, local)
        with db.unit_of_work() as session:
            at = session.scalar(select(AuditEntry.at).where(AuditEntry.action == "test.aware"))
    finally:
        db.dispose()
    assert at == INSTANT and at.tzinfo is dt.UTC


def _add(session: Session, at: dt.datetime) -> None:
    session.add(
        AuditEntry(
            at=at,
            actor="system",
            action="test.aware",
            object_type="row",
            object_id="1",
            detail="",
            ip="local",
            prev_hash="",
            hash="",
        )
    )
