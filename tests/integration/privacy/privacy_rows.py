"""Rows for the privacy tests, made from the metadata: any table, its required columns filled with
plausible values, its required parents made first.

The privacy module acts on every person-linked table it finds in the metadata, so its tests must reach
every such table too, including ones added after they were written; filling columns by type keeps
them from rotting with each new column.
"""

from __future__ import annotations

import datetime as dt
import itertools
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
    UniqueConstraint,
    insert,
    select,
)
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeDecorator

from fangkong.core.db import Base
from fangkong.models_registry import import_all_models

_counter = itertools.count(1)
WHEN = dt.datetime(2026, 1, 5, 8, 0, tzinfo=dt.UTC)
DAY = dt.date(2026, 1, 5)


def tables() -> dict[str, Table]:
    import_all_models()
    return dict(Base.metadata.tables)


def _in_unique(column: Any) -> bool:
    if column.unique:
        return True
    return any(
        isinstance(k, UniqueConstraint) and column.name in k.columns for k in column.table.constraints
    ) or any(i.unique and column.name in i.columns for i in column.table.indexes)


def _value(column: Any, n: int) -> object:
    kind = column.type
    if isinstance(kind, TypeDecorator):
        kind = kind.impl if not isinstance(kind.impl, type) else kind.impl()
    if isinstance(kind, Enum):
        return kind.enums[0]
    if isinstance(kind, Boolean):
        return False
    if isinstance(kind, DateTime):
        return WHEN
    if isinstance(kind, Date):
        return DAY
    if isinstance(kind, Integer):
        return n if _in_unique(column) else 1
    if isinstance(kind, Float | Numeric):
        return 1.0
    if isinstance(kind, LargeBinary):
        return b"ciphertext"
    if column.name == "jpath" or column.name.endswith("_jpath") or column.name.endswith("_path"):
        return "/330000/"
    if isinstance(kind, Text):
        return f"t{n}"
    if isinstance(kind, String):
        text = f"v{n}"
        return text[: kind.length] if kind.length else text
    raise TypeError(f"no value for {column}")


def make(session: Session, table_name: str, **values: object) -> int:
    """Insert one row into ``table_name``; returns its primary key."""
    t = tables()[table_name]
    n = next(_counter)
    row: dict[str, object] = {}
    for c in t.columns:
        if c.name in values:
            row[c.name] = values[c.name]
            continue
        if c.primary_key and isinstance(c.type, Integer) and not c.foreign_keys:
            continue
        if c.nullable or c.server_default is not None or c.default is not None:
            continue
        fks = list(c.foreign_keys)
        if fks:
            parent = fks[0].column.table
            if parent.name == "jurisdictions":
                row[c.name] = session.scalar(select(parent.c.id).order_by(parent.c.id).limit(1))
            else:
                # A parent of the same person (a contact's case may be anyone's, but must be someone's).
                inherited = (
                    {"person_id": values["person_id"]}
                    if "person_id" in values and "person_id" in parent.c
                    else {}
                )
                row[c.name] = make(session, parent.name, **inherited)
            continue
        row[c.name] = _value(c, n)
    result = session.execute(insert(t).values(row).returning(*t.primary_key.columns))
    return int(result.scalar_one())
