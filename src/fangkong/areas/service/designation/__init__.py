"""Risk areas: proposals from cases, the command centre's approval, the lifting clock, each area's timeline.

Proposals come from tracing's cases (read through ``tracing.service``): a case's home (its registry
household, in its community) and the places it frequents are high, places where it stayed are medium, as
the protocol in force where the case lives allows (``rules.proposals``). The command centre approves a
proposal (``RiskAreaDesignated``); from then on the protocol's clock (``rules.lifting``) says which change
falls due on which day, and what holds it back: a new infection in the area (``case_reported`` restarts the
clock) or a missing negative screening round of everyone on the final day, read from testing's rounds.
Applying a change publishes ``RiskAreaLifted``. Every step is a line of the area's timeline
(``RiskAreaChange``), and the rest of a county with any high or medium area is low: a read, not rows.

The package holds one module per use case; this module is its public face (callers use
``service.designation.<function>`` as before):

- :mod:`.reads`: the shared constants and checks, an area in scope, the lists, timelines and county
  levels, and the writer of a timeline line;
- :mod:`.proposing`: proposals from cases, the households of an area;
- :mod:`.approval`: designating or rejecting a proposal;
- :mod:`.lifting`: the changes due, applying one, the lifting calendar, the day-7 screening read;
- :mod:`.handlers`: tracing's ``CaseReported`` restarting an area's clock.
"""

from __future__ import annotations

from fangkong.areas.service.designation.approval import approve, reject
from fangkong.areas.service.designation.handlers import case_reported
from fangkong.areas.service.designation.lifting import (
    CalendarEntry,
    DueChange,
    apply_change,
    due_changes,
    lifting_calendar,
    negative_round_found,
)
from fangkong.areas.service.designation.lifting import (
    _rounds_covering as _rounds_covering,
)
from fangkong.areas.service.designation.proposing import (
    _link_case as _link_case,
)
from fangkong.areas.service.designation.proposing import (
    _whole_jurisdiction_area as _whole_jurisdiction_area,
)
from fangkong.areas.service.designation.proposing import (
    add_households,
    proposal_notice,
    propose_from_cases,
)
from fangkong.areas.service.designation.reads import (
    DESIGNATED,
    DOWNGRADED,
    HOUSEHOLDS,
    INFECTIONS,
    LIFTED,
    MAX_PAGE_SIZE,
    NEW_CASE,
    OPEN_STATES,
    PROPOSED,
    REJECTED,
    TRANSPORT,
    WHOLE_JURISDICTION,
    AreaFilter,
    CountyLevel,
    Page,
    actor,
    areas_in_force,
    cases_of,
    county_levels,
    get_area,
    households_of,
    list_areas,
    timeline,
)
from fangkong.areas.service.designation.reads import (
    _change as _change,
)
from fangkong.areas.service.designation.reads import (
    _reader as _reader,
)

# The public face: every name the single module had, for the API, pages, CLI, wiring, demo and drill; the
# private helpers imported ``as`` themselves above stay reachable where they always were.
__all__ = [
    "DESIGNATED",
    "DOWNGRADED",
    "HOUSEHOLDS",
    "INFECTIONS",
    "LIFTED",
    "MAX_PAGE_SIZE",
    "NEW_CASE",
    "OPEN_STATES",
    "PROPOSED",
    "REJECTED",
    "TRANSPORT",
    "WHOLE_JURISDICTION",
    "AreaFilter",
    "CalendarEntry",
    "CountyLevel",
    "DueChange",
    "Page",
    "actor",
    "add_households",
    "apply_change",
    "approve",
    "areas_in_force",
    "case_reported",
    "cases_of",
    "county_levels",
    "due_changes",
    "get_area",
    "households_of",
    "lifting_calendar",
    "list_areas",
    "negative_round_found",
    "proposal_notice",
    "propose_from_cases",
    "reject",
    "timeline",
]
