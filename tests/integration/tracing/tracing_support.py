"""Helpers of the tracing integration tests: acting as a user of the seeded world, a recording event bus.

Imported by the test modules (a conftest.py here would shadow the suite's own `conftest` module)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.core.auth import Principal, principal_for
from fangkong.core.crypto import Vault
from fangkong.core.events import (
    DomainEvent,
    EventBus,
    PersonPlacedUnderManagement,
    PersonReleasedFromManagement,
)
from fangkong.core.models import User


@dataclass
class Recorder:
    """An event bus that remembers what was published."""

    bus: EventBus = field(default_factory=EventBus)
    events: list[DomainEvent] = field(default_factory=list)

    def __post_init__(self) -> None:
        for kind in (PersonPlacedUnderManagement, PersonReleasedFromManagement):
            self.bus.subscribe(kind, lambda _s, e: self.events.append(e))

    def of(self, kind: type[DomainEvent]) -> list[DomainEvent]:
        return [e for e in self.events if isinstance(e, kind)]


@dataclass
class Tracing:
    """What a test needs to call the tracing services as a user of the seeded world."""

    app: object
    vault: Vault
    recorder: Recorder

    @contextmanager
    def as_user(self, username: str) -> Iterator[tuple[Session, Principal]]:
        with self.app.state.db.unit_of_work() as session:  # type: ignore[attr-defined]
            user = session.scalar(select(User).where(User.username == username))
            assert user is not None
            yield session, principal_for(session, user, "token")

    @property
    def bus(self) -> EventBus:
        return self.recorder.bus


@pytest.fixture
def tracing(app, world, settings) -> Tracing:  # type: ignore[no-untyped-def]
    return Tracing(app, Vault(settings.encryption_key, settings.hash_key), Recorder())


Factory = Callable[..., object]
