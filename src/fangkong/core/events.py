"""The in-process domain event bus.

A capability that must make something happen in another one publishes an event instead of importing
it. Handlers are registered in one place, ``fangkong.wiring``, and run synchronously inside the
publisher's unit of work, so the fan-out commits or rolls back with the change that caused it.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session


@dataclass(frozen=True)
class DomainEvent:
    """Base class of every domain event; subclasses are frozen dataclasses named in the past tense."""


Handler = Callable[[Session, DomainEvent], None]


class EventBus:
    def __init__(self) -> None:
        self._handlers: dict[type[DomainEvent], list[Handler]] = defaultdict(list)

    def subscribe(self, event_type: type[DomainEvent], handler: Handler) -> None:
        self._handlers[event_type].append(handler)

    def handlers_for(self, event_type: type[DomainEvent]) -> list[Handler]:
        return list(self._handlers.get(event_type, ()))

    def publish(self, session: Session, event: DomainEvent) -> None:
        # A handler that must publish in turn (a case found in a shared room exposes the roommates) finds
        # the bus of its unit of work through ``bus_of``: handlers take only (session, event).
        session.info["event_bus"] = self
        for handler in self._handlers.get(type(event), ()):
            handler(session, event)


def bus_of(session: Session) -> EventBus:
    """The bus that delivered the event a handler is running for (a bus with no handlers otherwise)."""
    bus = session.info.get("event_bus")
    return bus if isinstance(bus, EventBus) else EventBus()


@dataclass(frozen=True)
class PersonRegistered(DomainEvent):
    person_id: int
    jurisdiction_id: int


@dataclass(frozen=True)
class PersonPlacedUnderManagement(DomainEvent):
    """A person must be managed under the protocol in force (published by tracing, arrivals, ...).

    ``category`` is a protocol person-category id (e.g. ``close_contact``); ``clock_date`` is the date
    the plan counts from (last exposure, arrival, leaving the area); ``source`` says who asked
    (e.g. ``contact:42``) so that a later event from the same source replaces rather than duplicates.
    """

    person_id: int
    jpath: str
    category: str
    clock_date: dt.date
    source: str
    linked_person_id: int | None = None
    # Which fact ``clock_date`` is: a plan fact name (last_exposure, arrival, area_departure, diagnosis).
    clock_event: str = "last_exposure"


@dataclass(frozen=True)
class PeoplePlacedUnderManagement(DomainEvent):
    """Many placements at once (an import): handled set-based, not one round trip per person."""

    placements: tuple[PersonPlacedUnderManagement, ...]


@dataclass(frozen=True)
class PersonReleasedFromManagement(DomainEvent):
    """The source that placed a person no longer requires it (e.g. a contact reclassified as none)."""

    person_id: int
    source: str
