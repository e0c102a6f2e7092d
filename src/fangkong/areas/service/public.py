"""The public page's data and feed (no login, no personal data), its cache, and public subscriptions.

What the public sees: the high and medium areas in force by city and county with their dates and the
measures of the protocol in force there, the note that everything unlisted is low, and the changes of
the last days in public wording (a change's reason may name cases, so it is never shown).

The page is read far more than it changes (Hengyang listed 2,472 areas on one day, and everyone in the
city reloads the page), so it is served from a process-local snapshot: the page's data, and the JSON
feed as ready bytes with an ETag, for the whole region and per county. The snapshot is rebuilt when a
change is recorded (``invalidate``, wired to the designation events, runs again after the commit) and,
so that several app processes stay correct, when ``max(risk_area_changes.id)`` moves: a check made at
most once per ``VERSION_CHECK_SECONDS`` per process, never on every request. A request for the page
therefore never waits for the database once the first snapshot exists (``snapshot_for_request``).

Subscriptions follow one county's changes by e-mail: the address is kept encrypted with a keyed hash
beside it (a duplicate subscription merges), a token (sent with every notice) unsubscribes, and each
client address has an allowance of attempts. Notices go to an outbox table
(``public_subscription_notices``) that the operator's notifier delivers.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy import exists, func, insert, literal, select, update
from sqlalchemy.orm import Session, aliased

from fangkong.areas.models import (
    AreaState,
    PublicSubscription,
    RiskArea,
    RiskAreaChange,
    RiskLevel,
    SubscriptionNotice,
)
from fangkong.core import audit, clock
from fangkong.core.crypto import Vault
from fangkong.core.db import Database
from fangkong.core.errors import InvalidInput, NotFound, RowError, TooManyRequests
from fangkong.core.events import DomainEvent
from fangkong.core.i18n import Message
from fangkong.core.models import Jurisdiction, Level
from fangkong.core.scope import under
from fangkong.protocol.service import get_protocol, protocol_ids_in_force

# How far back the page lists changes, days (local practice: the week a traveller looks back over).
RECENT_CHANGE_DAYS = 7
# Seconds between two looks at the change counter per process: other processes' changes show this late.
VERSION_CHECK_SECONDS = 1.0
# Seconds after which a snapshot is rebuilt whatever the counter says (a protocol switch changes the
# measures without a timeline entry).
SNAPSHOT_MAX_AGE_SECONDS = 300.0
# Subscription attempts one client address may make per window (valid or not: floods are refused).
SUBSCRIBE_ATTEMPTS_PER_ADDRESS = 10
SUBSCRIBE_WINDOW = dt.timedelta(hours=1)
# Addresses the allowance remembers at once; past this the oldest are forgotten first.
MAX_TRACKED_ADDRESSES = 100_000
MAX_CONTACT_LENGTH = 254  # RFC 5321's limit on a forward path
# Timeline kinds the public never sees: a proposal not yet approved, or one turned down.
PRIVATE_CHANGE_KINDS = frozenset({"proposed", "rejected"})

LOW_NOTE = Message("Everywhere not listed here is low risk.")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_EMAIL = re.compile(rf"^[A-Za-z0-9.!#$%&'*+/=?^_`{{|}}~-]+@{_LABEL}(?:\.{_LABEL})+$")
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_CHANGE_WORDS = {
    "designated": "Designated a risk area",
    "downgraded": "Downgraded",
    "lifted": "Lifted: back to low risk",
    "reset": "Lifting clock restarted by a new case",
    "extended": "Area extended",
}


# ------------------------------------------------------------------------------------ the page's data


@dataclass(frozen=True)
class PublicArea:
    """An area as the public sees it: a place, its level and its dates."""

    name: str
    level: str
    unit_kind: str
    place: str  # the community or township it lies in
    designated_on: dt.date | None
    level_since: dt.date | None


@dataclass(frozen=True)
class PublicCounty:
    code: str
    name: str
    high: tuple[PublicArea, ...]
    medium: tuple[PublicArea, ...]
    # The measures of the protocol in force in the county, by level (high, medium, low).
    measures: dict[str, str]
    protocol_id: str


@dataclass(frozen=True)
class PublicCity:
    code: str
    name: str
    counties: tuple[PublicCounty, ...]


@dataclass(frozen=True)
class PublicChange:
    at: dt.datetime
    county_code: str
    county_name: str
    area_name: str
    kind: str
    from_level: str | None
    to_level: str | None

    @property
    def wording(self) -> Message:
        return Message(_CHANGE_WORDS.get(self.kind, "Risk area changed"))


@dataclass(frozen=True)
class PublicPage:
    """Everything the public page shows."""

    generated_at: dt.datetime
    version: int
    cities: tuple[PublicCity, ...]
    changes: tuple[PublicChange, ...]
    recent_days: int = RECENT_CHANGE_DAYS
    low_note: Message = LOW_NOTE

    @property
    def high_count(self) -> int:
        return sum(len(c.high) for city in self.cities for c in city.counties)

    @property
    def medium_count(self) -> int:
        return sum(len(c.medium) for city in self.cities for c in city.counties)


def _local_date(instant: dt.datetime | None) -> dt.date | None:
    return None if instant is None else clock.local_day(instant)


def _measures(session: Session, county_paths: dict[int, str]) -> dict[int, tuple[str, dict[str, str]]]:
    """Per county id: the protocol in force and its measures by level (the protocol file's words)."""
    ids = protocol_ids_in_force(session, county_paths.values())
    protocols = {pid: get_protocol(session, pid) for pid in set(ids.values())}
    found: dict[int, tuple[str, dict[str, str]]] = {}
    for county_id, path in county_paths.items():
        pid = ids[path]
        areas = protocols[pid].risk_areas
        tiers = areas.tiers if areas is not None else {}
        found[county_id] = (pid, {str(level): tier.measures for level, tier in tiers.items()})
    return found


def build_page(session: Session) -> PublicPage:
    """The public page's data, read in a few set-based queries (thousands of areas are routine)."""
    version = current_version(session)
    community = aliased(Jurisdiction)
    rows = session.execute(
        select(
            RiskArea.county_id,
            RiskArea.name,
            RiskArea.level,
            RiskArea.unit_kind,
            community.name,
            RiskArea.designated_at,
            RiskArea.level_since,
        )
        .join(community, community.id == RiskArea.jurisdiction_id)
        # A drill's sandbox lies outside the real tree's range (core.scope): drills never reach the public.
        .where(
            RiskArea.state == AreaState.in_force,
            RiskArea.level.in_((RiskLevel.high, RiskLevel.medium)),
            under(RiskArea.jpath, "/"),
        )
        .order_by(RiskArea.county_id, RiskArea.level, RiskArea.name, RiskArea.id)
    ).all()
    by_county: dict[int, dict[str, list[PublicArea]]] = {}
    for county_id, name, level, unit_kind, place, designated_at, level_since in rows:
        area = PublicArea(
            name=name,
            level=str(level),
            unit_kind=str(unit_kind),
            place=place,
            designated_on=_local_date(designated_at),
            level_since=level_since,
        )
        by_county.setdefault(county_id, {"high": [], "medium": []})[area.level].append(area)
    since = clock.utcnow() - dt.timedelta(days=RECENT_CHANGE_DAYS)
    change_rows = session.execute(
        select(
            RiskAreaChange.at,
            RiskAreaChange.county_id,
            RiskArea.name,
            RiskAreaChange.kind,
            RiskAreaChange.from_level,
            RiskAreaChange.to_level,
        )
        .join(RiskArea, RiskArea.id == RiskAreaChange.area_id)
        .where(
            RiskAreaChange.at >= since,
            RiskAreaChange.kind.not_in(PRIVATE_CHANGE_KINDS),
            under(RiskAreaChange.jpath, "/"),
        )
        .order_by(RiskAreaChange.at.desc(), RiskAreaChange.id.desc())
    ).all()
    county_ids = set(by_county) | {r[1] for r in change_rows}
    counties = {j.id: j for j in session.scalars(select(Jurisdiction).where(Jurisdiction.id.in_(county_ids)))}
    parent_ids = {j.parent_id for j in counties.values() if j.parent_id is not None}
    cities = {j.id: j for j in session.scalars(select(Jurisdiction).where(Jurisdiction.id.in_(parent_ids)))}
    measures = _measures(session, {cid: counties[cid].path for cid in by_county if cid in counties})
    city_counties: dict[int, list[PublicCounty]] = {}
    for county_id, levels in by_county.items():
        county = counties.get(county_id)
        if county is None:
            continue
        pid, by_level = measures[county_id]
        city_counties.setdefault(county.parent_id or 0, []).append(
            PublicCounty(
                code=county.code,
                name=county.name,
                high=tuple(levels["high"]),
                medium=tuple(levels["medium"]),
                measures=by_level,
                protocol_id=pid,
            )
        )
    listed: list[PublicCity] = []
    for city_id, members in city_counties.items():
        city = cities.get(city_id)
        code, name = (city.code, city.name) if city is not None and city.level == Level.city else ("", "")
        listed.append(PublicCity(code, name, tuple(sorted(members, key=lambda c: c.code))))
    changes = tuple(
        PublicChange(
            at=clock.as_utc(at),
            county_code=counties[county_id].code if county_id in counties else "",
            county_name=counties[county_id].name if county_id in counties else "",
            area_name=area_name,
            kind=kind,
            from_level=None if from_level is None else str(from_level),
            to_level=None if to_level is None else str(to_level),
        )
        for at, county_id, area_name, kind, from_level, to_level in change_rows
    )
    return PublicPage(
        generated_at=clock.utcnow(),
        version=version,
        cities=tuple(sorted(listed, key=lambda c: c.code)),
        changes=changes,
    )


def current_version(session: Session) -> int:
    """The change counter the cache compares (one index-only read)."""
    return int(session.scalar(select(func.max(RiskAreaChange.id))) or 0)


# ------------------------------------------------------------------------------------ the feed


def _area_json(area: PublicArea) -> dict[str, Any]:
    return {
        "name": area.name,
        "level": area.level,
        "unit": area.unit_kind,
        "place": area.place,
        "designated_on": area.designated_on.isoformat() if area.designated_on else None,
        "level_since": area.level_since.isoformat() if area.level_since else None,
    }


def _county_json(county: PublicCounty, city: PublicCity) -> dict[str, Any]:
    return {
        "code": county.code,
        "name": county.name,
        "city_code": city.code,
        "city_name": city.name,
        "protocol": county.protocol_id,
        "measures": county.measures,
        "high": [_area_json(a) for a in county.high],
        "medium": [_area_json(a) for a in county.medium],
    }


def _change_json(change: PublicChange) -> dict[str, Any]:
    return {
        "at": change.at.isoformat(),
        "county_code": change.county_code,
        "county_name": change.county_name,
        "area": change.area_name,
        "kind": change.kind,
        "from_level": change.from_level,
        "to_level": change.to_level,
        "text": {"zh": change.wording.render("zh"), "en": change.wording.render("en")},
    }


def _feed_body(page: PublicPage, counties: list[tuple[PublicCounty, PublicCity]], code: str | None) -> bytes:
    changes = [c for c in page.changes if code is None or c.county_code == code]
    body = {
        "generated_at": page.generated_at.isoformat(),
        "version": page.version,
        "county": code,
        "low_note": {"zh": page.low_note.render("zh"), "en": page.low_note.render("en")},
        "counties": [_county_json(county, city) for county, city in counties],
        "recent_days": page.recent_days,
        "changes": [_change_json(c) for c in changes],
    }
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


@dataclass(frozen=True)
class Rendered:
    """A ready answer: its bytes, the same gzipped (every browser asks for it; the region's feed of
    3,000 areas is a megabyte plain and a fifteenth of that gzipped), and the ETag of each."""

    body: bytes
    etag: str
    gzipped: bytes
    gzip_etag: str

    @classmethod
    def of(cls, body: bytes) -> Rendered:
        tag = hashlib.blake2b(body, digest_size=12).hexdigest()
        # mtime 0: the same body gzips to the same bytes in every process (one ETag behind a balancer).
        return cls(body, f'"{tag}"', gzip.compress(body, compresslevel=6, mtime=0), f'"{tag}-gz"')


@dataclass
class Snapshot:
    """One build of the page: its data, the feeds as bytes, and the HTML per language once asked for."""

    page: PublicPage
    feed: Rendered
    county_feeds: dict[str, Rendered]
    built_at: float  # time.monotonic()
    html: dict[str, Rendered] = field(default_factory=dict)

    def county_feed(self, code: str) -> Rendered | None:
        return self.county_feeds.get(code)

    def html_for(self, language: str, render: Callable[[PublicPage, str], str]) -> Rendered:
        """The page in ``language``, rendered once per snapshot (a race renders it twice, harmlessly)."""
        found = self.html.get(language)
        if found is None:
            found = Rendered.of(render(self.page, language).encode("utf-8"))
            self.html[language] = found
        return found


def build_snapshot(session: Session) -> Snapshot:
    page = build_page(session)
    pairs = [(county, city) for city in page.cities for county in city.counties]
    county_feeds = {
        county.code: Rendered.of(_feed_body(page, [(county, city)], county.code)) for county, city in pairs
    }
    # A county with only changes (all its areas lifted) still has a feed: its changes, no areas.
    for code in {c.county_code for c in page.changes} - set(county_feeds):
        county_feeds[code] = Rendered.of(_feed_body(page, [], code))
    return Snapshot(page, Rendered.of(_feed_body(page, pairs, None)), county_feeds, time.monotonic())


class PublicCache:
    """The process-local snapshot, rebuilt on change; safe to use from the event loop and from threads."""

    def __init__(
        self, check_every: float = VERSION_CHECK_SECONDS, max_age: float = SNAPSHOT_MAX_AGE_SECONDS
    ) -> None:
        self.check_every = check_every
        self.max_age = max_age
        self._snapshot: Snapshot | None = None
        self._stale = True
        self._checked_at = float("-inf")
        self._built_day: dt.date | None = None
        self._lock = threading.Lock()
        self._refreshing = False
        self.builds = 0  # how many times the snapshot was built (tests and the benchmark read it)
        self.version_checks = 0

    def invalidate(self) -> None:
        self._stale = True

    def peek(self) -> Snapshot | None:
        return self._snapshot

    def _due(self) -> bool:
        return self._stale or time.monotonic() - self._checked_at >= self.check_every

    def refresh(self, db: Database) -> Snapshot:
        """The snapshot, rebuilt if it was invalidated, is too old, or the change counter moved."""
        with self._lock:
            snapshot = self._snapshot
            now = time.monotonic()
            if snapshot is not None and not self._stale and now - self._checked_at < self.check_every:
                return snapshot
            with db.unit_of_work() as session:
                rebuild = (
                    snapshot is None
                    or self._stale
                    or now - snapshot.built_at >= self.max_age
                    or self._built_day != clock.today()
                )
                if not rebuild:
                    assert snapshot is not None
                    self.version_checks += 1
                    rebuild = current_version(session) != snapshot.page.version
                if rebuild:
                    # Cleared before the read: an invalidation during the build is kept for the next.
                    self._stale = False
                    snapshot = build_snapshot(session)
                    self._built_day = clock.today()
                    self.builds += 1
            self._snapshot = snapshot
            self._checked_at = now
            assert snapshot is not None
            return snapshot

    def _refresh_quietly(self, db: Database) -> None:
        try:
            self.refresh(db)
        except Exception:  # the current snapshot keeps being served; the next check tries again
            self._checked_at = time.monotonic()
        finally:
            self._refreshing = False

    async def for_request(self, db: Database) -> Snapshot:
        """The snapshot for an ``async`` route: the current one at once, refreshed behind it when due.

        Only the first request of a process, and the first after a change this process recorded, wait
        for a build (in a worker thread); otherwise a request never waits for the database, and the
        once-a-second look at the change counter runs behind it, one at a time.
        """
        snapshot = self._snapshot
        if snapshot is None or self._stale:
            # No page yet, or this process recorded a change: wait for the rebuild, never show the old.
            import anyio.to_thread

            return await anyio.to_thread.run_sync(self.refresh, db)
        if self._due() and not self._refreshing:
            self._refreshing = True
            threading.Thread(target=self._refresh_quietly, args=(db,), daemon=True).start()
        return snapshot


CACHE = PublicCache()


def snapshot(db: Database) -> Snapshot:
    """The current public snapshot (rebuilt first if due): for the CLI, tests and plain-def routes."""
    return CACHE.refresh(db)


async def snapshot_for_request(db: Database) -> Snapshot:
    return await CACHE.for_request(db)


def invalidate(session: Session | None = None, event: DomainEvent | None = None) -> None:
    """Mark the snapshot stale; as an event handler, once more after the change commits.

    Handlers run inside the publisher's transaction, so a request rebuilding in between would still
    read the old rows: the second invalidation after the commit is the one that counts.
    """
    CACHE.invalidate()
    if session is not None:
        sa_event.listen(session, "after_commit", lambda _session: CACHE.invalidate(), once=True)


# ------------------------------------------------------------------------------------ subscriptions


class AddressAllowance:
    """Attempts per client address in a sliding window (process memory, bounded, on the platform clock)."""

    def __init__(self, attempts: int, window: dt.timedelta, max_tracked: int = MAX_TRACKED_ADDRESSES) -> None:
        self.attempts = attempts
        self.window = window
        self.max_tracked = max_tracked
        self._seen: dict[str, list[dt.datetime]] = {}
        self._lock = threading.Lock()

    def take(self, address: str) -> None:
        """Count one attempt, or raise ``TooManyRequests`` if the address has used its allowance."""
        now = clock.utcnow()
        with self._lock:
            recent = [t for t in self._seen.pop(address, []) if now - t < self.window]
            if len(recent) >= self.attempts:
                self._seen[address] = recent
                wait = recent[0] + self.window - now
                raise TooManyRequests(max(1, int(wait.total_seconds()) + 1))
            recent.append(now)
            self._seen[address] = recent  # re-inserted last: the dict stays ordered by last attempt
            while len(self._seen) > self.max_tracked:
                del self._seen[next(iter(self._seen))]

    def reset(self) -> None:
        with self._lock:
            self._seen.clear()


SUBSCRIBE_ALLOWANCE = AddressAllowance(SUBSCRIBE_ATTEMPTS_PER_ADDRESS, SUBSCRIBE_WINDOW)


@dataclass(frozen=True)
class Subscribed:
    """The result of a subscription. ``token`` only for a new one: a merge must not hand the token of
    someone's existing subscription to whoever typed their address (it goes out with every notice)."""

    subscription_id: int
    county_code: str
    county_name: str
    merged: bool
    token: str | None


def _public_actor(ip: str) -> audit.Actor:
    return audit.Actor(None, "public", ip or "unknown")


def normalise_contact(contact: object) -> str | None:
    """A valid e-mail address in the form it is hashed in (lower case), or None."""
    if not isinstance(contact, str):
        return None
    text = contact.strip()
    if not text or len(text) > MAX_CONTACT_LENGTH or not _EMAIL.fullmatch(text):
        return None
    local, _, domain = text.rpartition("@")
    if len(local) > 64:
        return None
    return f"{local}@{domain}".lower()


def subscribe(session: Session, vault: Vault, county_code: object, contact: object, *, ip: str) -> Subscribed:
    """Follow one county's public changes by e-mail; every attempt counts against the address's allowance."""
    SUBSCRIBE_ALLOWANCE.take(ip or "unknown")
    errors: list[RowError] = []
    county: Jurisdiction | None = None
    if isinstance(county_code, str) and county_code.isdigit() and len(county_code) <= 12:
        county = session.scalar(
            select(Jurisdiction).where(
                Jurisdiction.code == county_code,
                Jurisdiction.level == Level.county,
                Jurisdiction.is_sandbox.is_(False),
            )
        )
    if county is None:
        errors.append(RowError(1, "county_code", Message("no such county or district")))
    address = normalise_contact(contact)
    if address is None:
        errors.append(RowError(1, "contact", Message("not a valid e-mail address")))
    if errors:
        raise InvalidInput(errors)
    assert county is not None
    assert address is not None
    contact_hash = vault.keyed_hash_normalised(address)
    existing = session.scalar(
        select(PublicSubscription).where(
            PublicSubscription.county_code == county.code, PublicSubscription.contact_hash == contact_hash
        )
    )
    if existing is not None:
        # Subscribing again (or again after cancelling) follows the county as before: one row.
        existing.cancelled_at = None
        session.flush()
        audit.record(
            session, _public_actor(ip), "areas.public.subscribe_again", "public_subscription", existing.id
        )
        return Subscribed(existing.id, county.code, county.name, True, None)
    token = secrets.token_urlsafe(32)
    row = PublicSubscription(
        county_code=county.code,
        contact_cipher=vault.encrypt_text(address),
        contact_hash=contact_hash,
        token=token,
        created_at=clock.utcnow(),
    )
    session.add(row)
    session.flush()
    audit.record(session, _public_actor(ip), "areas.public.subscribe", "public_subscription", row.id)
    return Subscribed(row.id, county.code, county.name, False, token)


def unsubscribe(session: Session, token: object, *, ip: str = "") -> str:
    """Stop a subscription by its token; returns the county's code. An unknown token is "not found"."""
    SUBSCRIBE_ALLOWANCE.take(ip or "unknown")
    if not isinstance(token, str) or not _TOKEN.fullmatch(token):
        raise NotFound("no such subscription")
    row = session.scalar(select(PublicSubscription).where(PublicSubscription.token == token))
    if row is None:
        raise NotFound("no such subscription")
    if row.cancelled_at is None:
        row.cancelled_at = clock.utcnow()
        session.flush()
        audit.record(session, _public_actor(ip), "areas.public.unsubscribe", "public_subscription", row.id)
    return row.county_code


def record_notices(session: Session, event: DomainEvent | None = None) -> int:
    """Outbox rows: one per active subscriber of a county for each public change of it not yet noticed.

    A handler for ``RiskAreaDesignated``/``RiskAreaLifted`` (then only that area's changes are looked
    at); without an event every change is. One INSERT ... SELECT, however many subscribers. A change
    reaches only those who subscribed before it happened. Returns how many notices were written.
    """
    area_id = getattr(event, "area_id", None)
    county = aliased(Jurisdiction)
    already = exists().where(
        SubscriptionNotice.change_id == RiskAreaChange.id,
        SubscriptionNotice.subscription_id == PublicSubscription.id,
    )
    conditions = [
        RiskAreaChange.kind.not_in(PRIVATE_CHANGE_KINDS),
        under(RiskAreaChange.jpath, "/"),
        PublicSubscription.cancelled_at.is_(None),
        PublicSubscription.created_at <= RiskAreaChange.at,
        ~already,
    ]
    if area_id is not None:
        conditions.append(RiskAreaChange.area_id == area_id)
    source = (
        select(
            PublicSubscription.id,
            RiskAreaChange.id,
            literal(clock.utcnow(), SubscriptionNotice.created_at.type),
        )
        .select_from(RiskAreaChange)
        .join(county, county.id == RiskAreaChange.county_id)
        .join(PublicSubscription, PublicSubscription.county_code == county.code)
        .where(*conditions)
    )
    written = session.execute(
        insert(SubscriptionNotice)
        .from_select(["subscription_id", "change_id", "created_at"], source)
        .returning(SubscriptionNotice.id)
    ).all()
    return len(written)


@dataclass(frozen=True)
class PendingNotice:
    """A notice for the operator's notifier: where to send it, what it says, and how to unsubscribe."""

    notice_id: int
    contact: str
    county_code: str
    change: PublicChange
    unsubscribe_token: str


def pending_notices(session: Session, vault: Vault, *, limit: int = 500) -> list[PendingNotice]:
    """Notices not yet delivered, oldest first (the contact is decrypted only here, for sending)."""
    county = aliased(Jurisdiction)
    rows = session.execute(
        select(
            SubscriptionNotice.id,
            PublicSubscription.contact_cipher,
            PublicSubscription.county_code,
            PublicSubscription.token,
            RiskAreaChange.at,
            county.name,
            RiskArea.name,
            RiskAreaChange.kind,
            RiskAreaChange.from_level,
            RiskAreaChange.to_level,
        )
        .join(PublicSubscription, PublicSubscription.id == SubscriptionNotice.subscription_id)
        .join(RiskAreaChange, RiskAreaChange.id == SubscriptionNotice.change_id)
        .join(RiskArea, RiskArea.id == RiskAreaChange.area_id)
        .join(county, county.id == RiskAreaChange.county_id)
        .where(SubscriptionNotice.delivered_at.is_(None), PublicSubscription.cancelled_at.is_(None))
        .order_by(SubscriptionNotice.id)
        .limit(max(1, min(limit, 5000)))
    ).all()
    return [
        PendingNotice(
            notice_id=nid,
            contact=vault.decrypt_text(cipher),
            county_code=code,
            change=PublicChange(
                clock.as_utc(at),
                code,
                county_name,
                area,
                kind,
                None if frm is None else str(frm),
                None if to is None else str(to),
            ),
            unsubscribe_token=token,
        )
        for nid, cipher, code, token, at, county_name, area, kind, frm, to in rows
    ]


def mark_delivered(session: Session, notice_ids: list[int]) -> None:
    for start in range(0, len(notice_ids), 1000):
        session.execute(
            update(SubscriptionNotice)
            .where(SubscriptionNotice.id.in_(notice_ids[start : start + 1000]))
            .values(delivered_at=clock.utcnow())
        )


def notices_for_change(session: Session, event: DomainEvent) -> None:
    """Handler of ``RiskAreaDesignated``/``RiskAreaLifted``: the district's subscribers get a notice."""
    record_notices(session, event)
