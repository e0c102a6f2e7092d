"""Evaluation harness for the temporal outbreak detectors: simulate, calibrate, measure.

Method (reference/surveillance/ALGORITHMS.md section 4):

* **Baselines** follow Noufaily et al. (Stat Med 2013) and R ``sts_creation``: negative binomial counts
  with mean ``mu_t = exp(theta + beta t + gamma1 cos(2 pi t / 52) + gamma2 sin(2 pi t / 52))`` and
  variance ``phi mu_t`` (Poisson when ``phi = 1``).
* **Outbreaks**: a start week, a size drawn Poisson with mean ``k`` times the baseline standard
  deviation at the start, each case's week a delay drawn from a log-normal (meanlog 0, sdlog 0.5)
  rounded down, as ``sts_creation`` does. The outbreak state is 1 from the start to its last case.
  One outbreak falls in the evaluated year of each replicate; optional ones in the history test
  how a detector copes with past outbreaks in its baseline.
* **Calibration**: each detector's threshold knob (``alpha``, ``h``, ``c_ARL``, ``percentile`` or
  ``threshold``) is set by bisection so that its false-alarm rate (alarms among judged time points
  without an outbreak) on outbreak-free replicates is as close to the target as the knob allows.
* **Measures** as R ``algo.quality`` and the literature: sensitivity and specificity per time point,
  probability of detection (POD: at least one alarm during the outbreak), time to detection (time
  points from the start to the first alarm, over detected outbreaks) and false alarms per year.

Arrays in, arrays out; randomness only from the ``numpy.random.Generator`` passed in.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]

WEEKS_PER_YEAR = 52
"""time points a year of the simulated weekly series (R surveillance counts 52 weeks a year)."""

HISTORY_YEARS = 6
"""years of history before the evaluated year: Farrington's default b = 5 years plus its window."""

EVALUATED_WEEKS = 52
"""time points judged in each replicate (the last year of the series)."""

DELAY_MEANLOG = 0.0
"""log-normal outbreak-case delay, meanlog (R sts_creation densityDelay default)."""

DELAY_SDLOG = 0.5
"""log-normal outbreak-case delay, sdlog (R sts_creation default)."""

HISTORY_OUTBREAKS = 2
"""outbreaks placed in the history of each replicate, so detectors meet past outbreaks in their baseline."""

TARGET_FALSE_ALARM_RATE = 0.01
"""false alarms per judged outbreak-free time point the detectors are calibrated to (1 %); Kuang et al.
2012 fixed 5 % on daily CIDARS data, 1 % suits weekly series where 5 % means 2.6 false alarms a year."""

CALIBRATION_STEPS = 16
"""bisection steps per knob (the knob's range shrinks 2**16-fold)."""

REPLICATES = 100
"""replicates per scenario with an outbreak (Noufaily et al. 2013 used 100)."""

CALIBRATION_REPLICATES = 50
"""outbreak-free replicates per scenario for calibration."""


@dataclass(frozen=True)
class Scenario:
    """A simulated weekly baseline and the size of the outbreaks injected into it."""

    name: str
    theta: float
    beta: float = 0.0
    gamma1: float = 0.0
    gamma2: float = 0.0
    dispersion: float = 1.0
    outbreak_k: float = 5.0

    def mean(self, t: FloatArray) -> FloatArray:
        season = 2.0 * np.pi * t / WEEKS_PER_YEAR
        out: FloatArray = np.exp(
            self.theta + self.beta * t + self.gamma1 * np.cos(season) + self.gamma2 * np.sin(season)
        )
        return out


DEFAULT_SCENARIOS: tuple[Scenario, ...] = (
    # Chosen to span sparse to busy series, flat and seasonal, within the ranges Noufaily et al. (2013)
    # simulated (theta 0.1..6, phi 1..5, one or no harmonic); not their exact grid.
    Scenario("sparse, flat", theta=0.1, dispersion=1.5, outbreak_k=5.0),
    Scenario("moderate, seasonal", theta=2.0, gamma1=0.6, gamma2=0.6, dispersion=1.5, outbreak_k=5.0),
    Scenario(
        "busy, seasonal, overdispersed", theta=4.0, gamma1=0.8, gamma2=0.4, dispersion=3.0, outbreak_k=5.0
    ),
)


@dataclass(frozen=True)
class Simulated:
    """Replicates of one scenario: counts and outbreak state (replicate, time), outbreak windows."""

    counts: FloatArray
    state: BoolArray
    outbreak_start: IntArray
    outbreak_end: IntArray
    evaluated: IntArray


def _baseline(
    rng: np.random.Generator, scenario: Scenario, replicates: int, n: int
) -> tuple[FloatArray, FloatArray]:
    mu = scenario.mean(np.arange(n, dtype=np.float64))
    if scenario.dispersion <= 1.0:
        counts = rng.poisson(np.broadcast_to(mu, (replicates, n))).astype(np.float64)
    else:
        size = mu / (scenario.dispersion - 1.0)
        counts = rng.negative_binomial(size, size / (size + mu), size=(replicates, n)).astype(np.float64)
    return counts, mu


def _inject(
    rng: np.random.Generator, counts: FloatArray, state: BoolArray, row: int, start: int, cases: int
) -> int:
    """Spread ``cases`` from ``start`` by log-normal delays; return the week of the last case."""
    n = counts.shape[1]
    if cases == 0:
        state[row, start] = True
        return start
    delays = np.floor(rng.lognormal(DELAY_MEANLOG, DELAY_SDLOG, size=cases)).astype(np.int64)
    weeks = np.minimum(start + delays, n - 1)
    np.add.at(counts[row], weeks, 1.0)
    end = int(weeks.max())
    state[row, start : end + 1] = True
    return end


def simulate(
    rng: np.random.Generator,
    scenario: Scenario,
    replicates: int,
    *,
    history_years: int = HISTORY_YEARS,
    evaluated_weeks: int = EVALUATED_WEEKS,
    outbreaks: bool = True,
    history_outbreaks: int = HISTORY_OUTBREAKS,
) -> Simulated:
    """Weekly replicates: ``history_years`` of history then ``evaluated_weeks`` judged weeks.

    With ``outbreaks``, each replicate has one outbreak starting in the judged weeks (at least four
    weeks before the end, so it can be seen) and ``history_outbreaks`` in its history.
    """
    n = history_years * WEEKS_PER_YEAR + evaluated_weeks
    first = n - evaluated_weeks
    counts, mu = _baseline(rng, scenario, replicates, n)
    state = np.zeros((replicates, n), dtype=np.bool_)
    starts = np.full(replicates, -1, dtype=np.int64)
    ends = np.full(replicates, -1, dtype=np.int64)
    if outbreaks:
        sd = np.sqrt(scenario.dispersion * mu)
        for r in range(replicates):
            for _ in range(history_outbreaks):
                s = int(rng.integers(0, first - WEEKS_PER_YEAR // 4))
                _inject(rng, counts, state, r, s, int(rng.poisson(scenario.outbreak_k * sd[s])))
            s = int(rng.integers(first, max(first + 1, n - 4)))
            starts[r] = s
            ends[r] = _inject(rng, counts, state, r, s, int(rng.poisson(scenario.outbreak_k * sd[s])))
        # Past outbreaks are only there to disturb baselines; only the judged year's state is scored.
        state[:, :first] = False
    return Simulated(counts, state, starts, ends, np.arange(first, n, dtype=np.int64))


# ----------------------------------------------------------------------------- running the detectors


Runner = Callable[[str, Mapping[str, object], FloatArray, IntArray], tuple[BoolArray, BoolArray]]
"""``runner(method, params, counts, judged) -> (alarm, judged flags)``; :func:`run_many` by default."""


def run_many(
    method: str, params: Mapping[str, object], counts: FloatArray, judged: IntArray
) -> tuple[BoolArray, BoolArray]:
    """Alarms and judged flags, each (replicate, len(judged)), of ``method`` on every row of ``counts``."""
    from fangkong.analytics.detection.registry import DETECTORS, convert_params

    rows, n = counts.shape
    alarm = np.zeros((rows, judged.size), dtype=np.bool_)
    ok = np.zeros((rows, judged.size), dtype=np.bool_)
    if method == "farrington_flexible":
        from fangkong.analytics.detection.farrington import farrington_flexible_many

        batch = farrington_flexible_many(counts, **dict(params), range=judged)
        return batch.alarm[:, judged], batch.judged[:, judged]
    function = DETECTORS[method]
    converted = convert_params(method, function, dict(params), n)
    for r in range(rows):
        result = function(counts[r], **converted, range=judged)
        alarm[r] = result.alarm[judged]
        ok[r] = result.judged[judged]
    return alarm, ok


@dataclass(frozen=True)
class Knob:
    """The parameter that sets a detector's threshold: its range and whether raising it adds alarms."""

    name: str
    low: float
    high: float
    more_alarms_when_higher: bool
    log_scale: bool = False
    integer: bool = False


KNOBS: dict[str, Knob] = {
    "fixed": Knob("threshold", 1.0, 2_000.0, False, log_scale=True, integer=True),
    "mpm": Knob("percentile", 50.0, 100.0, False),
    "ears_c1": Knob("alpha", 1e-12, 0.5, True, log_scale=True),
    "ears_c2": Knob("alpha", 1e-12, 0.5, True, log_scale=True),
    "ears_c3": Knob("alpha", 1e-12, 0.5, True, log_scale=True),
    # A non-seasonal CUSUM on a seasonal series drifts up for months: its h may need to be very large.
    "cusum": Knob("h", 0.05, 10_000.0, False, log_scale=True),
    "bayes": Knob("alpha", 1e-12, 0.5, True, log_scale=True),
    "cdc": Knob("alpha", 1e-12, 0.5, True, log_scale=True),
    "farrington": Knob("alpha", 1e-12, 0.5, True, log_scale=True),
    "farrington_flexible": Knob("alpha", 1e-12, 0.5, True, log_scale=True),
    "glrnb": Knob("c_ARL", 0.1, 1_000.0, False, log_scale=True),
    "ewma": Knob("alpha", 1e-12, 0.5, True, log_scale=True),
}
"""Threshold knobs per method; ``rki`` has none (its bound is fixed: mean + 2 sd or a Poisson table)."""

WEEKLY_PARAMS: dict[str, dict[str, object]] = {
    "mpm": {"freq": WEEKS_PER_YEAR},
    "cusum": {"freq": WEEKS_PER_YEAR},
    "bayes": {"freq": WEEKS_PER_YEAR},
    "rki": {"freq": WEEKS_PER_YEAR},
    "cdc": {"freq": WEEKS_PER_YEAR},
    "glrnb": {"freq": WEEKS_PER_YEAR},
    "farrington": {"freq": WEEKS_PER_YEAR},
    "farrington_flexible": {"freq": WEEKS_PER_YEAR},
}
"""Parameters every weekly evaluation passes (R defaults otherwise)."""


LABELLED_FIRST_JUDGED = 59
"""first time point (0-based) judged on the 209-week RKI series: with one year of history (b = 1) every
method that looks a year back can judge from here (CDC's 4-week blocks need the most, 59 points)."""

LABELLED_PARAMS: dict[str, dict[str, object]] = {
    **{method: dict(params) for method, params in WEEKLY_PARAMS.items()},
    # Four years of data leave one year of history for the methods that look back whole years.
    "mpm": {"freq": WEEKS_PER_YEAR, "b": 1},
    "cdc": {"freq": WEEKS_PER_YEAR, "b": 1},
    "farrington": {"freq": WEEKS_PER_YEAR, "b": 1},
    "farrington_flexible": {"freq": WEEKS_PER_YEAR, "b": 1},
    "rki": {"freq": WEEKS_PER_YEAR, "preset": "rki1"},
}
"""Parameters for the short labelled series: R defaults except the years of history."""


def false_alarm_rate(alarm: BoolArray, judged: BoolArray, state: BoolArray) -> float:
    quiet = judged & ~state
    total = int(quiet.sum())
    return float((alarm & quiet).sum()) / total if total else math.nan


@dataclass(frozen=True)
class Calibration:
    method: str
    knob: str | None
    value: float | None
    false_alarm_rate: float


def calibrate(
    method: str,
    params: Mapping[str, object],
    quiet_counts: FloatArray,
    judged: IntArray,
    target: float = TARGET_FALSE_ALARM_RATE,
    steps: int = CALIBRATION_STEPS,
    runner: Runner = run_many,
) -> Calibration:
    """The knob value whose false-alarm rate on outbreak-free series is closest to ``target``.

    Bisection on the knob (on a log scale where the knob spans decades); the rate is a step function
    of the knob, so the closest reachable rate is kept, preferring the one not above the target.
    """
    no_outbreak = np.zeros((quiet_counts.shape[0], judged.size), dtype=np.bool_)

    def rate_at(value: float | None, knob: Knob | None) -> float:
        given = dict(params)
        if knob is not None and value is not None:
            given[knob.name] = round(value) if knob.integer else value
        alarm, ok = runner(method, given, quiet_counts, judged)
        return false_alarm_rate(alarm, ok, no_outbreak)

    knob = KNOBS.get(method)
    if knob is None:
        return Calibration(method, None, None, rate_at(None, None))
    lo, hi = (math.log(knob.low), math.log(knob.high)) if knob.log_scale else (knob.low, knob.high)
    best: tuple[tuple[bool, float], float, float] | None = None
    for _ in range(steps):
        mid = (lo + hi) / 2.0
        value = math.exp(mid) if knob.log_scale else mid
        rate = rate_at(value, knob)
        candidate = ((rate > target), abs(rate - target))
        if best is None or candidate < best[0]:
            best = (candidate, value, rate)
        too_many = rate > target
        # Move towards fewer alarms when above the target, towards more when below.
        if too_many == knob.more_alarms_when_higher:
            hi = mid
        else:
            lo = mid
    assert best is not None
    value = float(round(best[1])) if knob.integer else best[1]
    return Calibration(method, knob.name, value, best[2])


# ----------------------------------------------------------------------------- quality measures


@dataclass(frozen=True)
class Quality:
    """Detection quality over replicates (``algo.quality`` measures plus POD and time to detection)."""

    sensitivity: float
    specificity: float
    probability_of_detection: float
    time_to_detection: float
    false_alarms_per_year: float
    outbreaks: int
    judged_points: int


def quality(
    alarm: BoolArray,
    judged: BoolArray,
    state: BoolArray,
    outbreak_start: IntArray | None = None,
    outbreak_end: IntArray | None = None,
    freq: int = WEEKS_PER_YEAR,
) -> Quality:
    """Measures over (replicate, time) arrays restricted to judged points.

    Outbreaks are the runs of consecutive state 1 within each row, unless starts and ends (column
    indices, one per row; -1 for none) are given.
    """
    tp = int((alarm & state & judged).sum())
    fn = int((~alarm & state & judged).sum())
    fp = int((alarm & ~state & judged).sum())
    tn = int((~alarm & ~state & judged).sum())
    detected = 0
    lags: list[int] = []
    windows = _windows(state, outbreak_start, outbreak_end)
    for row, start, end in windows:
        hits = np.flatnonzero(alarm[row, start : end + 1] & judged[row, start : end + 1])
        if hits.size:
            detected += 1
            lags.append(int(hits[0]))
    quiet = fp + tn
    return Quality(
        sensitivity=tp / (tp + fn) if tp + fn else math.nan,
        specificity=tn / quiet if quiet else math.nan,
        probability_of_detection=detected / len(windows) if windows else math.nan,
        time_to_detection=float(np.mean(lags)) if lags else math.nan,
        false_alarms_per_year=fp / quiet * freq if quiet else math.nan,
        outbreaks=len(windows),
        judged_points=int(judged.sum()),
    )


def _windows(state: BoolArray, starts: IntArray | None, ends: IntArray | None) -> list[tuple[int, int, int]]:
    if starts is not None and ends is not None:
        return [(r, int(s), int(e)) for r, (s, e) in enumerate(zip(starts, ends, strict=True)) if s >= 0]
    out: list[tuple[int, int, int]] = []
    for r in range(state.shape[0]):
        padded = np.concatenate([[False], state[r], [False]]).astype(np.int8)
        edges = np.diff(padded)
        for s, e in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1, strict=True):
            out.append((r, int(s), int(e)))
    return out


# ----------------------------------------------------------------------------- whole evaluations


@dataclass(frozen=True)
class Evaluation:
    """One detector on one scenario or labelled series."""

    method: str
    dataset: str
    knob: str | None
    knob_value: float | None
    calibrated_false_alarm_rate: float | None
    quality: Quality
    error: str = ""


EMPTY = Quality(math.nan, math.nan, math.nan, math.nan, math.nan, 0, 0)
"""The measures of a detector that could not run."""


def _describe(exc: Exception) -> str:
    from fangkong.analytics.detection.base import DetectorParameterError

    return str(exc) if isinstance(exc, DetectorParameterError) else f"{type(exc).__name__}: {exc}"


@dataclass(frozen=True)
class SimulationDesign:
    scenarios: Sequence[Scenario] = DEFAULT_SCENARIOS
    replicates: int = REPLICATES
    calibration_replicates: int = CALIBRATION_REPLICATES
    target: float = TARGET_FALSE_ALARM_RATE
    history_outbreaks: int = HISTORY_OUTBREAKS
    params: Mapping[str, Mapping[str, object]] = field(default_factory=lambda: WEEKLY_PARAMS)


def evaluate_simulated(
    rng: np.random.Generator,
    methods: Sequence[str],
    design: SimulationDesign | None = None,
    runner: Runner = run_many,
) -> list[Evaluation]:
    """Calibrate every method on outbreak-free replicates, then measure it on replicates with outbreaks."""
    design = design or SimulationDesign()
    results: list[Evaluation] = []
    for scenario in design.scenarios:
        quiet = simulate(rng, scenario, design.calibration_replicates, outbreaks=False)
        noisy = simulate(rng, scenario, design.replicates, history_outbreaks=design.history_outbreaks)
        judged = noisy.evaluated
        for method in methods:
            params = dict(design.params.get(method, {}))
            try:
                cal = calibrate(method, params, quiet.counts, judged, design.target, runner=runner)
                if cal.knob is not None and cal.value is not None:
                    params[cal.knob] = int(cal.value) if KNOBS[method].integer else cal.value
                alarm, ok = runner(method, params, noisy.counts, judged)
            except (ValueError, ArithmeticError) as exc:
                # Parameter errors and fits that fail (numpy's LinAlgError is a ValueError) are reported.
                results.append(Evaluation(method, scenario.name, None, None, None, EMPTY, _describe(exc)))
                continue
            q = quality(
                alarm,
                ok,
                noisy.state[:, judged],
                noisy.outbreak_start - judged[0],
                noisy.outbreak_end - judged[0],
            )
            results.append(Evaluation(method, scenario.name, cal.knob, cal.value, cal.false_alarm_rate, q))
    return results


def evaluate_labelled(
    series: Mapping[str, tuple[FloatArray, BoolArray]],
    methods: Sequence[str],
    judged: IntArray,
    params: Mapping[str, Mapping[str, object]] | None = None,
    runner: Runner = run_many,
) -> list[Evaluation]:
    """Each method at its given parameters on real series with outbreak flags (e.g. RKI's m1..m5, n1, n2)."""
    params = params or {}
    out: list[Evaluation] = []
    for name, (counts, state) in series.items():
        for method in methods:
            try:
                alarm, ok = runner(method, dict(params.get(method, {})), counts[None, :], judged)
            except (ValueError, ArithmeticError) as exc:
                out.append(Evaluation(method, name, None, None, None, EMPTY, _describe(exc)))
                continue
            out.append(Evaluation(method, name, None, None, None, quality(alarm, ok, state[None, judged])))
    return out


def pooled(evaluations: Sequence[Evaluation]) -> dict[str, dict[str, float]]:
    """Mean of each measure per method over datasets (NaN-aware), for a one-line-per-method summary."""
    by_method: dict[str, list[Quality]] = {}
    for e in evaluations:
        if not e.error:
            by_method.setdefault(e.method, []).append(e.quality)
    summary: dict[str, dict[str, float]] = {}
    for method, qs in by_method.items():

        def mean(values: list[float]) -> float:
            finite = [v for v in values if not math.isnan(v)]
            return float(np.mean(finite)) if finite else math.nan

        summary[method] = {
            "sensitivity": mean([q.sensitivity for q in qs]),
            "specificity": mean([q.specificity for q in qs]),
            "probability_of_detection": mean([q.probability_of_detection for q in qs]),
            "time_to_detection": mean([q.time_to_detection for q in qs]),
            "false_alarms_per_year": mean([q.false_alarms_per_year for q in qs]),
        }
    return summary
