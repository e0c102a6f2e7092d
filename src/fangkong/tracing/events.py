"""Domain events tracing publishes for other capabilities (response tasks, risk areas, testing).

Management plans use the core events ``PersonPlacedUnderManagement`` / ``PersonReleasedFromManagement``;
these say what happened to cases so that others can open tasks or designate areas.
"""

from __future__ import annotations

from dataclasses import dataclass

from fangkong.core.events import DomainEvent


@dataclass(frozen=True)
class CaseReported(DomainEvent):
    """A case was registered (by hand, by import, or by converting a contact)."""

    case_id: int
    jpath: str
    classification: str
    person_id: int | None
    imported: bool
    found_under_management: bool


@dataclass(frozen=True)
class CaseReclassified(DomainEvent):
    case_id: int
    jpath: str
    previous: str
    classification: str
