"""The one table of which handlers react to which domain event (the whole "并联推进" fan-out).

Read top to bottom, this file says what happens across capabilities when something happens in one.
Each capability keeps its rows in its own section below.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from fangkong.core.events import (
    DomainEvent,
    EventBus,
    PeoplePlacedUnderManagement,
    PersonPlacedUnderManagement,
    PersonReleasedFromManagement,
)

Subscription = tuple[type[DomainEvent], Callable[[Session, DomainEvent], None]]


def _protocol() -> list[Subscription]:
    from fangkong.protocol import service

    return [
        # Whoever asks for a person to be managed gets the plan of the protocol in force there.
        (PersonPlacedUnderManagement, service.place_under_management),
        (PeoplePlacedUnderManagement, service.place_many_under_management),
        (PersonReleasedFromManagement, service.release_from_management),
    ]


def _tracing() -> list[Subscription]:
    return []


def _surveillance() -> list[Subscription]:
    return []


def _modeling() -> list[Subscription]:
    return []


def subscriptions() -> list[Subscription]:
    return [*_protocol(), *_tracing(), *_surveillance(), *_modeling()]


def build_bus() -> EventBus:
    bus = EventBus()
    for event_type, handler in subscriptions():
        bus.subscribe(event_type, handler)
    return bus
