"""Arrival registration (报备): the public form and API and staff channels, worklists, look-back.

A traveller says who they are, where they left (a county, and the risk-area unit if they know it), when
they left and arrived, and where they stay. Matching the origin against the areas as they stood on the
day of departure (``areas.rules.categories``) gives the category; the protocol in force where they stay
gives the plan, through ``PersonPlacedUnderManagement`` (source ``arrival:<id>``). The person is found
in the registry by ID number, or registered at the destination community.

One trip is one row however many channels report it: ``trip_key`` is the keyed hash of the ID number,
the departure day and the origin county, and each further report adds an ``ArrivalReport`` beside the
row, never a second worklist entry (residents complained of several calls a night). A report that shows
the trip worse than known (a named high area) moves the row up; nothing ever moves it down.

Public input is hostile. Every field is checked and each problem named with its field; text is
length-capped and stripped of markup; nothing is written unless everything is good; each client address
gets ``PUBLIC_SUBMISSIONS_PER_MINUTE`` submissions a minute (an in-memory limiter like the login
throttle's, on the platform clock). A public answer holds only what this submission itself says (its
category and measure), never what another report of the same trip or the registry knows.

Look-back: when an area is designated (``RiskAreaDesignated``), arrivals who left its county within the
travel-history window before are categorised again (:func:`arrivals_for_designated_area`); those whose
unit, given by name, is the new area are linked to it.

The package holds one module per use case; this module is its public face (callers use
``service.arrivals.<name>`` as before):

- :mod:`.input`: the report as submitted, its checks, text cleaning, the public channels' limiter;
- :mod:`.matching`: the origin county and unit, the areas as they stood, the category;
- :mod:`.registering`: registering a report (one trip one row), the plan a category gives;
- :mod:`.lookback`: the ``RiskAreaDesignated`` handler;
- :mod:`.worklists`: the community's worklist and its progress on each arrival.
"""

from __future__ import annotations

from fangkong.areas.service.arrivals.input import (
    MAX_ADDRESS,
    MAX_COMPANIONS,
    MAX_DAYS_AHEAD,
    MAX_DAYS_BACK,
    MAX_HOTEL,
    MAX_NAME,
    MAX_ORIGIN_TEXT,
    MAX_PLACES_VISITED,
    MAX_UNIT_NAME,
    PUBLIC_CHANNELS,
    PUBLIC_LIMITER,
    PUBLIC_SUBMISSIONS_PER_MINUTE,
    STAFF_CHANNELS,
    ArrivalInput,
    SubmissionLimiter,
    TooManySubmissions,
    check_report,
    clean_text,
)
from fangkong.areas.service.arrivals.input import (
    _Clean as _Clean,
)
from fangkong.areas.service.arrivals.lookback import arrivals_for_designated_area
from fangkong.areas.service.arrivals.matching import (
    _category as _category,
)
from fangkong.areas.service.arrivals.matching import (
    _exposure as _exposure,
)
from fangkong.areas.service.arrivals.matching import (
    _national_counties as _national_counties,
)
from fangkong.areas.service.arrivals.matching import area_histories, unit_key
from fangkong.areas.service.arrivals.registering import (
    PUBLIC_ANSWER,
    ArrivalReceipt,
    measure_of,
    plan_for,
    register_arrival,
)
from fangkong.areas.service.arrivals.registering import (
    _placement as _placement,
)
from fangkong.areas.service.arrivals.registering import (
    _upgrade as _upgrade,
)
from fangkong.areas.service.arrivals.worklists import (
    MAX_PAGE_SIZE,
    ArrivalView,
    WorklistPage,
    get,
    mark,
    worklist,
)

# The public face: every name the single module had, for the API, pages, CLI, wiring, demo, checkpoints and
# tests. ``PUBLIC_LIMITER`` is the one object ``input`` holds: resetting it here resets the one
# ``register_arrival`` counts against (nothing rebinds it; a test wanting another limiter passes its own).
__all__ = [
    "MAX_ADDRESS",
    "MAX_COMPANIONS",
    "MAX_DAYS_AHEAD",
    "MAX_DAYS_BACK",
    "MAX_HOTEL",
    "MAX_NAME",
    "MAX_ORIGIN_TEXT",
    "MAX_PAGE_SIZE",
    "MAX_PLACES_VISITED",
    "MAX_UNIT_NAME",
    "PUBLIC_ANSWER",
    "PUBLIC_CHANNELS",
    "PUBLIC_LIMITER",
    "PUBLIC_SUBMISSIONS_PER_MINUTE",
    "STAFF_CHANNELS",
    "ArrivalInput",
    "ArrivalReceipt",
    "ArrivalView",
    "SubmissionLimiter",
    "TooManySubmissions",
    "WorklistPage",
    "area_histories",
    "arrivals_for_designated_area",
    "check_report",
    "clean_text",
    "get",
    "mark",
    "measure_of",
    "plan_for",
    "register_arrival",
    "unit_key",
    "worklist",
]
