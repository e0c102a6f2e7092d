"""From an index case's exposures to its contacts: the protocol classifier applied per person.

Pure. Each person's exposures to one index case (direct, or through one of its close contacts) are
classified together by ``fangkong.protocol.classifier``; the most serious outcome wins and its reason is
kept in the classifier's own words. A missing isolation time means the index case is not isolated yet,
so the window is still open: exposures up to ``now`` count.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import cast

from fangkong.core.i18n import Message, stored
from fangkong.protocol.classifier import (
    ClassifierError,
    Exposure,
    IndexCase,
    LinkedCloseContact,
    classify,
)
from fangkong.protocol.schema import Protocol, Setting
from fangkong.tracing.models import ContactCategory
from fangkong.tracing.rules import category_of


@dataclass(frozen=True, slots=True)
class Via:
    """The close contact a second-ring exposure was to."""

    contact_id: int
    label: str
    first_exposure: dt.datetime
    isolated_at: dt.datetime | None
    high_risk: bool


@dataclass(frozen=True, slots=True)
class ExposureFact:
    """One exposure as the classifier needs it (local wall-clock times)."""

    subject_key: str
    setting: str
    start: dt.datetime
    end: dt.datetime | None
    protected: bool = False
    distance_m: float | None = None
    duration_minutes: float | None = None
    via: Via | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    subject_key: str
    category: ContactCategory
    reason: str  # a stored message (core.i18n.stored): shown in the reader's language
    setting: str | None
    first_exposure: dt.datetime
    last_exposure: dt.datetime
    via_contact_id: int | None


@dataclass(frozen=True, slots=True)
class IndexTiming:
    case_id: int
    onset: dt.date | None
    sampling: dt.date | None
    isolated_at: dt.datetime | None


def _to_classifier(fact: ExposureFact, now: dt.datetime) -> Exposure:
    via = None
    if fact.via is not None:
        via = LinkedCloseContact(
            person=fact.via.label,
            first_exposure=fact.via.first_exposure,
            isolated_at=fact.via.isolated_at or now,
            high_risk=fact.via.high_risk,
        )
    return Exposure(
        person=fact.subject_key,
        setting=cast(Setting, fact.setting),
        start=fact.start,
        end=fact.end,
        protected=fact.protected,
        distance_m=fact.distance_m,
        duration_minutes=fact.duration_minutes,
        via=via,
    )


def decide(
    protocol: Protocol, index: IndexTiming, facts: Iterable[ExposureFact], now: dt.datetime
) -> list[Decision]:
    """One decision per person, in first-seen order."""
    by_subject: dict[str, list[ExposureFact]] = defaultdict(list)
    for fact in facts:
        by_subject[fact.subject_key].append(fact)
    if not by_subject:
        return []
    classifier_index = IndexCase(
        case_id=str(index.case_id),
        isolated_at=index.isolated_at or now,
        onset=index.onset,
        sampling=index.sampling,
    )
    decisions: list[Decision] = []
    for key, own in by_subject.items():
        first = min(f.start for f in own)
        last = max(f.end or f.start for f in own)
        try:
            (result,) = classify(protocol, classifier_index, [_to_classifier(f, now) for f in own])
        except ClassifierError as exc:
            decisions.append(
                Decision(
                    key, ContactCategory.not_classified, stored(exc.text), own[0].setting, first, last, None
                )
            )
            continue
        chosen = next(
            (
                f
                for f in own
                if result.exposure is not None
                and f.start == result.exposure.start
                and f.setting == result.exposure.setting
            ),
            own[0],
        )
        category = category_of(result.outcome)
        reason = result.message
        if index.isolated_at is None and category is not ContactCategory.not_a_contact:
            reason = Message(
                "{reason} (the index case is not isolated yet: the window is open)", reason=reason
            )
        via_id = chosen.via.contact_id if chosen.via is not None else None
        decisions.append(Decision(key, category, stored(reason), chosen.setting, first, last, via_id))
    return decisions
