"""Domain events tracing publishes for other capabilities (response tasks, risk areas, testing).

Management plans use the core events ``PersonPlacedUnderManagement`` / ``PersonReleasedFromManagement``;
these say what happened to cases so that others can open tasks or designate areas.
"""

from __future__ import annotations

import datetime as dt
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


@dataclass(frozen=True)
class CaseInvestigated(DomainEvent):
    """The investigation of a case recorded something: published by ``add_exposures`` and ``add_visits``
    whenever they write at least one line (response closes "core facts" and similar tasks on it).

    ``contacts`` is the number of contacts the case has now (active or converted, not "not a contact").
    """

    case_id: int
    jpath: str
    contacts: int


@dataclass(frozen=True)
class AssistRequested(DomainEvent):
    """An assist request (协查) was sent to another jurisdiction: published by ``tracing.assist.send``.

    ``due_at`` is when the receiver must have applied the plan (the protocol's transfer deadline).
    """

    request_id: int
    receiver_jurisdiction_id: int
    receiver_jpath: str
    sent_at: dt.datetime
    due_at: dt.datetime | None
