"""Benchmark: the end-of-emergency purge of 1,000,000 people with their records, against a bare DELETE.

Builds its own PostgreSQL database at the head of the migrations (dropped at the end) and fills it with
set-based ``INSERT ... SELECT generate_series``: a province with ``--counties`` counties, ``--people``
residents (default 1,000,000, the issue's size) in households of about 2.5, and their records: a
management plan each, two test orders each, a case for 5 %, an exposure for 10 % and an arrival (with
its own ciphertext and keyed hashes) for 10 %. Every column the models require is filled from its
type, so the data keeps up with the schema.

fangkong's figure (``purge_seconds``) is the whole purge an administrator runs after the confirmation
period (``fangkong privacy purge --now``): pin the people collected for the emergency, strip their
identity from the registry and from every table that carries it (found from the metadata), empty their
households' addresses, apply each record class's rule (anonymise the rows, delete the exposures), write
the deletion report and the audit entry, commit. The baseline deletes the same people and every row that
refers to them with bare ``DELETE`` statements (children first, then the registry; foreign-key checks
off), inside a transaction rolled back afterwards so that the purge meets the same data.
Target (issue 19): under 120 s on PostgreSQL.

    python bench/purge.py [--people 1000000] [--counties 10]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import time
import uuid
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Enum,
    Float,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Table,
    Text,
    create_engine,
    text,
)
from sqlalchemy.types import TypeDecorator

PG_ADMIN = os.environ.get("FANGKONG_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
TARGET_SECONDS = 120.0
PROVINCE = "330000"
# When the records were collected and when the emergency closed (the purge acts on what came before).
COLLECTED = "2022-11-20 08:00:00+00"
CLOSED = dt.datetime(2022, 12, 20, tzinfo=dt.UTC)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def _admin() -> Any:
    return create_engine(
        PG_ADMIN.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
    )


def fresh_database() -> tuple[str, str]:
    name = f"fangkong_bench_purge_{uuid.uuid4().hex[:8]}"
    admin = _admin()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return f"{PG_ADMIN.rsplit('/', 1)[0]}/{name}", name


def drop_database(name: str) -> None:
    admin = _admin()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


# ------------------------------------------------------------------------------------------ the data


def _sql_value(column: Any) -> str:
    """A SQL expression of ``g`` (the generate_series row number) that fits a required column."""
    kind = column.type
    if isinstance(kind, TypeDecorator):
        kind = kind.impl if not isinstance(kind.impl, type) else kind.impl()
    unique = column.unique or any(
        i.unique and column.name in i.columns for i in column.table.indexes
    ) or any(getattr(k, "columns", None) is not None and column.name in k.columns and type(k).__name__ ==
             "UniqueConstraint" for k in column.table.constraints)  # fmt: skip
    if isinstance(kind, Enum):
        return f"'{kind.enums[0]}'"
    if isinstance(kind, Boolean):
        return "false"
    if isinstance(kind, DateTime):
        return f"timestamptz '{COLLECTED}'"
    if isinstance(kind, Date):
        return "date '2022-11-20'"
    if isinstance(kind, Integer):
        return "g" if unique else "1"
    if isinstance(kind, Float | Numeric):
        return "1.0"
    if isinstance(kind, LargeBinary):
        return "'\\x00'::bytea"
    if isinstance(kind, Text):
        return "'x'"
    if isinstance(kind, String):
        width = kind.length or 30
        return f"left('v' || g, {width})" if unique else "'x'"
    raise TypeError(f"no value for {column}")


def fill(conn: Any, table: Table, count: str, values: dict[str, str]) -> None:
    """INSERT ``count`` rows (a SQL expression) into ``table``: ``values`` as given, every other required
    column from its type."""
    columns: dict[str, str] = {}
    for c in table.columns:
        if c.name in values:
            columns[c.name] = values[c.name]
        elif c.primary_key and isinstance(c.type, Integer) and not c.foreign_keys:
            continue
        elif not c.nullable:
            columns[c.name] = _sql_value(c)
    names = ", ".join(f'"{n}"' for n in columns)
    exprs = ", ".join(columns.values())
    conn.execute(
        text(f'INSERT INTO "{table.name}" ({names}) SELECT {exprs} FROM generate_series(1, {count}) g')
    )


def build(url: str, people: int, counties: int) -> None:
    from fangkong.core import audit, jurisdictions, users
    from fangkong.core.db import Base, Database
    from fangkong.core.jurisdictions import JurisdictionRow
    from fangkong.models_registry import import_all_models

    import_all_models()
    t = Base.metadata.tables
    rows = [
        JurisdictionRow(PROVINCE, "浙江省", "province", ""),
        JurisdictionRow("330100", "杭州市", "city", PROVINCE),
    ]
    rows += [JurisdictionRow(f"3301{i + 1:02d}", f"第{i + 1}区", "county", "330100") for i in range(counties)]
    db = Database(url)
    with db.unit_of_work() as session:
        jurisdictions.import_tree(session, audit.SYSTEM, rows)
        users.create_user(
            session, audit.SYSTEM, "/", username="bench_admin", display_name="bench", role="administrator",
            jurisdiction_code=PROVINCE, password="bench-password-42",
        )  # fmt: skip
    # The county of row g, its id and path: counties are numbered from the city's id on.
    county = f"(g % {counties})"
    jid = f"(SELECT id FROM jurisdictions WHERE code = '3301' || lpad(({county} + 1)::text, 2, '0'))"
    jpath = f"'/{PROVINCE}/330100/3301' || lpad(({county} + 1)::text, 2, '0') || '/'"
    households = max(people * 2 // 5, 1)
    with db.engine.begin() as conn:
        log(f"{households:,} households")
        fill(conn, t["households"], str(households), {
            "jurisdiction_id": jid, "jpath": jpath, "address_hash": "md5('a' || g)",
            "address_cipher": "decode(md5('addr' || g), 'hex')", "address_masked": "'某路***'",
        })  # fmt: skip
        log(f"{people:,} people")
        fill(conn, t["people"], str(people), {
            "jurisdiction_id": jid, "jpath": jpath, "household_id": f"1 + (g % {households})",
            "pii": "decode(md5('pii' || g), 'hex')", "id_hash": "md5('id' || g)",
            "phone_hash": "md5('ph' || g)", "name_hash": "md5('nm' || (g % 5000))",
            "id_masked": "'330***********0001'", "phone_masked": "'138****0000'", "name_masked": "'张*'",
            "sex": "CASE WHEN g % 2 = 0 THEN 'M' ELSE 'F' END",
            "birth_date": "date '1950-01-01' + (g % 25000)", "created_at": f"timestamptz '{COLLECTED}'",
        })  # fmt: skip
        person = "g"
        log("management plans")
        fill(conn, t["management_plans"], str(people), {"person_id": person, "jpath": jpath,
             "created_at": f"timestamptz '{COLLECTED}'"})  # fmt: skip
        log("test orders")
        fill(conn, t["testing_orders"], str(people * 2), {"person_id": f"1 + (g % {people})", "jpath": jpath,
             "created_at": f"timestamptz '{COLLECTED}'"})  # fmt: skip
        log("cases, exposures, arrivals")
        fill(conn, t["tracing_cases"], str(people // 20), {"person_id": "g * 20", "jurisdiction_id": jid,
             "jpath": jpath, "case_ref": "'C' || g", "subject_key": "'p' || g",
             "created_at": f"timestamptz '{COLLECTED}'"})  # fmt: skip
        fill(conn, t["tracing_exposures"], str(people // 10), {"person_id": "g * 10",
             "case_id": f"1 + (g % {max(people // 20, 1)})", "jpath": jpath,
             "created_at": f"timestamptz '{COLLECTED}'"})  # fmt: skip
        fill(conn, t["arrivals"], str(people // 10), {"person_id": "g * 10", "destination_id": jid,
             "jpath": jpath, "pii": "decode(md5('apii' || g), 'hex')", "id_hash": "md5('id' || (g * 10))",
             "phone_hash": "md5('ph' || (g * 10))", "created_at": f"timestamptz '{COLLECTED}'"})  # fmt: skip
        for name in ("households", "people", "management_plans", "testing_orders", "tracing_cases",
                     "tracing_exposures", "arrivals"):  # fmt: skip
            conn.execute(text(f'ANALYZE "{name}"'))
    db.dispose()


# ------------------------------------------------------------------------------------------ the runs


def baseline(url: str) -> float:
    """Bare DELETEs of the same people and every row referring to them, rolled back afterwards, with
    the foreign-key triggers off (``session_replication_role = replica``): the plainest fast path, as
    the doses bench drops its constraints for its baseline. With the checks on, every registry row
    deleted probes each of the ~20 referring tables, and one of them (``tracing_exposures.person_id``)
    has no index of its own, so the bare DELETE turns quadratic and never ends at this size."""
    from fangkong.privacy.service import linkage

    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    refs = list(linkage.person_refs())
    with engine.connect() as conn:
        transaction = conn.begin()
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        started = time.perf_counter()
        # Children of the person-linked tables first (the exposures of the cases), then the tables, then
        # the people themselves: the order the foreign keys require.
        conn.execute(text("DELETE FROM tracing_exposures"))
        for ref in refs:
            conn.execute(text(f'DELETE FROM "{ref.table.name}" WHERE "{ref.column.name}" IS NOT NULL'))
        conn.execute(text("DELETE FROM people"))
        seconds = time.perf_counter() - started
        transaction.rollback()
    engine.dispose()
    return seconds


def purge(url: str) -> tuple[float, dict[str, Any]]:
    from fangkong.core import audit, clock
    from fangkong.core.auth import principal_for
    from fangkong.core.db import Database
    from fangkong.core.models import User
    from fangkong.privacy.service import emergency

    db = Database(url)
    with clock.freeze(CLOSED - dt.timedelta(days=1)), db.unit_of_work() as session:
        admin = principal_for(session, session.query(User).filter_by(username="bench_admin").one(), "token")
        row = emergency.open_emergency(session, admin, audit.SYSTEM, "基准疫情", dt.date(2022, 11, 1))
        emergency_id = row.id
    with clock.freeze(CLOSED), db.unit_of_work() as session:
        admin = principal_for(session, session.query(User).filter_by(username="bench_admin").one(), "token")
        emergency.close(session, admin, audit.Actor(admin.user_id, admin.username), emergency_id)
    with clock.freeze(CLOSED + dt.timedelta(days=30)):
        started = time.perf_counter()
        with db.unit_of_work() as session:
            admin = principal_for(
                session, session.query(User).filter_by(username="bench_admin").one(), "token"
            )
            report = emergency.purge(session, admin, audit.Actor(admin.user_id, admin.username), emergency_id)
        seconds = time.perf_counter() - started
    db.dispose()
    return seconds, report.as_dict()


def _trace_statements(threshold: float) -> None:
    """Print every statement slower than ``threshold`` seconds (where the purge spends its time)."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    @event.listens_for(Engine, "before_cursor_execute")
    def _start(conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool) -> None:
        conn.info.setdefault("started", []).append(time.perf_counter())

    @event.listens_for(Engine, "after_cursor_execute")
    def _end(conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool) -> None:
        seconds = time.perf_counter() - conn.info["started"].pop()
        if seconds >= threshold:
            log(f"{seconds:7.2f} s  {' '.join(statement.split())[:300]}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--counties", type=int, default=10)
    parser.add_argument(
        "--slow", type=float, default=0.0, help="print the purge's statements slower than this (s)"
    )
    args = parser.parse_args()
    if args.slow:
        _trace_statements(args.slow)

    from fangkong.core.migrate import upgrade

    url, name = fresh_database()
    try:
        upgrade(url)
        log(f"building {args.people:,} people with their records")
        started = time.perf_counter()
        build(url, args.people, args.counties)
        log(f"built in {time.perf_counter() - started:.1f} s; baseline (bare DELETE, rolled back)")
        base = baseline(url)
        log(f"baseline {base:.1f} s; the purge")
        seconds, report = purge(url)
        log(f"purge {seconds:.1f} s")
        print()
        print(f"{'':<28}{'seconds':>10}")
        print(f"{'fangkong purge':<28}{seconds:>10.1f}")
        print(f"{'bare DELETE (baseline)':<28}{base:>10.1f}")
        verdict = "met" if seconds < TARGET_SECONDS else "MISSED"
        print(f"people {report['people']:,}; target under {TARGET_SECONDS:.0f} s: {verdict}")
        for code, figures in sorted(report["classes"].items()):
            print(f"  {code:<20} {figures['action']:<10} {figures['records']:>12,}")
        print(json.dumps({
            "bench": "purge", "metric": "purge_seconds", "value": round(seconds, 2), "unit": "s",
            "baseline": "bare DELETE", "baseline_value": round(base, 2), "ratio": round(seconds / base, 2),
            "people": report["people"],
        }))  # fmt: skip
    finally:
        drop_database(name)


if __name__ == "__main__":
    main()
