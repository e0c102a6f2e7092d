"""The close-contact classifier: who is a close contact, a contact of one, or a general contact.

Given an index case (onset date, or sampling date when asymptomatic, and the time it was isolated) and
the exposures found by the investigation, each person is classified under the protocol in force, with
the reason in words an investigator can check. A person with several exposures gets the most serious
outcome. Second-ring exposures (to a close contact rather than to the index) carry the linked contact.

Reasons are ``Message`` objects (``core.i18n``): the investigator reads them in their own language, and
``Classification.reason`` is the English.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from fangkong.core.i18n import Message, as_message, joined
from fangkong.protocol.schema import ContactCriterion, ContactWindow, Protocol, Setting

Outcome = Literal["close_contact", "contact_of_contact", "general_contact", "not_identified", "not_a_contact"]

SEVERITY: dict[Outcome, int] = {
    "close_contact": 4,
    "contact_of_contact": 3,
    "general_contact": 2,
    "not_identified": 1,
    "not_a_contact": 0,
}


class ClassifierError(ValueError):
    """The index case or the protocol does not allow a classification; ``text`` says why."""

    def __init__(self, message: str | Message) -> None:
        self.text = as_message(message)
        super().__init__(str(self.text))


def _as_start(value: dt.datetime | dt.date) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    return dt.datetime.combine(value, dt.time.min)


def _as_end(value: dt.datetime | dt.date) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    return dt.datetime.combine(value, dt.time.max)


@dataclass(frozen=True, slots=True)
class IndexCase:
    """The infected person; symptomatic when ``onset`` is given, else counted from ``sampling``."""

    case_id: str
    isolated_at: dt.datetime | None = None
    onset: dt.date | None = None
    sampling: dt.date | None = None
    symptoms_resolved: dt.date | None = None

    @property
    def symptomatic(self) -> bool:
        return self.onset is not None


@dataclass(frozen=True, slots=True)
class LinkedCloseContact:
    """The close contact a second-ring exposure was to."""

    person: str
    first_exposure: dt.datetime
    isolated_at: dt.datetime
    high_risk: bool = True


@dataclass(frozen=True, slots=True)
class Exposure:
    """One exposure found by the investigation; a date means the whole day."""

    person: str
    setting: Setting
    start: dt.datetime | dt.date
    end: dt.datetime | dt.date | None = None
    protected: bool = False
    distance_m: float | None = None
    duration_minutes: float | None = None
    via: LinkedCloseContact | None = None

    @property
    def interval(self) -> tuple[dt.datetime, dt.datetime]:
        start = _as_start(self.start)
        end = _as_end(self.end) if self.end is not None else _as_end(self.start)
        return start, max(start, end)

    @property
    def minutes(self) -> float | None:
        if self.duration_minutes is not None:
            return self.duration_minutes
        if self.end is None or not isinstance(self.start, dt.datetime):
            return None
        return (_as_end(self.end) - self.start).total_seconds() / 60


@dataclass(frozen=True, slots=True)
class Window:
    start: dt.datetime
    end: dt.datetime
    description: Message

    def text(self) -> Message:
        return Message(
            "{start}..{end} ({description})",
            start=self.start.date(),
            end=self.end.date(),
            description=self.description,
        )


@dataclass(frozen=True, slots=True)
class Classification:
    person: str
    outcome: Outcome
    message: Message
    exposure: Exposure | None = None

    @property
    def reason(self) -> str:
        """The reason in English (``message`` words it in any language)."""
        return str(self.message)


def exposure_window(protocol: Protocol, index: IndexCase) -> Window:
    """When exposures to ``index`` count under ``protocol``."""
    window = protocol.contact_tracing.window
    if window is None:
        raise ClassifierError(
            Message("{protocol} defines no exposure window for close contacts", protocol=protocol.id)
        )
    if index.onset is not None:
        anchor, before = index.onset, window.days_before_onset
        since = Message("{days} day before onset" if before == 1 else "{days} days before onset", days=before)
    elif index.sampling is not None:
        anchor, before = index.sampling, window.days_before_sampling
        since = Message(
            "{days} day before sampling" if before == 1 else "{days} days before sampling", days=before
        )
    else:
        raise ClassifierError(
            Message("index case {case} has neither an onset nor a sampling date", case=index.case_id)
        )
    start = _as_start(anchor - dt.timedelta(days=before))
    if window.end == "index_isolated":
        if index.isolated_at is None:
            raise ClassifierError(
                Message(
                    "index case {case}: the window ends at isolation, which is not given", case=index.case_id
                )
            )
        return Window(start, index.isolated_at, Message("{since} until isolation", since=since))
    last = _infectious_last_day(window, index)
    return Window(
        start, _as_end(last), Message("{since} until {last} (infectious period)", since=since, last=last)
    )


def _infectious_last_day(window: ContactWindow, index: IndexCase) -> dt.date:
    if index.onset is not None:
        days = window.days_after_onset or 0
        last = index.onset + dt.timedelta(days=days)
        if window.min_days_after_onset is not None:
            last = max(last, index.onset + dt.timedelta(days=window.min_days_after_onset))
        if window.symptom_free_days is not None and index.symptoms_resolved is not None:
            last = max(last, index.symptoms_resolved + dt.timedelta(days=window.symptom_free_days))
        return last
    assert index.sampling is not None
    return index.sampling + dt.timedelta(days=window.days_after_sampling or 0)


def _when(exposure: Exposure) -> Message:
    start, end = exposure.interval
    if start.date() == end.date():
        return Message("on {day}", day=start.date())
    return Message("from {start} to {end}", ctx="period", start=start.date(), end=end.date())


def _setting(setting: str) -> Message:
    """A setting's key, worded by the catalog (``shared_meal``: shared meal, 聚餐)."""
    return Message(setting)


def _overlaps(exposure: Exposure, start: dt.datetime, end: dt.datetime) -> bool:
    first, last = exposure.interval
    return first <= end and last >= start


def _criterion_gaps(criterion: ContactCriterion, exposure: Exposure) -> list[Message] | None:
    """``None`` if the setting does not fit; else what is missing (empty: the criterion is met)."""
    if "any" not in criterion.settings and exposure.setting not in criterion.settings:
        return None
    gaps: list[Message] = []
    if criterion.max_distance_m is not None:
        limit = float(criterion.max_distance_m)
        if exposure.distance_m is None:
            gaps.append(Message("distance not recorded (close contact needs ≤ {limit} m)", limit=limit))
        elif exposure.distance_m > criterion.max_distance_m:
            gaps.append(
                Message(
                    "{distance} m apart (close contact needs ≤ {limit} m)",
                    distance=float(exposure.distance_m),
                    limit=limit,
                )
            )
    if criterion.min_minutes is not None:
        minutes = exposure.minutes
        limit = float(criterion.min_minutes)
        if minutes is None:
            gaps.append(Message("duration not recorded (close contact needs ≥ {limit} min)", limit=limit))
        elif minutes < criterion.min_minutes:
            gaps.append(
                Message(
                    "{minutes} min (close contact needs ≥ {limit} min)", minutes=float(minutes), limit=limit
                )
            )
    return gaps


def _met_details(criterion: ContactCriterion, exposure: Exposure) -> list[Message]:
    details = []
    if criterion.max_distance_m is not None and exposure.distance_m is not None:
        details.append(Message("within {distance} m", distance=float(exposure.distance_m)))
    if criterion.min_minutes is not None and exposure.minutes is not None:
        details.append(Message("for {minutes} min", minutes=float(exposure.minutes)))
    if criterion.unprotected_only:
        details.append(Message("no protection"))
    elif exposure.protected:
        details.append(Message("protection does not exempt this kind of contact"))
    return details


def _with_gaps(reason: Message, gaps: list[Message]) -> Message:
    """``reason; gap; gap``: what the exposure lacked, after the reason."""
    return joined([reason, *gaps]) if gaps else reason


def _not_identified(what: str, protocol: Protocol, note: str | None) -> Message:
    # The protocol file's own note (its words, as its authors wrote them) follows the reason.
    if what == "close":
        reason = Message("close contacts are not identified under {protocol}", protocol=protocol.id)
    else:
        reason = Message(
            "contacts of close contacts are not identified under {protocol}", protocol=protocol.id
        )
    return Message("{reason}: {note}", reason=reason, note=note) if note else reason


def classify_exposure(protocol: Protocol, index: IndexCase, exposure: Exposure) -> Classification:
    """The outcome of one exposure, with the reason."""
    tracing = protocol.contact_tracing
    if not tracing.identified:
        reason = _not_identified("close", protocol, tracing.note)
        return Classification(exposure.person, "not_identified", reason, exposure)
    if exposure.via is not None:
        return _classify_second_ring(protocol, index, exposure, exposure.via)
    rules = tracing.close_contact
    window = exposure_window(protocol, index)
    what = Message("{setting} exposure {when}", setting=_setting(exposure.setting), when=_when(exposure))
    if not _overlaps(exposure, window.start, window.end):
        reason = Message("{what}, outside the window {window}", what=what, window=window.text())
        return Classification(exposure.person, "not_a_contact", reason, exposure)
    inside = Message("{what}, inside the window {window}", what=what, window=window.text())
    assert rules is not None  # checks.py: a window comes with close-contact criteria
    protected_only_gap = False
    gaps_seen: list[Message] = []
    for criterion in rules.criteria:
        gaps = _criterion_gaps(criterion, exposure)
        if gaps is None:
            continue
        if not gaps:
            if criterion.unprotected_only and exposure.protected:
                protected_only_gap = True
                continue
            reason = Message("{inside}, {details}", inside=inside, details=_met_details(criterion, exposure))
            return Classification(exposure.person, "close_contact", reason, exposure)
        gaps_seen.extend(gaps)
    general = tracing.general_contact
    if protected_only_gap and (general is None or general.protected_close_exposure_is_general):
        reason = Message("{inside}, with effective protection", inside=inside)
        outcome: Outcome = "general_contact" if general is not None else "not_a_contact"
        return Classification(exposure.person, outcome, reason, exposure)
    if general is not None and ("any" in general.settings or exposure.setting in general.settings):
        reason = _with_gaps(
            Message("{inside}, not meeting the close-contact criteria", inside=inside), gaps_seen
        )
        return Classification(exposure.person, "general_contact", reason, exposure)
    reason = _with_gaps(
        Message("{inside}, but no contact rule of {protocol} covers it", inside=inside, protocol=protocol.id),
        [*gaps_seen, Message("investigators may judge otherwise")],
    )
    return Classification(exposure.person, "not_a_contact", reason, exposure)


def _classify_second_ring(
    protocol: Protocol, index: IndexCase, exposure: Exposure, via: LinkedCloseContact
) -> Classification:
    rule = protocol.contact_tracing.contact_of_contact
    if rule is None or not rule.identified:
        reason = _not_identified("second", protocol, rule.note if rule is not None else None)
        return Classification(exposure.person, "not_identified", reason, exposure)
    index_window = exposure_window(protocol, index)
    start = max(via.first_exposure, index_window.start)
    what = Message(
        "{setting} exposure to close contact {person} {when}",
        setting=_setting(exposure.setting),
        person=via.person,
        when=_when(exposure),
    )
    window = Window(
        start,
        via.isolated_at,
        Message("from {person}'s first exposure to the index until {person}'s isolation", person=via.person),
    )
    if not _overlaps(exposure, window.start, window.end):
        reason = Message("{what}, outside the window {window}", what=what, window=window.text())
        return Classification(exposure.person, "not_a_contact", reason, exposure)
    inside = Message("{what}, inside the window {window}", what=what, window=window.text())
    if rule.high_risk_contacts_only and not via.high_risk:
        reason = Message(
            "{inside}, but {person} is not a higher-risk close contact", inside=inside, person=via.person
        )
        return Classification(exposure.person, "not_a_contact", reason, exposure)
    if exposure.setting not in rule.settings:
        reason = Message(
            "{inside}, but only {allowed} count for contacts of close contacts",
            inside=inside,
            allowed=[_setting(s) for s in rule.settings],
        )
        return Classification(exposure.person, "not_a_contact", reason, exposure)
    if rule.unprotected_only and exposure.protected:
        reason = Message("{inside}, with effective protection", inside=inside)
        return Classification(exposure.person, "not_a_contact", reason, exposure)
    protection = Message("no protection" if rule.unprotected_only else "protection not considered")
    reason = Message("{inside}, {details}", inside=inside, details=protection)
    return Classification(exposure.person, "contact_of_contact", reason, exposure)


def classify(protocol: Protocol, index: IndexCase, exposures: Iterable[Exposure]) -> list[Classification]:
    """One classification per person, the most serious of their exposures, in first-seen order."""
    best: dict[str, Classification] = {}
    for exposure in exposures:
        result = classify_exposure(protocol, index, exposure)
        current = best.get(exposure.person)
        if current is None or SEVERITY[result.outcome] > SEVERITY[current.outcome]:
            best[exposure.person] = result
    return list(best.values())
