"""Rules of regional mass testing (区域核酸检测): sampling sites and staff, deadlines, when to test again,
when to stop. Pure: dates and counts in, decisions out.

Facts from ``reference/protocols.md`` §5 (the rule ids are named beside each parameter):

- ``rt.sites`` (cn-rt-3, S15): one sampling site per 2,000–3,000 people, sampling staff = population ÷ 360;
- ``rt.deadline`` (cn-rt-3, S13, S14): a designated area is finished within 24 h, whatever its size;
  the earlier versions gave 2 days below 5 million people and 3 days above (cn-rt-2, S16);
- ``rt.strategy.big`` (cn-9, S11, S12): the outbreak district tests daily; after three consecutive rounds
  without a community (社会面) infection it waits three days, runs one more round and stops if it is clean;
- ``rt.rounds`` (cn-rt-2, S16): at least three rounds early on when the source is unknown; daily while the
  last three rounds found cases; every other day with cases in the last 14 days but none in the last
  three rounds; every five days with no case in 14 days.
"""

from __future__ import annotations

import datetime as dt
import enum
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

# --- sampling sites (rt.sites, cn-rt-3, S15: secondary press quoting the guide) ---------------------------

# Fewest people a sampling site serves, people (the lower end of "one site per 2,000–3,000 people").
SITE_PEOPLE_MIN: Final[int] = 2_000
# Most people a sampling site serves, people (the upper end; a site above it queues past the deadline).
SITE_PEOPLE_MAX: Final[int] = 3_000
# People one sampler takes in a round, people per sampler ("sampling staff = population ÷ 360").
PEOPLE_PER_SAMPLER: Final[int] = 360

# --- deadlines (rt.deadline) ----------------------------------------------------------------------------

# Hours to finish a designated area in cn-rt-3 (2022-03), any size of city, hours (S13, S14).
ROUND_DEADLINE_HOURS: Final[int] = 24
# cn-rt-2 (2021-09): the population above which a city has 3 days instead of 2, people (S16).
LARGE_CITY_PEOPLE: Final[int] = 5_000_000
# cn-rt-2 completion time below / above that population, hours (2 days / 3 days, S16).
CN_RT_2_SMALL_CITY_HOURS: Final[int] = 48
CN_RT_2_LARGE_CITY_HOURS: Final[int] = 72

# --- the stop rule (rt.strategy.big, cn-9, S11, S12) -----------------------------------------------------

# Consecutive daily rounds without a community infection before the wait, rounds.
CLEAN_ROUNDS_TO_STOP: Final[int] = 3
# Days between the last of those rounds and the one more round that decides the stop, days.
WAIT_DAYS_BEFORE_LAST_ROUND: Final[int] = 3

# --- round frequency (rt.rounds, cn-rt-2, S16) ------------------------------------------------------------

# Rounds run early on, at least, when the source of the infection is unknown, rounds.
EARLY_ROUNDS_SOURCE_UNKNOWN: Final[int] = 3
# "Cases in the last 3 rounds": how many of the latest rounds are looked at, rounds.
RECENT_ROUNDS: Final[int] = 3
# "Cases within 14 days", days.
RECENT_CASE_DAYS: Final[int] = 14
# Interval between rounds, days: daily, every other day, every five days.
DAILY: Final[int] = 1
EVERY_OTHER_DAY: Final[int] = 2
EVERY_FIVE_DAYS: Final[int] = 5

# Pool sizes the platform accepts, people per tube (single, 5-in-1 and 10-in-1 of cn-rt-1/2, rt.pool S16,
# S17; 20-in-1 used locally, no national source: rt.pool.20).
POOL_SIZES: Final[tuple[int, ...]] = (1, 5, 10, 20)


class RuleError(ValueError):
    """Input a rule cannot decide on (a negative population, an unknown protocol version)."""


# ------------------------------------------------------------------------------------------------- sites


@dataclass(frozen=True)
class SiteSizing:
    """Sampling sites and samplers for a population; ``people_per_site`` per site, in site order."""

    population: int
    sites: int
    samplers: int
    people_per_site: tuple[int, ...]
    samplers_per_site: tuple[int, ...]


def _spread(total: int, parts: int) -> tuple[int, ...]:
    """``total`` split into ``parts`` whole shares differing by at most one, larger shares first."""
    if parts == 0:
        return ()
    base, extra = divmod(total, parts)
    return tuple(base + (1 if i < extra else 0) for i in range(parts))


def size_sites(population: int) -> SiteSizing:
    """Sites and samplers for ``population`` people (rt.sites).

    The fewest sites that keep every site at or under 3,000 people: the upper bound is the one that
    matters on the day (a site above it cannot finish in time), so a population that cannot be split
    into shares of 2,000–3,000 (3,001 people, say) gets smaller sites rather than an overfull one. Any
    population above zero gets at least one site and one sampler.
    """
    if population < 0:
        raise RuleError(f"population must not be negative (got {population})")
    if population == 0:
        return SiteSizing(0, 0, 0, (), ())
    sites = math.ceil(population / SITE_PEOPLE_MAX)
    samplers = max(1, math.ceil(population / PEOPLE_PER_SAMPLER))
    # Every site needs someone to take the swabs, even when the staff rule gives fewer than the sites.
    samplers = max(samplers, sites)
    return SiteSizing(population, sites, samplers, _spread(population, sites), _spread(samplers, sites))


# ---------------------------------------------------------------------------------------------- deadline


def round_deadline_hours(population: int, version: str = "cn-rt-3") -> int:
    """Hours a round of ``population`` people has under the protocol ``version`` (rt.deadline)."""
    if population < 0:
        raise RuleError(f"population must not be negative (got {population})")
    if version == "cn-rt-3":
        return ROUND_DEADLINE_HOURS
    if version == "cn-rt-2":
        return CN_RT_2_LARGE_CITY_HOURS if population > LARGE_CITY_PEOPLE else CN_RT_2_SMALL_CITY_HOURS
    raise RuleError(f"unknown regional-testing version {version!r} (cn-rt-2 or cn-rt-3)")


# ------------------------------------------------------------------------------------------ stop rule


@dataclass(frozen=True)
class RoundOutcome:
    """A finished round: its day and the community infections it found."""

    day: dt.date
    community_positives: int


class StopPhase(enum.StrEnum):
    """Where an area stands on the way to stopping (rt.strategy.big)."""

    # No clean streak long enough yet: test again tomorrow.
    daily = "daily"
    # Three clean rounds in a row: wait, then run one more.
    waiting = "waiting"
    # The round after the wait was clean too: stop.
    stop = "stop"


@dataclass(frozen=True)
class StopAdvice:
    phase: StopPhase
    # Clean rounds since the last round that found a community infection (all rounds when none did).
    clean_streak: int
    # The day of the next round; None once the area may stop.
    next_round_on: dt.date | None

    @property
    def stop(self) -> bool:
        return self.phase is StopPhase.stop


def stop_advice(rounds: Sequence[RoundOutcome], today: dt.date) -> StopAdvice:
    """What the stop rule says after ``rounds`` (finished rounds, any order), on ``today``.

    A round that found a community infection resets the count. After the third clean round in a row
    (on day D) the area waits: the first clean round held on D + 3 days or later ends the testing. Rounds
    held during the wait (some areas keep testing daily) keep the streak but do not stop it early.
    Before any round, or while the streak is short, the next round is the day after the last one (or
    today, whichever is later).
    """
    ordered = sorted(rounds, key=lambda r: r.day)
    last_positive = max((i for i, r in enumerate(ordered) if r.community_positives > 0), default=-1)
    clean = ordered[last_positive + 1 :]
    if len(clean) < CLEAN_ROUNDS_TO_STOP:
        after_last = ordered[-1].day + dt.timedelta(days=1) if ordered else today
        return StopAdvice(StopPhase.daily, len(clean), max(after_last, today))
    third = clean[CLEAN_ROUNDS_TO_STOP - 1].day
    last_round_on = third + dt.timedelta(days=WAIT_DAYS_BEFORE_LAST_ROUND)
    if any(r.day >= last_round_on for r in clean[CLEAN_ROUNDS_TO_STOP:]):
        return StopAdvice(StopPhase.stop, len(clean), None)
    return StopAdvice(StopPhase.waiting, len(clean), max(last_round_on, today))


# -------------------------------------------------------------------------------------------- frequency


class FrequencyReason(enum.StrEnum):
    """Which clause of rt.rounds sets the interval (stored keys; pages word them)."""

    source_unknown_early = "source_unknown_early"
    cases_in_recent_rounds = "cases_in_recent_rounds"
    cases_within_14_days = "cases_within_14_days"
    no_cases_in_14_days = "no_cases_in_14_days"


@dataclass(frozen=True)
class FrequencyAdvice:
    interval_days: int
    reason: FrequencyReason
    next_round_on: dt.date


def round_frequency(
    rounds: Sequence[RoundOutcome],
    today: dt.date,
    *,
    source_unknown: bool = False,
    last_case_on: dt.date | None = None,
) -> FrequencyAdvice:
    """How often to test an area (rt.rounds), from its finished rounds and its latest case.

    ``last_case_on`` is the latest case known from elsewhere (tracing); the rounds' own finds count as
    cases on their day. The clauses are tried from the strictest: early unknown-source rounds, then cases
    in the last three rounds, then cases within 14 days of ``today``, else every five days.
    """
    ordered = sorted(rounds, key=lambda r: r.day)
    case_days = [r.day for r in ordered if r.community_positives > 0]
    if last_case_on is not None:
        case_days.append(last_case_on)
    latest_case = max(case_days, default=None)
    if source_unknown and len(ordered) < EARLY_ROUNDS_SOURCE_UNKNOWN:
        interval, reason = DAILY, FrequencyReason.source_unknown_early
    elif any(r.community_positives > 0 for r in ordered[-RECENT_ROUNDS:]):
        interval, reason = DAILY, FrequencyReason.cases_in_recent_rounds
    elif latest_case is not None and (today - latest_case).days < RECENT_CASE_DAYS:
        interval, reason = EVERY_OTHER_DAY, FrequencyReason.cases_within_14_days
    else:
        interval, reason = EVERY_FIVE_DAYS, FrequencyReason.no_cases_in_14_days
    next_on = ordered[-1].day + dt.timedelta(days=interval) if ordered else today
    return FrequencyAdvice(interval, reason, max(next_on, today))


# -------------------------------------------------------------------------------------------- pooling


def check_pool_size(size: int) -> None:
    if size not in POOL_SIZES:
        raise RuleError(f"pool size must be one of {', '.join(map(str, POOL_SIZES))} (got {size})")
