"""Drills (实战演练): a synthetic outbreak pushed through the real platform over accelerated time.

Starting a drill (:func:`start_drill`)

1. makes a sandbox township with a few communities under a real county, flagged ``is_sandbox`` and
   named 【演练】 on every screen (``core.jurisdictions.create_sandbox``), on a path outside every real
   subtree (``core.scope``), so no real list, figure or audit read reaches its rows;
2. from then on acts as the drill itself (:func:`drill_principal`: an account ``drill:<id>`` bound to
   the sandbox), puts the drill's protocol in force there, and registers synthetic residents there
   through the registry's own CSV import;
3. runs the simulator on them (population from the registry, the strategy of the chosen protocol) and
   reads the outbreak off the run (:mod:`drill_outbreak`): who was diagnosed when, symptom onsets, who
   infected whom, each case's close contacts (the answer key);
4. schedules what the drill feeds: each case report on its diagnosis day, the sandbox's daily
   fever-clinic figure, and, when the drill plays the teams too (autopilot), each investigation.

Advancing a drill (:func:`advance`) feeds every event that has come due, as the drill, through the same
use cases a user calls: case reports and exposures through ``tracing.service``, fever-clinic figures
through ``surveillance.observations`` followed by a detection run, alert responses through
``surveillance.alerts``. Each event is fed in its own transaction, so one refused record does not undo
the others; the refusal is kept on the event. A realtime drill is advanced by a background clock
(:mod:`drill_ticker`); a facilitator may jump ahead (``to_hours``), which feeds events one by one at
their own drill times. The clock stops at the drill's end, and the drill is then finished.

Dates written into records are drill days on a calendar that ends today (``calendar_start``), so no
record is dated in the future whatever the speed; times of records are real times, turned into drill
hours through the drill clock (:mod:`drill_clock`) when the drill is scored (:mod:`drill_score`).

The package holds one module per use case; this module is its public face (callers import from
``fangkong.modeling.drills`` as before):

- :mod:`.requests`: the limits and defaults of a drill, and checking a request to start one;
- :mod:`.acting`: who acts in a drill (the drill's own account) and which capabilities it can reach;
- :mod:`.start`: starting a drill: its sandbox, synthetic residents, outbreak and schedule;
- :mod:`.reads`: reading drills: one, the list, the drill clock and the status of what was fed;
- :mod:`.advancing`: advancing and stopping a drill (each due event in its own transaction);
- :mod:`.feeding`: feeding one event through the platform's own use cases.
"""

from __future__ import annotations

from fangkong.modeling.drills.acting import capability_available, drill_principal
from fangkong.modeling.drills.advancing import AdvanceReport, advance, stop_drill
from fangkong.modeling.drills.reads import (
    DrillStatusView,
    KindCount,
    drill_hours,
    end_hours,
    get_drill,
    list_drills,
    marks_of,
    status,
)
from fangkong.modeling.drills.requests import (
    DEFAULT_ALERT_RESPONSE_DELAY_HOURS,
    DEFAULT_COMMUNITIES,
    DEFAULT_INITIAL_INFECTIONS,
    DEFAULT_INVESTIGATION_DELAY_HOURS,
    DEFAULT_MAX_CASES,
    DEFAULT_SPEED,
    DETECTOR_METHOD,
    EXPOSURE_HOUR,
    FEVER_CHANNEL,
    MAX_DAYS,
    MAX_OUTBREAK_DRAWS,
    MAX_PEOPLE,
    MAX_SPEED,
    MAX_TAKEN_SHARE,
    MIN_CASES,
    MIN_DAYS,
    MIN_PEOPLE,
    MIN_SPEED,
    RESIDENT_DRAWS,
    DrillRequest,
    check_request,
)
from fangkong.modeling.drills.start import resident_seed, start_drill

__all__ = [
    "DEFAULT_ALERT_RESPONSE_DELAY_HOURS",
    "DEFAULT_COMMUNITIES",
    "DEFAULT_INITIAL_INFECTIONS",
    "DEFAULT_INVESTIGATION_DELAY_HOURS",
    "DEFAULT_MAX_CASES",
    "DEFAULT_SPEED",
    "DETECTOR_METHOD",
    "EXPOSURE_HOUR",
    "FEVER_CHANNEL",
    "MAX_DAYS",
    "MAX_OUTBREAK_DRAWS",
    "MAX_PEOPLE",
    "MAX_SPEED",
    "MAX_TAKEN_SHARE",
    "MIN_CASES",
    "MIN_DAYS",
    "MIN_PEOPLE",
    "MIN_SPEED",
    "RESIDENT_DRAWS",
    "AdvanceReport",
    "DrillRequest",
    "DrillStatusView",
    "KindCount",
    "advance",
    "capability_available",
    "check_request",
    "drill_hours",
    "drill_principal",
    "end_hours",
    "get_drill",
    "list_drills",
    "marks_of",
    "resident_seed",
    "start_drill",
    "status",
    "stop_drill",
]
