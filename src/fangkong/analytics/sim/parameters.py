"""Disease and transmission parameters of the agent-based simulator, each default with its source.

The defaults follow Covasim 3.1 (``covasim/parameters.py``, Kerr et al. 2021, PLoS Comput Biol
17:e1009149), whose values were calibrated for its "hybrid" population of households, schools,
workplaces and community. Where Covasim names a paper for a number, the paper is named here too.
Durations are lognormal with the given mean and standard deviation (of the lognormal itself, not of the
underlying normal), rounded to whole days, as Covasim's ``lognormal_int``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

LAYER_NAMES = ("household", "school", "workplace", "community")


class LayerValues(NamedTuple):
    """One number per contact layer, in the fixed layer order household, school, workplace, community."""

    household: float
    school: float
    workplace: float
    community: float


# relative transmission weight per layer (household, school, workplace, community), dimensionless;
# Covasim hybrid beta_layer, after Zhang et al. 2020 Science 368:1481 table S14
COVASIM_LAYER_BETA = LayerValues(3.0, 0.6, 0.6, 0.3)


@dataclass(frozen=True)
class Duration:
    """A lognormal duration in days, given by its mean and standard deviation, rounded to whole days."""

    mean_days: float
    sd_days: float

    def underlying_normal(self) -> tuple[float, float]:
        """Return (mu, sigma) of the normal whose exponential has this mean and standard deviation."""
        if self.mean_days <= 0:
            return (-np.inf, 0.0)
        variance_ratio = (self.sd_days / self.mean_days) ** 2
        sigma = float(np.sqrt(np.log1p(variance_ratio)))
        mu = float(np.log(self.mean_days) - sigma**2 / 2)
        return (mu, sigma)


@dataclass(frozen=True)
class Parameters:
    """Everything about the virus and the host that the simulator needs; strategies live elsewhere."""

    # --- transmission -------------------------------------------------------------------------------
    # per contact per day, calibrated; Covasim default beta
    beta: float = 0.016
    layer_beta: LayerValues = COVASIM_LAYER_BETA
    # relative transmissibility of asymptomatic people, dimensionless; Covasim asymp_factor, no significant
    # difference found by Chen et al. 2020 Int J Infect Dis 98:180
    asymptomatic_factor: float = 1.0
    # dispersion k of individual transmissibility (negative binomial, mean 1), dimensionless; Covasim
    # beta_dist, from Endo et al. 2020 Wellcome Open Res 5:67
    transmissibility_dispersion: float = 0.45
    # resolution of individual transmissibility draws, dimensionless; Covasim beta_dist step
    transmissibility_step: float = 0.01
    # share of the infectious period at high viral load, dimensionless; Covasim viral_dist, after Lescure
    # et al. 2020 Lancet Infect Dis 20:697
    high_load_share: float = 0.3
    # viral load ratio high : low, dimensionless; Covasim viral_dist load_ratio (Lescure et al. 2020)
    high_load_ratio: float = 2.0
    # cap on days at high viral load, days; Covasim viral_dist high_cap (Lescure et al. 2020)
    high_load_cap_days: float = 4.0

    # --- natural history: durations (days) ----------------------------------------------------------
    # exposure to infectiousness; Covasim exp2inf, Lauer et al. 2020 Ann Intern Med 172:577 table S2,
    # minus the infectious-to-symptom duration
    exposed_to_infectious: Duration = Duration(4.5, 1.5)
    # infectiousness to symptom onset; Covasim inf2sym, Linton et al. 2020 J Clin Med 9:538 table 2
    infectious_to_symptomatic: Duration = Duration(1.1, 0.9)
    # symptom onset to severe illness; Covasim sym2sev, Linton et al. 2020 table 2; Wang et al. 2020
    # JAMA 323:1061 table 1
    symptomatic_to_severe: Duration = Duration(6.6, 4.9)
    # severe to critical illness; Covasim sev2crit, Chen et al. 2020 J Infect 80:e1; Wang et al. 2020
    severe_to_critical: Duration = Duration(1.5, 2.0)
    # asymptomatic infection to recovery; Covasim asym2rec, Wölfel et al. 2020 Nature 581:465
    asymptomatic_to_recovered: Duration = Duration(8.0, 2.0)
    # mild illness to recovery; Covasim mild2rec, Wölfel et al. 2020
    mild_to_recovered: Duration = Duration(8.0, 2.0)
    # severe illness to recovery; Covasim sev2rec, Verity et al. 2020 Lancet Infect Dis 20:669
    severe_to_recovered: Duration = Duration(18.1, 6.3)
    # critical illness to recovery; Covasim crit2rec, Verity et al. 2020
    critical_to_recovered: Duration = Duration(18.1, 6.3)
    # critical illness to death; Covasim crit2die, Verity et al. 2020
    critical_to_death: Duration = Duration(10.7, 4.8)

    # --- severity by age (bands of 10 years: 0-9, 10-19, ..., 90+) ---------------------------------------
    # lower edge of each age band, years; Covasim prognoses age_cutoffs
    age_band_lower: tuple[float, ...] = (0, 10, 20, 30, 40, 50, 60, 70, 80, 90)
    # relative susceptibility (odds ratios), dimensionless; Covasim sus_ORs, Zhang et al. 2020 Science
    # 368:1481
    susceptibility: tuple[float, ...] = (0.34, 0.67, 1.00, 1.00, 1.00, 1.00, 1.24, 1.47, 1.47, 1.47)
    # probability of symptoms given infection; Covasim symp_probs, after Ferretti et al. 2020 (medRxiv
    # 2020.03.24.20043018), scaled
    symptomatic_prob: tuple[float, ...] = (0.50, 0.55, 0.60, 0.65, 0.70, 0.75, 0.80, 0.85, 0.90, 0.90)
    # probability of severe illness given infection; Covasim severe_probs, Verity et al. 2020 via
    # Ferguson et al. 2020 Imperial report 9 table 1
    severe_prob: tuple[float, ...] = (
        0.00050, 0.00165, 0.00720, 0.02080, 0.03430, 0.07650, 0.13280, 0.20655, 0.24570, 0.24570,
    )  # fmt: skip
    # probability of critical illness given infection; Covasim crit_probs, Ferguson et al. 2020 table 1
    critical_prob: tuple[float, ...] = (
        0.00003, 0.00008, 0.00036, 0.00104, 0.00216, 0.00933, 0.03639, 0.08923, 0.17420, 0.17420,
    )  # fmt: skip
    # probability of death given infection; Covasim death_probs, O'Driscoll et al. 2021 Nature 590:140,
    # last band Brazeau et al. 2020 Imperial report 34
    death_prob: tuple[float, ...] = (
        0.00002, 0.00002, 0.00010, 0.00032, 0.00098, 0.00265, 0.00766, 0.02439, 0.08292, 0.16190,
    )  # fmt: skip

    # --- vaccination (inactivated vaccine, two doses) -----------------------------------------------
    # Jara et al. 2021 NEJM 385:875 (CoronaVac, Chile) give 65.9 % against confirmed COVID-19 and 87.5 %
    # against hospitalisation; split here into the three stages the model has. The share acting on
    # infection is an assumption; the other two follow so that the products match Jara's figures.
    # reduction of susceptibility, dimensionless; assumption (see above)
    vaccine_infection_reduction: float = 0.40
    # reduction of the chance of symptoms once infected, dimensionless; 1 - 0.341 / 0.60 (Jara et al.)
    vaccine_symptom_reduction: float = 0.43
    # reduction of the chance of severe illness once symptomatic, dimensionless; 1 - 0.125 / 0.341
    vaccine_severe_reduction: float = 0.63
    # days from the last dose to protection, days; Jara et al. 2021 count people as fully immunised
    # 14 days after the second dose
    vaccine_days_to_protection: int = 14

    # --- start ------------------------------------------------------------------------------------
    # infections seeded on day 0, people; Covasim default pop_infected
    initial_infections: int = 20

    def band_tables(self) -> BandTables:
        """Per-age-band arrays as the kernels use them, with conditional (step-to-step) probabilities."""
        symptomatic = np.asarray(self.symptomatic_prob, dtype=np.float64)
        severe = np.asarray(self.severe_prob, dtype=np.float64)
        critical = np.asarray(self.critical_prob, dtype=np.float64)
        death = np.asarray(self.death_prob, dtype=np.float64)
        lengths = {len(self.age_band_lower), len(self.susceptibility), len(symptomatic), len(severe)}
        lengths |= {len(critical), len(death)}
        if len(lengths) != 1:
            raise ValueError("every age-band table must have one value per band in age_band_lower")
        # Covasim stores prognoses as absolute probabilities and converts them to conditional ones;
        # the kernels draw each step given the previous one, so they need the conditional form.
        return BandTables(
            lower=np.asarray(self.age_band_lower, dtype=np.float64),
            susceptibility=np.asarray(self.susceptibility, dtype=np.float64),
            symptomatic=symptomatic,
            severe_given_symptomatic=_ratio(severe, symptomatic),
            critical_given_severe=_ratio(critical, severe),
            death_given_critical=_ratio(death, critical),
        )

    def duration_table(self) -> NDArray[np.float64]:
        """(mu, sigma) of the underlying normal for each duration, in the order the kernels use."""
        durations = (
            self.exposed_to_infectious,
            self.infectious_to_symptomatic,
            self.symptomatic_to_severe,
            self.severe_to_critical,
            self.asymptomatic_to_recovered,
            self.mild_to_recovered,
            self.severe_to_recovered,
            self.critical_to_recovered,
            self.critical_to_death,
        )
        return np.asarray([d.underlying_normal() for d in durations], dtype=np.float64)


def _ratio(numerator: NDArray[np.float64], denominator: NDArray[np.float64]) -> NDArray[np.float64]:
    out = np.zeros_like(numerator)
    np.divide(numerator, denominator, out=out, where=denominator > 0)
    return np.clip(out, 0.0, 1.0)


class BandTables(NamedTuple):
    """Age-band tables in kernel form."""

    lower: NDArray[np.float64]
    susceptibility: NDArray[np.float64]
    symptomatic: NDArray[np.float64]
    severe_given_symptomatic: NDArray[np.float64]
    critical_given_severe: NDArray[np.float64]
    death_given_critical: NDArray[np.float64]


# Covasim's default age structure (covasim/defaults.py default_age_data: Seattle 2018 demographics), as
# lower band edges in years and shares of the population. Used by the benchmark so that both simulators
# see the same ages; callers of the platform pass their own national pyramid.
COVASIM_AGE_BAND_LOWER = (0, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55, 60, 65, 70, 75, 80, 85, 90)
COVASIM_AGE_SHARES = (
    0.0605, 0.0607, 0.0566, 0.0557, 0.0612, 0.0843, 0.0848, 0.0764, 0.0697, 0.0701,
    0.0681, 0.0653, 0.0591, 0.0453, 0.0312, 0.02016, 0.01344, 0.01008, 0.00672,
)  # fmt: skip
# upper age (exclusive) of the last band, years; Covasim default_age_data ends at 99
COVASIM_MAX_AGE = 100
