"""Pull sources: feeds the scheduled pull (``fangkong surveillance pull``) reads observations from.

A source returns records ``{"channel", "jurisdiction", "date", "value"}`` (the channel may be left out
when the source is configured with one). The HTTP-JSON source GETs its URL with ``since=YYYY-MM-DD``
(the last day already pulled, so late and corrected values of recent days come again) and accepts a
JSON list of records or an object with the list under ``observations``.
"""

from __future__ import annotations

import datetime as dt
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from typing import Protocol

PULL_TIMEOUT_SECONDS = 30.0
"""seconds a source may take to answer."""

PULL_OVERLAP_DAYS = 14
"""days before the last pull asked for again, so that late reports and corrections are picked up."""

MAX_RECORDS = 500_000
"""records one pull may return; a larger answer is refused rather than loaded into memory."""


class PullError(Exception):
    """The source could not be read; the message says why (kept as the source's last status)."""


class Source(Protocol):
    def fetch(self, since: dt.date | None) -> list[Mapping[str, object]]: ...


class HttpJsonSource:
    def __init__(self, url: str, timeout: float = PULL_TIMEOUT_SECONDS) -> None:
        if not url.startswith(("http://", "https://")):
            raise PullError(f"URL must start with http:// or https://, got {url!r}")
        self.url = url
        self.timeout = timeout

    def _url(self, since: dt.date | None) -> str:
        if since is None:
            return self.url
        parts = urllib.parse.urlsplit(self.url)
        query = [*urllib.parse.parse_qsl(parts.query), ("since", since.isoformat())]
        return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))

    def fetch(self, since: dt.date | None) -> list[Mapping[str, object]]:
        request = urllib.request.Request(self._url(since), headers={"Accept": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                body = response.read()
        except urllib.error.HTTPError as exc:
            raise PullError(f"source answered {exc.code}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise PullError(f"source unreachable: {getattr(exc, 'reason', exc)}") from None
        try:
            document = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise PullError(f"source did not answer JSON ({exc})") from None
        records = document.get("observations") if isinstance(document, dict) else document
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            raise PullError("source answered JSON that is not a list of records (or {'observations': [...]})")
        if len(records) > MAX_RECORDS:
            raise PullError(f"source answered {len(records)} records; at most {MAX_RECORDS} are accepted")
        return records


SourceFactory = Callable[[str], Source]

_FACTORIES: dict[str, SourceFactory] = {"http_json": HttpJsonSource}


def register_source(kind: str, factory: SourceFactory) -> None:
    _FACTORIES[kind] = factory


def source_kinds() -> list[str]:
    return sorted(_FACTORIES)


def source_for(kind: str, url: str) -> Source:
    factory = _FACTORIES.get(kind)
    if factory is None:
        raise PullError(f"no pull source of kind {kind!r}; known: {', '.join(source_kinds())}")
    return factory(url)
