"""The AEFI rules, table-tested: the deadline (48 h; 2 h for a death or a cluster), where a card stands
against it, the checks a card makes on itself, rates per 100,000 doses, and the lot signal."""

from __future__ import annotations

import datetime as dt

import pytest
from scipy.stats import poisson

from fangkong.core.i18n import translations
from fangkong.vaccination.models import AefiOutcome, Severity
from fangkong.vaccination.rules import aefi as rules
from fangkong.vaccination.rules.aefi import Deadline, LotCount

FOUND = dt.datetime(2022, 12, 1, 8, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("severity", "outcome", "cluster", "hours"),
    [
        (Severity.mild, AefiOutcome.recovered, False, 48),
        (Severity.severe, AefiOutcome.sequelae, False, 48),
        (Severity.death, AefiOutcome.died, False, 2),
        (Severity.severe, AefiOutcome.died, False, 2),  # a death by its outcome
        (Severity.mild, AefiOutcome.recovering, True, 2),  # a cluster
    ],
)
def test_the_deadline(severity: Severity, outcome: AefiOutcome, cluster: bool, hours: int) -> None:
    assert rules.report_due(FOUND, severity, outcome, cluster) == FOUND + dt.timedelta(hours=hours)


@pytest.mark.parametrize(
    ("window", "elapsed", "sent_after", "state"),
    [
        (48, 0, None, Deadline.open),
        (48, 36, None, Deadline.due_soon),  # the last quarter
        (48, 35.9, None, Deadline.open),
        (48, 48.01, None, Deadline.overdue),
        (2, 1.5, None, Deadline.due_soon),
        (2, 1.4, None, Deadline.open),
        (2, 3, 1.9, Deadline.sent),
        (2, 3, 2.1, Deadline.sent_late),
    ],
)
def test_where_a_card_stands(window: int, elapsed: float, sent_after: float | None, state: Deadline) -> None:
    due = FOUND + dt.timedelta(hours=window)
    now = FOUND + dt.timedelta(hours=elapsed)
    sent = FOUND + dt.timedelta(hours=sent_after) if sent_after is not None else None
    assert rules.deadline_state(FOUND, due, sent, now) is state


def test_a_card_that_contradicts_itself() -> None:
    assert [f for f, _ in rules.consistency_errors(Severity.death, AefiOutcome.recovered)] == ["outcome"]
    assert [f for f, _ in rules.consistency_errors(Severity.mild, AefiOutcome.died)] == ["severity"]
    assert rules.consistency_errors(Severity.death, AefiOutcome.died) == []


def test_rates_per_100000_doses() -> None:
    assert rules.rate(3, 30_000) == pytest.approx(10.0)
    assert rules.rate(0, 0) is None


def test_the_lot_signal() -> None:
    lots = [
        LotCount("P", "A", 10_000, 2),
        LotCount("P", "B", 10_000, 1),
        LotCount("P", "C", 1_000, 3),  # 3 in 1,000 doses against (5 + 1) in 20,100
        LotCount("P", "D", 100, 2),  # improbable, but below the minimum count
        LotCount("Q", "only", 500, 9),  # no other lot to compare with
    ]
    found = {s.lot: s for s in rules.lot_signals(lots)}
    assert set(found) == {"A", "B", "C", "D"}
    c = found["C"]
    assert c.expected == pytest.approx(1_000 * (2 + 1 + 2 + 1) / 20_100)
    assert c.p_value == pytest.approx(poisson.sf(2, c.expected))
    assert c.signal and c.p_value < rules.SIGNAL_P
    assert found["D"].p_value < rules.SIGNAL_P and not found["D"].signal
    assert not found["A"].signal and not found["B"].signal
    assert rules.lot_signals(lots)[0].lot == "C"


def test_every_stored_key_the_aefi_pages_show_has_its_chinese() -> None:
    from fangkong.vaccination.service.aefi import FILTERS

    zh = translations("zh")
    keys = [
        *(s.value for s in Severity),
        *(o.value for o in AefiOutcome),
        *(d.value for d in Deadline),
        *FILTERS,
    ]
    assert [k for k in keys if zh.pgettext("aefi", k) == k] == []
