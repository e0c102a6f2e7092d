"""The one table of which handlers react to which domain event (the whole "并联推进" fan-out).

Read top to bottom, this file says what happens across capabilities when something happens in one.
"""

from __future__ import annotations

from fangkong.core.events import EventBus

# (event type, handler) pairs; capabilities add their rows here as they land.
SUBSCRIPTIONS: list[tuple[type, object]] = []


def build_bus() -> EventBus:
    bus = EventBus()
    for event_type, handler in SUBSCRIPTIONS:
        bus.subscribe(event_type, handler)  # type: ignore[arg-type]
    return bus
