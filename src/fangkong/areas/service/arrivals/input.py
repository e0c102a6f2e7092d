"""A report of a trip as submitted, checked field by field, and the public channels' limiter.

Public input is hostile: :func:`check_report` checks every field on its own (no database) and names each
problem with its field; :func:`clean_text` strips markup, control characters and runs of space and caps
the length; ``PUBLIC_LIMITER`` gives each client address ``PUBLIC_SUBMISSIONS_PER_MINUTE`` public
submissions a minute (``TooManySubmissions`` past it).
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import unicodedata
from collections import deque
from dataclasses import dataclass, field

from fangkong.core import clock
from fangkong.core.clock import utcnow
from fangkong.core.errors import RowError, TooManyRequests
from fangkong.core.i18n import Message
from fangkong.core.idnumber import InvalidIdNumber, validate_id_number
from fangkong.core.people_rules import NAME_PATTERN
from fangkong.core.phone import InvalidPhone, normalise_mobile_fast

# Channels that take no login: rate-limited by client address, answered with the public receipt only.
PUBLIC_CHANNELS = frozenset({"form", "api"})
# Channels of staff accounts (a community worker's entry, a checkpoint, a hotline, an import).
STAFF_CHANNELS = frozenset({"staff", "checkpoint", "hotline", "import"})

# Submissions a client address may make on the public channels per window (issue 14: floods from one
# address get a clear 429); a parameter of ``SubmissionLimiter``.
PUBLIC_SUBMISSIONS_PER_MINUTE = 10
# Caps on free text, characters (the columns: origin_text 200, the address in the registry 200).
MAX_NAME = 50
MAX_UNIT_NAME = 120
MAX_ORIGIN_TEXT = 200
MAX_ADDRESS = 200
MAX_HOTEL = 100
MAX_PLACES_VISITED = 500
MAX_COMPANIONS = 50
# Longest raw value looked at before it is refused outright (a megabyte of "name" is not cleaned).
_MAX_RAW = 2_000
# A registration may come before the journey ends (报备 on the way), by this many days at most.
MAX_DAYS_AHEAD = 3
# How far back a departure may lie: far past any plan's clock, and far short of typing mistakes (1926).
MAX_DAYS_BACK = 60


_TAG = re.compile(r"<[^<>]*>")
_SPACE = re.compile(r"\s+")


class TooManySubmissions(TooManyRequests):
    """The client address used its allowance of public submissions; ``retry_after`` in seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            retry_after,
            Message(
                "too many submissions from your address; try again in {seconds} seconds", seconds=retry_after
            ),
        )


class SubmissionLimiter:
    """Public submissions per client address in a sliding window, in process memory (thread-safe).

    Like ``core.throttle`` the state is per app process and bounded (the addresses seen least recently
    are forgotten first past ``max_tracked``), and time is the platform clock, so tests move it. Every
    submission counts, malformed ones included: a flood is refused before it is read.
    """

    def __init__(
        self,
        limit: int = PUBLIC_SUBMISSIONS_PER_MINUTE,
        window: dt.timedelta = dt.timedelta(minutes=1),
        max_tracked: int = 100_000,
    ) -> None:
        self.limit = limit
        self.window = window
        self.max_tracked = max_tracked
        self._lock = threading.Lock()
        self._seen: dict[str, deque[dt.datetime]] = {}

    def check(self, address: str) -> None:
        """Count one submission from ``address``; raise ``TooManySubmissions`` past the allowance."""
        now = utcnow()
        with self._lock:
            times = self._seen.pop(address, None) or deque()
            while times and now - times[0] >= self.window:
                times.popleft()
            if len(times) >= self.limit:
                self._seen[address] = times
                wait = (times[0] + self.window - now).total_seconds()
                raise TooManySubmissions(max(1, int(wait + 0.999)))
            times.append(now)
            self._seen[address] = times  # re-inserted: the dict stays ordered by last use
            while len(self._seen) > self.max_tracked:
                del self._seen[next(iter(self._seen))]

    def reset(self) -> None:
        with self._lock:
            self._seen.clear()


# The limiter of this app process's public channels.
PUBLIC_LIMITER = SubmissionLimiter()


@dataclass(frozen=True)
class ArrivalInput:
    """One report of a trip as submitted; values are checked, never trusted (see the module doc).

    ``origin_area_id`` or ``origin_unit`` name the risk-area unit left (by the id the public page
    shows, or by its name within the origin county); ``address`` or ``hotel`` say where they stay in
    the community ``destination_code``. Dates may come as ISO text.
    """

    id_number: object = ""
    name: object = ""
    phone: object = ""
    origin_county_code: object = ""
    departed_on: object = None
    arrived_on: object = None
    destination_code: object = ""
    address: object = ""
    hotel: object = ""
    origin_area_id: object = None
    origin_unit: object = ""
    companions: object = 0
    places_visited: object = ""


@dataclass
class _Clean:
    id_number: str = ""
    name: str = ""
    phone: str = ""
    county_code: str = ""
    departed_on: dt.date | None = None
    arrived_on: dt.date | None = None
    destination_code: str = ""
    address: str = ""
    hotel: str = ""
    area_id: int | None = None
    unit: str = ""
    companions: int = 0
    places: str = ""
    errors: list[RowError] = field(default_factory=list)

    def problem(self, name: str, message: str | Message) -> None:
        self.errors.append(RowError(1, name, message))


# --- checking a report -----------------------------------------------------------------------------------


def clean_text(value: object, limit: int) -> str | Message:
    """Text without markup, control characters or runs of space, or the problem with it (a Message)."""
    if value is None:
        return ""
    if not isinstance(value, str):
        return Message("must be text")
    if len(value) > _MAX_RAW or len(value) > limit * 4:
        return Message("longer than {limit} characters", limit=limit)
    text = unicodedata.normalize("NFKC", value)
    text = "".join(" " if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") else c for c in text)
    text = _TAG.sub(" ", text).replace("<", " ").replace(">", " ")
    text = _SPACE.sub(" ", text).strip()
    if len(text) > limit:
        return Message("longer than {limit} characters", limit=limit)
    return text


def _text(report: _Clean, name: str, value: object, limit: int, *, required: bool = False) -> str:
    cleaned = clean_text(value, limit)
    if isinstance(cleaned, Message):
        report.problem(name, cleaned)
        return ""
    if required and not cleaned:
        report.problem(name, "is required")
    return cleaned


def _day(report: _Clean, name: str, value: object) -> dt.date | None:
    if value is None or value == "":
        report.problem(name, "is required")
        return None
    if isinstance(value, dt.datetime):
        report.problem(name, Message("give a day (YYYY-MM-DD), not a time"))
        return None
    if isinstance(value, dt.date):
        day = value
    elif isinstance(value, str) and len(value) <= 10:
        try:
            day = dt.date.fromisoformat(value.strip().replace("/", "-"))
        except ValueError:
            report.problem(name, Message("“{value}” is not a date (YYYY-MM-DD)", value=value))
            return None
    else:
        report.problem(name, Message("is not a date (YYYY-MM-DD)"))
        return None
    today = clock.today()
    if day > today + dt.timedelta(days=MAX_DAYS_AHEAD):
        report.problem(
            name, Message("{value} is more than {days} days ahead", value=day, days=MAX_DAYS_AHEAD)
        )
        return None
    if day < today - dt.timedelta(days=MAX_DAYS_BACK):
        report.problem(name, Message("{value} is more than {days} days ago", value=day, days=MAX_DAYS_BACK))
        return None
    return day


def _whole_number(report: _Clean, name: str, value: object, low: int, high: int) -> int | None:
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.strip().isascii() and value.strip().isdigit() and len(value) <= 6:
        number = int(value.strip())
    else:
        number = None
    if number is None or not low <= number <= high:
        report.problem(name, Message("must be a whole number from {low} to {high}", low=low, high=high))
        return None
    return number


def check_report(data: ArrivalInput) -> _Clean:
    """Every field of a report checked on its own (no database); problems named by field."""
    report = _Clean()
    raw_id = _text(report, "id_number", data.id_number, 40, required=True)
    if raw_id:
        try:
            report.id_number = validate_id_number(raw_id).number
        except InvalidIdNumber as exc:
            report.problem("id_number", exc.text)
    name = _text(report, "name", data.name, MAX_NAME, required=True)
    if name and not NAME_PATTERN.match(name):
        report.problem("name", Message("“{value}” is not a plausible name", value=name[:20]))
    report.name = name
    phone = _text(report, "phone", data.phone, 20, required=True)
    if phone:
        try:
            report.phone = normalise_mobile_fast(phone)
        except InvalidPhone as exc:
            report.problem("phone", exc.text)
    report.county_code = _text(report, "origin_county_code", data.origin_county_code, 12, required=True)
    if report.county_code and not (report.county_code.isascii() and report.county_code.isdigit()):
        report.problem("origin_county_code", Message("{code} is not a county code", code=report.county_code))
    report.departed_on = _day(report, "departed_on", data.departed_on)
    report.arrived_on = _day(report, "arrived_on", data.arrived_on)
    if report.departed_on and report.arrived_on and report.arrived_on < report.departed_on:
        report.problem(
            "arrived_on", Message("is before the day of departure ({day})", day=report.departed_on)
        )
    report.destination_code = _text(report, "destination_code", data.destination_code, 12, required=True)
    report.address = _text(report, "address", data.address, MAX_ADDRESS)
    report.hotel = _text(report, "hotel", data.hotel, MAX_HOTEL)
    if (
        not report.address
        and not report.hotel
        and not any(e.field in ("address", "hotel") for e in report.errors)
    ):
        report.problem("address", "give the address or the hotel where you stay")
    if data.origin_area_id not in (None, ""):
        report.area_id = _whole_number(report, "origin_area_id", data.origin_area_id, 1, 2**31 - 1)
    report.unit = _text(report, "origin_unit", data.origin_unit, MAX_ORIGIN_TEXT)
    if data.companions not in (None, ""):
        report.companions = _whole_number(report, "companions", data.companions, 0, MAX_COMPANIONS) or 0
    report.places = _text(report, "places_visited", data.places_visited, MAX_PLACES_VISITED)
    return report
