"""The built-in monitoring channels and fusion rules, seeded on first use.

The channel list is the one of issue 5 ("健全多点触发的监测预警机制，强化多渠道监测预警"). Report levels,
frequencies and units are this platform's defaults, not published facts: a user can define further
channels (for example case reports of one disease) with their own settings. Names are English message
ids, shown in Chinese through the message catalog.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fangkong.core.models import Level
from fangkong.surveillance.models import Aggregation, AlertLevel, Frequency, RuleKind
from fangkong.surveillance.rules import RESPONSE_HOURS_SINGLE_CASE, RESPONSE_HOURS_TEMPORAL

CUSTOM_KIND = "custom"


@dataclass(frozen=True)
class ChannelSpec:
    code: str
    name: str
    unit: str
    frequency: Frequency
    report_level: Level
    aggregation: Aggregation


DEFAULT_CHANNELS: tuple[ChannelSpec, ...] = (
    ChannelSpec(
        "case_reports", "Notifiable case reports", "cases", Frequency.daily, Level.county, Aggregation.sum
    ),
    # Fed from the platform's own case investigation (surveillance.from_tracing), not uploaded.
    ChannelSpec(
        "confirmed_cases",
        "Confirmed cases (from case investigation)",
        "cases",
        Frequency.daily,
        Level.county,
        Aggregation.sum,
    ),
    ChannelSpec(
        "fever_clinic", "Fever clinic visits", "visits", Frequency.daily, Level.township, Aggregation.sum
    ),
    ChannelSpec(
        "pharmacy_fever_cough",
        "Pharmacy sales of fever and cough medicine",
        "packs",
        Frequency.daily,
        Level.community,
        Aggregation.sum,
    ),
    ChannelSpec(
        "test_positives", "Test positives", "positives", Frequency.daily, Level.county, Aggregation.sum
    ),
    # A rate does not add up across areas: larger areas show the mean of their parts (unweighted).
    ChannelSpec(
        "test_positivity", "Test positivity", "percent", Frequency.daily, Level.county, Aggregation.mean
    ),
    ChannelSpec(
        "school_absenteeism", "School absenteeism", "pupils", Frequency.daily, Level.township, Aggregation.sum
    ),
    ChannelSpec(
        "wastewater", "Wastewater concentration", "copies/L", Frequency.weekly, Level.county, Aggregation.mean
    ),
    ChannelSpec(
        "entry_screening",
        "Entry screening positives",
        "people",
        Frequency.daily,
        Level.county,
        Aggregation.sum,
    ),
    ChannelSpec(
        "cold_chain",
        "Cold-chain environment positives",
        "samples",
        Frequency.weekly,
        Level.county,
        Aggregation.sum,
    ),
)

KINDS: tuple[str, ...] = (*(c.code for c in DEFAULT_CHANNELS), CUSTOM_KIND)

SINGLE_CASE_DISEASES: tuple[str, ...] = (
    "plague",
    "cholera",
    "sars",
    "polio",
    "hpai",
    "pulmonary_anthrax",
    "unexplained_pneumonia",
)
"""Diseases for which one case is a signal (fixed threshold): CIDARS 2008 notice, via reference
ALGORITHMS.md section 1 (plague, cholera, SARS, polio, human highly pathogenic avian influenza,
pulmonary anthrax, pneumonia of unknown cause)."""

FUSION_WINDOW_DAYS = 7
"""days within which signals of different channels count together (issue 5: "two channels in the same
or neighbouring areas within 7 days")."""

FUSION_MIN_CHANNELS = 2
"""distinct channels for a multi-channel alert (issue 5, same example)."""


@dataclass(frozen=True)
class RuleSpec:
    """A fusion rule as the fusion engine reads it (also the shape of the built-in defaults)."""

    name: str
    kind: RuleKind
    level: Level
    alert_level: AlertLevel
    response_hours: int
    min_channels: int = 1
    window_days: int = FUSION_WINDOW_DAYS
    neighbours: bool = False
    channels: tuple[str, ...] = ()
    diseases: tuple[str, ...] = field(default_factory=tuple)

    def params(self) -> dict[str, object]:
        return {
            "min_channels": self.min_channels,
            "window_days": self.window_days,
            "neighbours": self.neighbours,
            "channels": list(self.channels),
            "diseases": list(self.diseases),
        }


DEFAULT_RULES: tuple[RuleSpec, ...] = (
    RuleSpec(
        "Any channel's signal",
        RuleKind.single_channel,
        Level.county,
        AlertLevel.blue,
        RESPONSE_HOURS_TEMPORAL,
    ),
    RuleSpec(
        "Two channels in the same or neighbouring areas within 7 days",
        RuleKind.multi_channel,
        Level.county,
        AlertLevel.yellow,
        RESPONSE_HOURS_TEMPORAL,
        min_channels=FUSION_MIN_CHANNELS,
        neighbours=True,
    ),
    RuleSpec(
        "Single case of a listed disease",
        RuleKind.single_case,
        Level.county,
        AlertLevel.red,
        RESPONSE_HOURS_SINGLE_CASE,
        diseases=SINGLE_CASE_DISEASES,
    ),
)
