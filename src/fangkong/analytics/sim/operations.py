"""Kernels of the response's field work: contact tracing, pooled testing rounds and vaccination.

They act on the same per-person arrays as :mod:`model` and draw their random numbers from
:mod:`streams`, keyed by who and when, so that arms with the same seed differ only by what they do.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from fangkong.analytics.sim import streams
from fangkong.analytics.sim.model import enter_quarantine
from fangkong.analytics.sim.state import (
    CRITICAL,
    DEAD,
    F_CONTACTS_TRACED,
    F_IN_QUARANTINE_CENTRALIZED,
    F_IN_QUARANTINE_HOME,
    F_TESTS,
    F_TUBES,
    K_TESTS,
    NEVER,
    O_DIAGNOSED,
    O_PENDING_EXPOSURE,
    O_QUARANTINE_PENDING,
    O_RESULT,
    PRESYMPTOMATIC,
)

_PLACE_CENTRALIZED = 2


@nb.njit(cache=True)
def trace_contacts(  # type: ignore[no-untyped-def]
    t, seed, cases, indptrs, indices, trace_prob, trace_delay, stage, ops, quarantine_stage, counters,
    total_days, stage_of_day, stage_place, counts,
):  # fmt: skip
    """Notify the contacts of each case; each contact enters quarantine after its layer's delay.

    The plan counts from the case's diagnosis day, the contact's last exposure. Contacts whose plan
    would already be over when they are reached are not quarantined.
    """
    for n in range(cases.shape[0]):
        i = cases[n]
        exposure = ops[i, O_DIAGNOSED]
        key_base = np.int64(i) << 32
        for layer in range(4):
            p = trace_prob[layer]
            if p <= 0.0:
                continue
            start = t + trace_delay[layer]
            if start - exposure > total_days:
                continue
            ip = indptrs[layer]
            ix = indices[layer]
            base = streams.day_base(seed, streams.TRACING + layer, t)
            for e in range(ip[i], ip[i + 1]):
                j = ix[e]
                if stage[j] == DEAD or ops[j, O_DIAGNOSED] <= t:
                    continue
                if streams.uniform_from(base, key_base | j) >= p:
                    continue
                counts[F_CONTACTS_TRACED] += 1
                if start < ops[j, O_QUARANTINE_PENDING]:
                    ops[j, O_QUARANTINE_PENDING] = start
                if exposure > ops[j, O_PENDING_EXPOSURE]:
                    ops[j, O_PENDING_EXPOSURE] = exposure
                if start <= t and enter_quarantine(
                    j, t, ops, quarantine_stage, counters, counts, total_days, stage_of_day
                ):
                    # Today's census was taken before tracing: count today's entrants in it.
                    if stage_place[quarantine_stage[j]] == _PLACE_CENTRALIZED:
                        counts[F_IN_QUARANTINE_CENTRALIZED] += 1
                    else:
                        counts[F_IN_QUARANTINE_HOME] += 1


@nb.njit(cache=True)
def testing_round(  # type: ignore[no-untyped-def]
    t, seed, round_number, coverage, pool_size, sensitivity, result_delay, retest_delay, area_in_scope,
    area, stage, ops, result_positive, quarantine_stage, counters, counts, pool,
):  # fmt: skip
    """One regional testing round with Dorfman pools.

    People in scope who are not diagnosed, dead or in quarantine (quarantine has its own tests) are
    sampled with chance `coverage` and queue in index order (neighbours together), `pool_size` samples
    to a tube. A positive tube recalls its members for single-tube retests (Dorfman 1943).
    """
    members = 0
    any_positive = False
    for i in range(stage.shape[0]):
        if stage[i] == DEAD or ops[i, O_DIAGNOSED] <= t or quarantine_stage[i] >= 0:
            continue
        if not area_in_scope[area[i]]:
            continue
        if streams.uniform(seed, streams.ROUND_SAMPLE, round_number, i) >= coverage:
            continue
        counts[F_TESTS] += 1
        counters[i, K_TESTS] += 1
        pool[members] = i
        members += 1
        infectious = PRESYMPTOMATIC <= stage[i] <= CRITICAL
        if infectious and streams.uniform(seed, streams.ROUND_RESULT, round_number, i) < sensitivity:
            any_positive = True
        if members == pool_size:
            _close_pool(t, seed, round_number, pool, members, any_positive, sensitivity, result_delay,
                        retest_delay, stage, ops, result_positive, counters, counts)  # fmt: skip
            members = 0
            any_positive = False
    if members > 0:
        _close_pool(t, seed, round_number, pool, members, any_positive, sensitivity, result_delay,
                    retest_delay, stage, ops, result_positive, counters, counts)  # fmt: skip


@nb.njit(inline="always", cache=True)
def _close_pool(  # type: ignore[no-untyped-def]
    t, seed, round_number, pool, members, any_positive, sensitivity, result_delay, retest_delay, stage,
    ops, result_positive, counters, counts,
):  # fmt: skip
    counts[F_TUBES] += 1
    if not any_positive:
        return
    single = members == 1
    delay = result_delay if single else result_delay + retest_delay
    for m in range(members):
        q = pool[m]
        if single:
            positive = True
        else:
            counts[F_TESTS] += 1
            counts[F_TUBES] += 1
            counters[q, K_TESTS] += 1
            positive = PRESYMPTOMATIC <= stage[q] <= CRITICAL and (
                streams.uniform(seed, streams.RETEST_RESULT, round_number, q) < sensitivity
            )
        if positive:
            day = min(t + max(delay, 1), NEVER - 1)
            if not result_positive[q] or day < ops[q, O_RESULT]:
                ops[q, O_RESULT] = day
            result_positive[q] = True


@nb.njit(cache=True)
def vaccinate(t, order, position, doses, stage, ops, vaccinated_day):  # type: ignore[no-untyped-def]
    """Give up to `doses` first doses along the priority order; returns (new position, doses given)."""
    given = 0
    while position < order.shape[0] and given < doses:
        j = order[position]
        position += 1
        if stage[j] == DEAD or ops[j, O_DIAGNOSED] <= t or vaccinated_day[j] != NEVER:
            continue
        vaccinated_day[j] = t
        given += 1
    return position, given
