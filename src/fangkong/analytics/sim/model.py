"""The daily state machine: illness courses, the daily pass over everyone, and transmission.

SEIR with asymptomatic infections as in Covasim: exposed -> infectious (presymptomatic or
asymptomatic) -> mild -> severe -> critical -> recovered or dead, each step with age-specific chances
and per-person durations fixed at infection. Transmission runs per contact layer over the CSR lists of
the people infectious today only, so its cost follows the epidemic rather than the population size.
Numba kernels, serial on purpose: all random numbers come from :mod:`streams`, so results do not depend
on visiting order, and two cores are shared with others.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from fangkong.analytics.sim import streams
from fangkong.analytics.sim.state import (
    ASYMPTOMATIC,
    C_CRITICAL,
    C_END,
    C_INFECTED,
    C_INFECTIOUS,
    C_SEVERE,
    C_SYMPTOMATIC,
    CRITICAL,
    DEAD,
    EXPOSED,
    F_HOSPITAL,
    F_ICU,
    F_IN_ISOLATION,
    F_IN_LOCKDOWN,
    F_IN_QUARANTINE_CENTRALIZED,
    F_IN_QUARANTINE_HOME,
    F_INFECTIONS_BY_LAYER,
    F_INFECTIOUS,
    F_NEW_CRITICAL,
    F_NEW_DEATHS,
    F_NEW_DIAGNOSES,
    F_NEW_INFECTIONS,
    F_NEW_QUARANTINED,
    F_NEW_RECOVERIES,
    F_NEW_SEVERE,
    F_NEW_SYMPTOMATIC,
    F_TESTS,
    F_TUBES,
    K_QUARANTINE_DAYS,
    K_TESTS,
    K_TIMES_QUARANTINED,
    MILD,
    NEVER,
    NONE,
    O_DIAGNOSED,
    O_PENDING_EXPOSURE,
    O_QUARANTINE_ENTRY,
    O_QUARANTINE_EXPOSURE,
    O_QUARANTINE_PENDING,
    O_RESULT,
    O_TESTED_UPTO,
    PRESYMPTOMATIC,
    RECOVERED,
    SEVERE,
    SUSCEPTIBLE,
)

_PLACE_CENTRALIZED = 2

# Rows of the duration table (Parameters.duration_table).
_D_EXP2INF = 0
_D_INF2SYM = 1
_D_SYM2SEV = 2
_D_SEV2CRIT = 3
_D_ASYM2REC = 4
_D_MILD2REC = 5
_D_SEV2REC = 6
_D_CRIT2REC = 7
_D_CRIT2DIE = 8
# Slots of the per-person course draws (the "day" of streams.uniform for purpose COURSE).
_U_SYMPTOMATIC = 20
_U_SEVERE = 21
_U_CRITICAL = 22
_U_DEATH = 23


@nb.njit(inline="always", cache=True)
def _days(seed, person, row, durations):  # type: ignore[no-untyped-def]
    mu = durations[row, 0]
    if not np.isfinite(mu):
        return 0
    z = streams.standard_normal(seed, streams.COURSE, row, person)
    return int(np.round(np.exp(mu + durations[row, 1] * z)))


@nb.njit(inline="always", cache=True)
def _clip_day(day):  # type: ignore[no-untyped-def]
    return min(day, NEVER - 1)


@nb.njit(cache=True)
def infect(person, t, seed, protected, stage, course, dies, band, bands, durations, vaccine):  # type: ignore[no-untyped-def]
    """Infect one person on day t and fix the course of the illness (dates and outcome)."""
    b = band[person]
    stage[person] = EXPOSED
    course[person, C_INFECTED] = t
    # At least one day from infection to infectiousness, so nobody infected today transmits today.
    infectious = t + max(1, _days(seed, person, _D_EXP2INF, durations))
    course[person, C_INFECTIOUS] = _clip_day(infectious)
    p_symptoms = bands[1, b] * ((1.0 - vaccine[1]) if protected else 1.0)
    if streams.uniform(seed, streams.COURSE, _U_SYMPTOMATIC, person) >= p_symptoms:
        end = infectious + _days(seed, person, _D_ASYM2REC, durations)
        course[person, C_END] = _clip_day(end)
        return
    symptomatic = infectious + _days(seed, person, _D_INF2SYM, durations)
    course[person, C_SYMPTOMATIC] = _clip_day(symptomatic)
    p_severe = bands[2, b] * ((1.0 - vaccine[2]) if protected else 1.0)
    if streams.uniform(seed, streams.COURSE, _U_SEVERE, person) >= p_severe:
        course[person, C_END] = _clip_day(symptomatic + _days(seed, person, _D_MILD2REC, durations))
        return
    severe = symptomatic + _days(seed, person, _D_SYM2SEV, durations)
    course[person, C_SEVERE] = _clip_day(severe)
    if streams.uniform(seed, streams.COURSE, _U_CRITICAL, person) >= bands[3, b]:
        course[person, C_END] = _clip_day(severe + _days(seed, person, _D_SEV2REC, durations))
        return
    critical = severe + _days(seed, person, _D_SEV2CRIT, durations)
    course[person, C_CRITICAL] = _clip_day(critical)
    if streams.uniform(seed, streams.COURSE, _U_DEATH, person) < bands[4, b]:
        dies[person] = True
        course[person, C_END] = _clip_day(critical + _days(seed, person, _D_CRIT2DIE, durations))
    else:
        course[person, C_END] = _clip_day(critical + _days(seed, person, _D_CRIT2REC, durations))


@nb.njit(cache=True)
def seed_infections(  # type: ignore[no-untyped-def]
    people, seed, vaccinated_day, protection_days, stage, course, dies, band, bands, durations, vaccine
):
    """Infect the seed people on day 0."""
    for n in range(people.shape[0]):
        p = people[n]
        protected = vaccinated_day[p] + protection_days <= 0
        infect(p, 0, seed, protected, stage, course, dies, band, bands, durations, vaccine)


@nb.njit(inline="always", cache=True)
def _leave_quarantine(person, t, ops, quarantine_stage, counters):  # type: ignore[no-untyped-def]
    if quarantine_stage[person] >= 0:
        counters[person, K_QUARANTINE_DAYS] += t - ops[person, O_QUARANTINE_ENTRY]
        quarantine_stage[person] = -1


@nb.njit(inline="always", cache=True)
def enter_quarantine(person, t, ops, quarantine_stage, counters, counts, total_days, stage_of_day):  # type: ignore[no-untyped-def]
    """Start (or extend) the quarantine of a notified person; True if the person newly entered today."""
    exposure = ops[person, O_PENDING_EXPOSURE]
    ops[person, O_QUARANTINE_PENDING] = NEVER
    ops[person, O_PENDING_EXPOSURE] = NONE
    if quarantine_stage[person] >= 0:
        # A new exposure restarts the count from the latest exposure.
        if exposure > ops[person, O_QUARANTINE_EXPOSURE]:
            ops[person, O_QUARANTINE_EXPOSURE] = exposure
        return False
    k = t - exposure
    if k > total_days:
        return False
    ops[person, O_QUARANTINE_EXPOSURE] = exposure
    ops[person, O_QUARANTINE_ENTRY] = t
    ops[person, O_TESTED_UPTO] = -1
    quarantine_stage[person] = stage_of_day[max(k, 0)]
    counters[person, K_TIMES_QUARANTINED] += 1
    counts[F_NEW_QUARANTINED] += 1
    return True


@nb.njit(inline="always", cache=True)
def _viral_load(person, t, course, high_share, high_ratio, high_cap):  # type: ignore[no-untyped-def]
    # Covasim's two-level viral load (covasim/utils.py compute_viral_load): high for the first
    # `high_share` of the infectious period (at most `high_cap` days), normalised to mean 1.
    start = course[person, C_INFECTIOUS]
    total = course[person, C_END] - start
    if total <= 0:
        return 0.0
    point = high_share
    if high_share * total > high_cap:
        point = high_cap / total
    level = high_ratio if (t - start) / total < point else 1.0
    return level / (1.0 + high_share * (high_ratio - 1.0))


@nb.njit(cache=True)
def day_pass(  # type: ignore[no-untyped-def]
    t, seed, stage, course, dies, rel_trans, ops, result_positive, quarantine_stage, counters, area,
    area_locked, viral, asymptomatic_factor, testing_on, symptomatic_prob, asymptomatic_prob,
    quarantined_symptomatic_prob, test_delay, sensitivity, total_days, stage_of_day, next_test_day,
    stage_place, q_test_prob, q_symptomatic_test_prob, release_requires_negative, counts, infectious,
    weights, diagnosed, rel_sus, vaccinated_day, protection_days, infection_reduction, susceptibility,
):  # fmt: skip
    """One pass over everyone: progress illness, read results, run quarantine plans and routine tests,
    take the census, list who is infectious today and everyone's susceptibility today (0 if not
    susceptible). Returns (number infectious, number diagnosed)."""
    n_infectious = 0
    n_diagnosed = 0
    for i in range(stage.shape[0]):
        st = stage[i]
        if st == SUSCEPTIBLE:
            sus = rel_sus[i]
            if vaccinated_day[i] + protection_days <= t:
                sus *= 1.0 - infection_reduction
            susceptibility[i] = sus
        else:
            susceptibility[i] = 0.0
        if st == DEAD:
            continue
        if st != SUSCEPTIBLE and st != RECOVERED:
            if course[i, C_SYMPTOMATIC] == t:
                counts[F_NEW_SYMPTOMATIC] += 1
            if course[i, C_SEVERE] == t:
                counts[F_NEW_SEVERE] += 1
            if course[i, C_CRITICAL] == t:
                counts[F_NEW_CRITICAL] += 1
            if t >= course[i, C_END]:
                if dies[i]:
                    stage[i] = DEAD
                    counts[F_NEW_DEATHS] += 1
                    _leave_quarantine(i, t, ops, quarantine_stage, counters)
                    ops[i, O_QUARANTINE_PENDING] = NEVER
                    ops[i, O_RESULT] = NEVER
                    continue
                st = RECOVERED
                counts[F_NEW_RECOVERIES] += 1
            elif t >= course[i, C_CRITICAL]:
                st = CRITICAL
            elif t >= course[i, C_SEVERE]:
                st = SEVERE
            elif t >= course[i, C_SYMPTOMATIC]:
                st = MILD
            elif t >= course[i, C_INFECTIOUS]:
                st = PRESYMPTOMATIC if course[i, C_SYMPTOMATIC] != NEVER else ASYMPTOMATIC
            else:
                st = EXPOSED
            stage[i] = st

        diagnosed_now = ops[i, O_DIAGNOSED] <= t
        if ops[i, O_RESULT] <= t:
            if result_positive[i] and not diagnosed_now:
                diagnosed[n_diagnosed] = i
                n_diagnosed += 1
                diagnosed_now = True
                _diagnose(i, t, ops, quarantine_stage, counters, counts)
            ops[i, O_RESULT] = NEVER
            result_positive[i] = False

        symptomatic = MILD <= st <= CRITICAL
        if not diagnosed_now:
            if ops[i, O_QUARANTINE_PENDING] <= t:
                enter_quarantine(i, t, ops, quarantine_stage, counters, counts, total_days, stage_of_day)
            if quarantine_stage[i] >= 0:
                k = t - ops[i, O_QUARANTINE_EXPOSURE]
                if k > total_days:
                    if release_requires_negative and ops[i, O_RESULT] != NEVER:
                        k = total_days
                    else:
                        _leave_quarantine(i, t, ops, quarantine_stage, counters)
                if quarantine_stage[i] >= 0:
                    quarantine_stage[i] = stage_of_day[k]
                    if ops[i, O_RESULT] == NEVER and next_test_day[ops[i, O_TESTED_UPTO] + 1] <= k:
                        ops[i, O_TESTED_UPTO] = k
                        p = q_symptomatic_test_prob if symptomatic else q_test_prob
                        taken = streams.uniform(seed, streams.QUARANTINE_TEST, t, i) < p
                        if taken and _test(
                            i, t, seed, st, test_delay, sensitivity, ops, result_positive, counters, counts
                        ):
                            diagnosed[n_diagnosed] = i
                            n_diagnosed += 1
                            diagnosed_now = True
                            _diagnose(i, t, ops, quarantine_stage, counters, counts)
        if testing_on and not diagnosed_now and ops[i, O_RESULT] == NEVER:
            if symptomatic:
                p = quarantined_symptomatic_prob if quarantine_stage[i] >= 0 else symptomatic_prob
            else:
                p = asymptomatic_prob
            taken = p > 0.0 and streams.uniform(seed, streams.ROUTINE_TEST, t, i) < p
            if taken and _test(
                i, t, seed, st, test_delay, sensitivity, ops, result_positive, counters, counts
            ):
                diagnosed[n_diagnosed] = i
                n_diagnosed += 1
                diagnosed_now = True
                _diagnose(i, t, ops, quarantine_stage, counters, counts)

        qs = quarantine_stage[i]
        if qs >= 0:
            if stage_place[qs] == _PLACE_CENTRALIZED:
                counts[F_IN_QUARANTINE_CENTRALIZED] += 1
            else:
                counts[F_IN_QUARANTINE_HOME] += 1
        if diagnosed_now and EXPOSED <= st <= CRITICAL:
            counts[F_IN_ISOLATION] += 1
        if SEVERE <= st <= CRITICAL:
            counts[F_HOSPITAL] += 1
            if st == CRITICAL:
                counts[F_ICU] += 1
        if area_locked[area[i]]:
            counts[F_IN_LOCKDOWN] += 1
        if PRESYMPTOMATIC <= st <= CRITICAL:
            load = _viral_load(i, t, course, viral[0], viral[1], viral[2])
            if st == ASYMPTOMATIC:
                load *= asymptomatic_factor
            infectious[n_infectious] = i
            weights[n_infectious] = rel_trans[i] * load
            n_infectious += 1
    counts[F_INFECTIOUS] += n_infectious
    return n_infectious, n_diagnosed


@nb.njit(inline="always", cache=True)
def _diagnose(person, t, ops, quarantine_stage, counters, counts):  # type: ignore[no-untyped-def]
    ops[person, O_DIAGNOSED] = t
    ops[person, O_QUARANTINE_PENDING] = NEVER
    counts[F_NEW_DIAGNOSES] += 1
    # A diagnosed person leaves quarantine for case isolation.
    _leave_quarantine(person, t, ops, quarantine_stage, counters)


@nb.njit(inline="always", cache=True)
def _test(person, t, seed, st, delay, sensitivity, ops, result_positive, counters, counts):  # type: ignore[no-untyped-def]
    """Take one single-tube test; True if the result is positive and known today (no delay)."""
    counts[F_TESTS] += 1
    counts[F_TUBES] += 1
    counters[person, K_TESTS] += 1
    positive = (
        PRESYMPTOMATIC <= st <= CRITICAL
        and streams.uniform(seed, streams.TEST_RESULT, t, person) < sensitivity
    )
    if delay == 0:
        return positive
    ops[person, O_RESULT] = min(t + delay, NEVER - 1)
    result_positive[person] = positive
    return False


@nb.njit(cache=True)
def transmit(  # type: ignore[no-untyped-def]
    t, seed, n_infectious, infectious, weights, indptrs, indices, beta, layer_beta, stage, course, dies,
    band, bands, durations, vaccine, protection_days, susceptibility, vaccinated_day, ops, quarantine_stage,
    area, area_locked, isolation_factors, stage_factors, lockdown_factors, any_quarantine, any_lockdown,
    counts,
):  # fmt: skip
    """Infections of the day over the four layers, from the people infectious today.

    `susceptibility` comes from today's pass (vaccination included, 0 for anyone not susceptible), so
    most contacts cost one read; quarantine and lockdown factors are looked up only when in force.
    """
    bases = np.empty(4, dtype=np.uint64)
    for layer in range(4):
        bases[layer] = streams.day_base(seed, streams.TRANSMISSION + layer, t)
    for n in range(n_infectious):
        i = infectious[n]
        source_weight = beta * weights[n]
        isolated = ops[i, O_DIAGNOSED] <= t
        qs = quarantine_stage[i]
        locked = area_locked[area[i]]
        key_base = np.int64(i) << 32
        for layer in range(4):
            f = source_weight * layer_beta[layer]
            if isolated:
                f *= isolation_factors[layer]
            if qs >= 0:
                f *= stage_factors[qs, layer]
            if locked:
                f *= lockdown_factors[layer]
            if f <= 0.0:
                continue
            ip = indptrs[layer]
            ix = indices[layer]
            base = bases[layer]
            for e in range(ip[i], ip[i + 1]):
                j = ix[e]
                sus = susceptibility[j]
                if sus <= 0.0:
                    continue
                p = f * sus
                if any_quarantine:
                    qj = quarantine_stage[j]
                    if qj >= 0:
                        p *= stage_factors[qj, layer]
                if any_lockdown and area_locked[area[j]]:
                    p *= lockdown_factors[layer]
                if p > 0.0 and streams.uniform_from(base, key_base | j) < p:
                    susceptibility[j] = 0.0
                    protected = vaccinated_day[j] + protection_days <= t
                    infect(j, t, seed, protected, stage, course, dies, band, bands, durations, vaccine)
                    counts[F_NEW_INFECTIONS] += 1
                    counts[F_INFECTIONS_BY_LAYER + layer] += 1
