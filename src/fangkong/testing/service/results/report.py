"""What a results load did, as the upload page, the API and the CLI report it."""

from __future__ import annotations

from dataclasses import dataclass, field

from fangkong.core.errors import RowError


@dataclass
class LoadReport:
    """What a load did. ``unknown`` names each row whose barcode no tube has (reported, not loaded)."""

    origin: str
    rows: int = 0
    loaded: int = 0
    corrections: int = 0
    unchanged: int = 0
    unknown: list[RowError] = field(default_factory=list)
    tubes_resulted: int = 0
    positive_people: int = 0
    positive_pools: int = 0
    recalled: int = 0
    chunks: int = 0
    seconds: float = 0.0
