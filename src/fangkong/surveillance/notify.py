"""Pluggable notifiers: how an alert leaves the platform besides the in-app inbox.

A notifier takes one :class:`AlertMessage` and delivers it or raises :class:`NotifyError`. The webhook
notifier POSTs the message as JSON. Further kinds (SMS gateway, enterprise messaging) register a factory
with :func:`register_notifier` under the ``kind`` their endpoints name.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Protocol

WEBHOOK_TIMEOUT_SECONDS = 10.0
"""seconds a webhook may take to answer before the delivery counts as failed and is retried later."""

MAX_ATTEMPTS = 5
"""deliveries tried this many times before they stay failed (shown on the alert page)."""


class NotifyError(Exception):
    """The message did not get through; the text says why (stored with the delivery)."""


@dataclass(frozen=True)
class AlertMessage:
    """What a notifier sends about an alert (no personal data: alerts are about areas and counts)."""

    event: str
    alert_id: int
    level: str
    status: str
    title: str
    jurisdiction_code: str
    jurisdiction_name: str
    assigned_code: str
    created_at: str
    response_due_at: str
    channels: list[str]
    link: str

    def as_json(self) -> bytes:
        return json.dumps(asdict(self), ensure_ascii=False).encode("utf-8")


class Notifier(Protocol):
    def send(self, message: AlertMessage) -> None: ...


class WebhookNotifier:
    """POSTs the message as JSON to a URL; any answer other than 2xx is a failure."""

    def __init__(self, url: str, timeout: float = WEBHOOK_TIMEOUT_SECONDS) -> None:
        if not url.startswith(("http://", "https://")):
            raise NotifyError(f"webhook URL must start with http:// or https://, got {url!r}")
        self.url = url
        self.timeout = timeout

    def send(self, message: AlertMessage) -> None:
        request = urllib.request.Request(
            self.url,
            data=message.as_json(),
            headers={"Content-Type": "application/json; charset=utf-8", "User-Agent": "fangkong-alerts"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                status = response.status
        except urllib.error.HTTPError as exc:
            raise NotifyError(f"webhook answered {exc.code}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise NotifyError(f"webhook unreachable: {getattr(exc, 'reason', exc)}") from None
        if not 200 <= status < 300:
            raise NotifyError(f"webhook answered {status}")


NotifierFactory = Callable[[str], Notifier]

_FACTORIES: dict[str, NotifierFactory] = {"webhook": WebhookNotifier}


def register_notifier(kind: str, factory: NotifierFactory) -> None:
    """Make endpoints of ``kind`` deliver through ``factory(url)``."""
    _FACTORIES[kind] = factory


def notifier_kinds() -> list[str]:
    return sorted(_FACTORIES)


def notifier_for(kind: str, url: str) -> Notifier:
    factory = _FACTORIES.get(kind)
    if factory is None:
        raise NotifyError(f"no notifier of kind {kind!r}; known: {', '.join(notifier_kinds())}")
    return factory(url)
