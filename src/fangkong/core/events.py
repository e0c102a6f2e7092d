"""The in-process domain event bus.

A capability that must make something happen in another one publishes an event instead of importing
it. Handlers are registered in one place, ``fangkong.wiring``, and run synchronously inside the
publisher's unit of work, so the fan-out commits or rolls back with the change that caused it.
"""

from __future__ import annotations

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
        for handler in self._handlers.get(type(event), ()):
            handler(session, event)


@dataclass(frozen=True)
class PersonRegistered(DomainEvent):
    person_id: int
    jurisdiction_id: int


@dataclass(frozen=True)
class PeopleImported(DomainEvent):
    count: int
    jurisdiction_path: str
