"""AEFI rules: the reporting deadline of a card, where a card stands against it, the WHO causality
categories, rates per 100,000 doses and the lot signal. Pure: no database, no clock.

Deadlines: 全国疑似预防接种异常反应监测方案 (China's national AEFI surveillance plan, Ministry of Health
and SFDA, 2010, §3): the responsible reporter fills in the AEFI card and sends it to the county CDC
within 48 hours of finding the event; a death or a cluster (群体性疑似预防接种异常反应) suspected to be
linked to vaccination is reported within 2 hours. Issue 16 item 5 takes these two clocks.

Causality: WHO, *Causality assessment of an adverse event following immunization (AEFI): user manual
for the revised WHO classification*, 2nd edition, 2018 (A1–A4 consistent, B1–B2 indeterminate, C
inconsistent/coincidental, unclassifiable).
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

from scipy.stats import poisson

from fangkong.core.i18n import Message
from fangkong.vaccination.models import AefiOutcome, Causality, Severity

# AEFI plan 2010 §3 (above): the card reaches the county CDC within 48 h of discovery.
REPORT_WITHIN = dt.timedelta(hours=48)
# ... and within 2 h for a death or a cluster.
URGENT_REPORT_WITHIN = dt.timedelta(hours=2)
# A card is "due soon" in the last quarter of its window (C: 12 h of 48, 30 min of 2), so the
# response task's warning and the AEFI list agree on when to hurry.
DUE_SOON_SHARE = 0.25

# Rates are counted per this many doses (WHO and China CDC publish AEFI rates per 100,000 doses).
RATE_BASE = 100_000  # doses
SERIOUS = frozenset({Severity.severe, Severity.death})

# Lot signal (C; a screening rule, not a verdict: a signal asks for the lot's investigation). A lot
# stands out when its events are improbably many under the rate of the same product's other lots:
# one-sided Poisson test P(X >= k | mu) < SIGNAL_P, with mu = lot doses x baseline rate.
SIGNAL_P = 0.01  # one-sided p-value
# ... and only from this many events on, so that one or two reports never raise a signal.
SIGNAL_MIN_EVENTS = 3  # events
# The baseline counts one event more than the other lots reported (a continuity correction), so a
# product whose other lots reported nothing does not turn a lot's first events into certainty.
BASELINE_EXTRA_EVENTS = 1  # events


class Deadline(enum.StrEnum):
    open = "open"  # not sent, time left
    due_soon = "due_soon"  # not sent, in the last quarter of the window
    overdue = "overdue"  # not sent, past due
    sent = "sent"  # sent on time
    sent_late = "sent_late"


CAUSALITY_GROUPS: dict[Causality, str] = {
    Causality.a1: "A",
    Causality.a2: "A",
    Causality.a3: "A",
    Causality.a4: "A",
    Causality.b1: "B",
    Causality.b2: "B",
    Causality.c: "C",
    Causality.unclassifiable: "unclassifiable",
}


def is_urgent(severity: Severity, outcome: AefiOutcome, cluster: bool) -> bool:
    """A death (by severity or by outcome) or a cluster: the 2-hour clock."""
    return cluster or severity is Severity.death or outcome is AefiOutcome.died


def report_due(found_at: dt.datetime, severity: Severity, outcome: AefiOutcome, cluster: bool) -> dt.datetime:
    """When the county CDC must have the card."""
    return found_at + (URGENT_REPORT_WITHIN if is_urgent(severity, outcome, cluster) else REPORT_WITHIN)


def deadline_state(
    found_at: dt.datetime, due_at: dt.datetime, sent_at: dt.datetime | None, now: dt.datetime
) -> Deadline:
    """Where a card stands against its deadline at ``now``."""
    if sent_at is not None:
        return Deadline.sent if sent_at <= due_at else Deadline.sent_late
    if now > due_at:
        return Deadline.overdue
    if due_at - now <= (due_at - found_at) * DUE_SOON_SHARE:
        return Deadline.due_soon
    return Deadline.open


def consistency_errors(severity: Severity, outcome: AefiOutcome) -> list[tuple[str, Message]]:
    """(field, message) pairs for a card that contradicts itself."""
    if severity is Severity.death and outcome is not AefiOutcome.died:
        return [("outcome", Message("a death must have the outcome “died”"))]
    if outcome is AefiOutcome.died and severity is not Severity.death:
        return [("severity", Message("the outcome “died” needs the severity “death”"))]
    return []


def rate(events: int, doses: int) -> float | None:
    """Events per 100,000 doses; None without doses."""
    return events * RATE_BASE / doses if doses > 0 else None


@dataclass(frozen=True)
class LotCount:
    product: str
    lot: str
    doses: int
    events: int


@dataclass(frozen=True)
class LotSignal:
    product: str
    lot: str
    doses: int
    events: int
    expected: float  # events the baseline rate predicts for the lot's doses
    baseline_rate: float  # per 100,000 doses, the product's other lots
    p_value: float
    signal: bool


def lot_signals(lots: list[LotCount]) -> list[LotSignal]:
    """Each lot with events tested against its product's other lots (see the constants above); lots
    of a product with no other lot carrying doses cannot be compared and are left out."""
    by_product: dict[str, tuple[int, int]] = {}
    for lot in lots:
        doses, events = by_product.get(lot.product, (0, 0))
        by_product[lot.product] = (doses + lot.doses, events + lot.events)
    found: list[LotSignal] = []
    for lot in lots:
        if lot.events == 0 or lot.doses <= 0:
            continue
        total_doses, total_events = by_product[lot.product]
        other_doses = total_doses - lot.doses
        if other_doses <= 0:
            continue
        baseline = (total_events - lot.events + BASELINE_EXTRA_EVENTS) / other_doses
        expected = lot.doses * baseline
        p_value = float(poisson.sf(lot.events - 1, expected))
        found.append(
            LotSignal(
                product=lot.product,
                lot=lot.lot,
                doses=lot.doses,
                events=lot.events,
                expected=expected,
                baseline_rate=baseline * RATE_BASE,
                p_value=p_value,
                signal=lot.events >= SIGNAL_MIN_EVENTS and p_value < SIGNAL_P,
            )
        )
    found.sort(key=lambda s: (not s.signal, s.p_value, s.product, s.lot))
    return found
