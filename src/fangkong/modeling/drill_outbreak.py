"""A drill's synthetic outbreak, read off one simulator run: who fell ill when, who infected whom, and the
schedule of what the drill feeds into the platform. Pure (arrays in, plain data out).

The simulator records when each person was infected and diagnosed, not by whom nor when symptoms began;
the drill fills those in the way investigators would:

* infector: among the person's contacts (household first, then class, workplace, community), the one
  infected most recently within ``INFECTOR_WINDOW_DAYS`` before, as a household investigation would
  conclude; nobody if no contact qualifies (an unlinked case, for source tracing to find);
* symptoms: with the age band's chance of symptoms (the simulator's parameters), onset after a
  lognormal incubation (the simulator's exposed-to-infectious plus infectious-to-symptomatic means),
  never after diagnosis; without symptoms the case is reported as an asymptomatic infection;
* the answer key of each case's close contacts: its household, class and workplace contacts in the
  population (the settings a close contact is defined by), at most ``MAX_KEY_CONTACTS``.

Day numbers are drill days (day 0 is the drill's start); hours are drill hours.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

import numpy as np
from numpy.typing import NDArray

from fangkong.analytics import sim

# Days before an infection within which an infected contact counts as its source, days; about two
# serial intervals (Nishiura et al. 2020: mean 4.7 days).
INFECTOR_WINDOW_DAYS: Final[int] = 10
# Close contacts listed per case in the answer key, people (a household plus a class or workplace group).
MAX_KEY_CONTACTS: Final[int] = 40
# Sd of the incubation period, days; Lauer et al. 2020 Ann Intern Med 172:577 (lognormal, 95 % within
# 2.2-11.5 days around a median of 5.1).
INCUBATION_SD_DAYS: Final[float] = 2.0
# Hour of the day a case report arrives, a signal's daily figure is sent, drill hours after midnight.
REPORT_HOUR: Final[float] = 9.0
SIGNAL_HOUR: Final[float] = 20.0
# Fever-clinic visits per 1,000 residents on an ordinary day, visits; assumption (background of the
# fever-clinic channel, which the drill's cases add to).
FEVER_VISITS_PER_1000: Final[float] = 1.5
# Share of people with symptoms who visit a fever clinic on their onset day, dimensionless; assumption.
FEVER_VISIT_SHARE: Final[float] = 0.6

LAYER_SETTINGS: Final[tuple[str, str, str, str]] = ("household", "classroom", "office", "other")
"""The exposure setting (protocol schema ``Setting``) of each contact layer."""


@dataclass(frozen=True)
class DrillCase:
    """One case the drill reports: an agent index, its days, and what investigators should find."""

    person: int
    infected_day: int
    onset_day: int | None
    diagnosed_day: int
    infector: int | None
    infector_setting: str | None
    contacts: tuple[tuple[int, str], ...] = field(default_factory=tuple)

    @property
    def symptomatic(self) -> bool:
        return self.onset_day is not None


@dataclass(frozen=True)
class Outbreak:
    cases: tuple[DrillCase, ...]
    infections: int
    fever_visits: tuple[int, ...]


def extract(
    result: sim.SimResult,
    population: sim.Population,
    params: sim.Parameters,
    rng: np.random.Generator,
    *,
    max_cases: int,
) -> Outbreak:
    """The reported cases (diagnosed people, earliest first, at most ``max_cases``) of one run."""
    infected = result.agents["infected_day"]
    diagnosed = result.agents["diagnosed_day"]
    order = np.flatnonzero(diagnosed >= 0)
    order = order[np.argsort(diagnosed[order], kind="stable")][:max_cases]
    onsets = symptom_onsets(infected, population, params, rng)
    cases: list[DrillCase] = []
    for person in order.tolist():
        t_inf, t_diag = int(infected[person]), int(diagnosed[person])
        onset = None if onsets[person] < 0 else min(t_diag, int(onsets[person]))
        infector, setting = _infector(person, t_inf, infected, population)
        cases.append(
            DrillCase(
                person=person,
                infected_day=t_inf,
                onset_day=onset,
                diagnosed_day=t_diag,
                infector=infector,
                infector_setting=setting,
                contacts=_key_contacts(person, population),
            )
        )
    return Outbreak(
        cases=tuple(cases),
        infections=int((infected >= 0).sum()),
        fever_visits=_fever_visits(onsets, result.days, population.size, rng),
    )


def symptom_onsets(
    infected: NDArray[np.int32], population: sim.Population, params: sim.Parameters, rng: np.random.Generator
) -> NDArray[np.int64]:
    """Onset day of everyone infected who has symptoms (-1: not infected or no symptoms)."""
    tables = params.band_tables()
    band = (np.searchsorted(tables.lower, population.age, side="right") - 1).clip(0)
    mean_incubation = params.exposed_to_infectious.mean_days + params.infectious_to_symptomatic.mean_days
    mu, sigma = sim.Duration(mean_incubation, INCUBATION_SD_DAYS).underlying_normal()
    symptomatic = rng.random(population.size) < tables.symptomatic[band]
    incubation = np.maximum(1, np.rint(np.exp(rng.normal(mu, sigma, population.size)))).astype(np.int64)
    return np.where((infected >= 0) & symptomatic, infected.astype(np.int64) + incubation, -1)


def _infector(
    person: int, day: int, infected: NDArray[np.int32], population: sim.Population
) -> tuple[int | None, str | None]:
    if day <= 0:
        return None, None  # a seed infection: imported, source unknown
    for layer, setting in zip(population.layers, LAYER_SETTINGS, strict=True):
        contacts = layer.contacts_of(person)
        when = infected[contacts]
        ok = (when >= 0) & (when < day) & (when >= day - INFECTOR_WINDOW_DAYS)
        if ok.any():
            candidates = contacts[ok]
            return int(candidates[int(np.argmax(when[ok]))]), setting
    return None, None


def _key_contacts(person: int, population: sim.Population) -> tuple[tuple[int, str], ...]:
    found: list[tuple[int, str]] = []
    seen = {person}
    for layer, setting in zip(population.layers[:3], LAYER_SETTINGS[:3], strict=True):
        for other in layer.contacts_of(person).tolist():
            if other not in seen and len(found) < MAX_KEY_CONTACTS:
                seen.add(other)
                found.append((int(other), setting))
    return tuple(found)


def _fever_visits(
    onsets: NDArray[np.int64], days: int, people: int, rng: np.random.Generator
) -> tuple[int, ...]:
    background = rng.poisson(FEVER_VISITS_PER_1000 * people / 1000.0, size=days)
    by_day = np.bincount(onsets[onsets >= 0], minlength=days)[:days]
    from_cases = rng.binomial(by_day, FEVER_VISIT_SHARE)
    return tuple(int(x) for x in background + from_cases)


@dataclass(frozen=True)
class ScheduledEvent:
    kind: str
    due_hours: float
    payload: dict[str, object]


def schedule(
    outbreak: Outbreak,
    person_ids: NDArray[np.int64],
    *,
    autopilot: bool,
    investigation_delay_hours: float,
) -> list[ScheduledEvent]:
    """What the drill feeds and when: case reports, the daily fever-clinic figure, and (on autopilot)
    the investigations a team would record. Agent indices become registry person ids."""
    reported = {c.person for c in outbreak.cases}
    events: list[ScheduledEvent] = []
    for case in outbreak.cases:
        due = case.diagnosed_day * 24.0 + REPORT_HOUR
        payload: dict[str, object] = {
            "person_id": int(person_ids[case.person]),
            "infected_day": case.infected_day,
            "onset_day": case.onset_day,
            "sampling_day": max(case.infected_day + 1, case.diagnosed_day - 1),
            "diagnosed_day": case.diagnosed_day,
            "infector_person_id": int(person_ids[case.infector]) if case.infector in reported else None,
            "infector_setting": case.infector_setting,
            "contacts": [[int(person_ids[p]), setting] for p, setting in case.contacts],
        }
        events.append(ScheduledEvent("case_report", due, payload))
        if autopilot:
            events.append(
                ScheduledEvent(
                    "investigation", due + investigation_delay_hours, {"person_id": payload["person_id"]}
                )
            )
    for day, visits in enumerate(outbreak.fever_visits):
        events.append(ScheduledEvent("signal", day * 24.0 + SIGNAL_HOUR, {"day": day, "value": visits}))
    return sorted(events, key=lambda e: (e.due_hours, e.kind))
