"""Surveillance use cases for configuration and reading: channels, detector configurations, fusion rules,
neighbours and locations, notifier endpoints, pull sources, signals, the signal board and series charts.

Ingest lives in ``observations``, detector runs in ``runner``, the alert workflow in ``alerts``.

Configuration rows belong to a jurisdiction (``jpath``; "/" for the built-in ones). A user sees those of
their own subtree and those defined above them (which apply to them); they change only those of their
subtree. Everything that is about an area (observations, results, alerts) is limited to the caller's
subtree with ``core.scope.under``.

The package holds one module per use case; this module is its public face (callers import from
``fangkong.surveillance.service`` as before):

- :mod:`.common`: the limits, what a user sees and may change, switching a row on and off;
- :mod:`.defaults`: the built-in channels and fusion rules, seeded on first use;
- :mod:`.channels`: the channels, a user-defined channel;
- :mod:`.detectors`: detector configurations, with their method and parameters checked;
- :mod:`.fusion_rules`: the fusion rules, a user-defined rule;
- :mod:`.neighbours`: the neighbours fusion uses and the areas' locations;
- :mod:`.connections`: notifier endpoints and pull sources;
- :mod:`.signals`: the signals, the signal board, counts, detector runs;
- :mod:`.charts`: the series chart behind a signal.
"""

from __future__ import annotations

from fangkong.surveillance.daily import alert_figures
from fangkong.surveillance.service.channels import (
    ChannelInput,
    create_channel,
    get_channel,
    list_channels,
    set_channel_active,
)
from fangkong.surveillance.service.charts import CHART_PERIODS, SeriesView, series_view
from fangkong.surveillance.service.common import (
    _SWITCH_NAMES as _SWITCH_NAMES,
)
from fangkong.surveillance.service.common import (
    CODE_PATTERN,
    MAX_PAGE_SIZE,
    ROOT,
    can_see,
    visible,
)
from fangkong.surveillance.service.connections import (
    create_endpoint,
    create_pull_source,
    get_pull_source,
    list_endpoints,
    list_pull_sources,
)
from fangkong.surveillance.service.defaults import ensure_defaults, rule_spec
from fangkong.surveillance.service.detectors import (
    TRIAL_YEARS,
    check_detector,
    create_config,
    get_config,
    list_configs,
    set_config_active,
)
from fangkong.surveillance.service.fusion_rules import (
    RuleInput,
    create_rule,
    get_rule,
    list_rules,
    set_rule_active,
)
from fangkong.surveillance.service.neighbours import (
    LocationInput,
    jurisdiction_in_scope,
    neighbours_of,
    set_locations,
    set_neighbours,
)
from fangkong.surveillance.service.signals import (
    BOARD_WINDOW_DAYS,
    BoardRow,
    SignalRow,
    areas_of_level,
    board,
    list_runs,
    list_signals,
    signal_counts_by_channel,
)

# The public face, with the day's alert figures (from ``daily``) the daily closure has always read here.
# ``_SWITCH_NAMES``, imported ``as`` itself above, stays reachable for the audit-label check.
__all__ = [
    "BOARD_WINDOW_DAYS",
    "CHART_PERIODS",
    "CODE_PATTERN",
    "MAX_PAGE_SIZE",
    "ROOT",
    "TRIAL_YEARS",
    "BoardRow",
    "ChannelInput",
    "LocationInput",
    "RuleInput",
    "SeriesView",
    "SignalRow",
    "alert_figures",
    "areas_of_level",
    "board",
    "can_see",
    "check_detector",
    "create_channel",
    "create_config",
    "create_endpoint",
    "create_pull_source",
    "create_rule",
    "ensure_defaults",
    "get_channel",
    "get_config",
    "get_pull_source",
    "get_rule",
    "jurisdiction_in_scope",
    "list_channels",
    "list_configs",
    "list_endpoints",
    "list_pull_sources",
    "list_rules",
    "list_runs",
    "list_signals",
    "neighbours_of",
    "rule_spec",
    "series_view",
    "set_channel_active",
    "set_config_active",
    "set_locations",
    "set_neighbours",
    "set_rule_active",
    "signal_counts_by_channel",
    "visible",
]
