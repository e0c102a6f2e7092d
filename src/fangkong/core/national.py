"""The national province/city/county tree as jurisdiction rows (see ``core.divisions`` for its source)."""

from __future__ import annotations

from collections.abc import Iterable

from fangkong.core.divisions import Division, national_tree
from fangkong.core.jurisdictions import JurisdictionRow


def rows_of(divisions: Iterable[Division]) -> list[JurisdictionRow]:
    return [JurisdictionRow(d.code, d.name, str(d.level), d.parent_code or "") for d in divisions]


def national_rows() -> list[JurisdictionRow]:
    return rows_of(national_tree())
