"""Pure decisions of case investigation and tracing: vocabularies, reclassification, deadlines, time.

No database and no web here: what the words in a line list mean, which reclassifications are allowed,
which contact categories are placed under management, when each step of an assist request is due, and
how wall-clock times typed by investigators become stored instants.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from dataclasses import dataclass
from typing import TypeVar, get_args

from fangkong.core import clock
from fangkong.core.i18n import Message, as_message
from fangkong.protocol.classifier import Outcome as ClassifierOutcome
from fangkong.protocol.schema import Protocol, Setting
from fangkong.tracing.models import Certainty, Classification, ContactCategory, Outcome, PlaceKind

_T = TypeVar("_T")

SETTINGS: tuple[str, ...] = tuple(s for s in get_args(Setting) if s != "any")

# Words a line list uses for exposure settings, mapped to the protocol's settings (schema.Setting).
SETTING_WORDS: dict[str, str] = {
    **{s: s for s in SETTINGS},
    **{s.replace("_", " "): s for s in SETTINGS},
    "family": "household",
    "home": "household",
    "同住": "household",
    "家庭": "household",
    "家人": "household",
    "共同居住": "household",
    "照护": "caregiving",
    "陪护": "caregiving",
    "care": "caregiving",
    "healthcare": "clinical_care",
    "hospital": "clinical_care",
    "诊疗": "clinical_care",
    "医疗": "clinical_care",
    "医护": "clinical_care",
    "就诊": "visit",
    "探视": "visit",
    "探访": "visit",
    "拜访": "visit",
    "work": "office",
    "office": "office",
    "同事": "office",
    "办公室": "office",
    "工作": "office",
    "车间": "workshop",
    "电梯": "lift",
    "elevator": "lift",
    "食堂": "canteen",
    "school": "classroom",
    "教室": "classroom",
    "同学": "classroom",
    "学校": "classroom",
    "meal": "shared_meal",
    "聚餐": "shared_meal",
    "共餐": "shared_meal",
    "用餐": "shared_meal",
    "娱乐": "entertainment",
    "棋牌": "entertainment",
    "ktv": "entertainment",
    "环境": "contaminated_environment",
    "污染环境": "contaminated_environment",
    "flight": "aircraft",
    "plane": "aircraft",
    "飞机": "aircraft",
    "航班": "aircraft",
    "火车": "train",
    "高铁": "train",
    "动车": "train",
    "列车": "train",
    "船": "ship",
    "轮船": "ship",
    "公交": "bus",
    "公交车": "bus",
    "大巴": "bus",
    "客车": "bus",
    "汽车": "car",
    "出租车": "car",
    "网约车": "car",
    "taxi": "car",
    "商场": "mall",
    "超市": "market",
    "市场": "market",
    "农贸市场": "market",
    "公交站": "bus_stop",
    "地铁": "metro",
    "subway": "metro",
    "肢体接触": "physical_contact",
    "面对面": "face_to_face",
    "其他": "other",
    "其它": "other",
}

CLASSIFICATION_WORDS: dict[str, Classification] = {
    **{c.value: c for c in Classification},
    "疑似": Classification.suspected,
    "疑似病例": Classification.suspected,
    "确诊": Classification.confirmed,
    "确诊病例": Classification.confirmed,
    "无症状": Classification.asymptomatic,
    "无症状感染者": Classification.asymptomatic,
    "排除": Classification.excluded,
    "已排除": Classification.excluded,
}

CERTAINTY_WORDS: dict[str, Certainty] = {
    **{c.value: c for c in Certainty},
    "确定": Certainty.confirmed,
    "明确": Certainty.confirmed,
    "很可能": Certainty.probable,
    "较可能": Certainty.probable,
    "可能": Certainty.possible,
    "疑似": Certainty.possible,
}

CATEGORY_WORDS: dict[str, ContactCategory] = {
    **{c.value: c for c in ContactCategory},
    "close contact": ContactCategory.close_contact,
    "密接": ContactCategory.close_contact,
    "密切接触者": ContactCategory.close_contact,
    "次密接": ContactCategory.contact_of_contact,
    "密接的密接": ContactCategory.contact_of_contact,
    "contact of contact": ContactCategory.contact_of_contact,
    "一般接触者": ContactCategory.general_contact,
    "general contact": ContactCategory.general_contact,
    "非接触者": ContactCategory.not_a_contact,
}

OUTCOME_WORDS: dict[str, Outcome] = {
    **{o.value: o for o in Outcome},
    "治疗中": Outcome.under_treatment,
    "在院": Outcome.under_treatment,
    "alive": Outcome.under_treatment,
    "治愈": Outcome.recovered,
    "出院": Outcome.recovered,
    "痊愈": Outcome.recovered,
    "discharged": Outcome.recovered,
    "死亡": Outcome.died,
    "dead": Outcome.died,
    "death": Outcome.died,
}

PLACE_KIND_WORDS: dict[str, PlaceKind] = {
    **{k.value: k for k in PlaceKind},
    "场所": PlaceKind.venue,
    "地址": PlaceKind.address,
    "交通": PlaceKind.transport,
    "交通工具": PlaceKind.transport,
}

YES_WORDS = frozenset({"yes", "y", "true", "1", "是", "有", "输入", "境外输入", "imported"})
NO_WORDS = frozenset({"no", "n", "false", "0", "否", "无", "本土", "local", ""})

# Contact categories the protocol plans for: these are published as "placed under management".
MANAGED_CATEGORIES = frozenset(
    {ContactCategory.close_contact, ContactCategory.contact_of_contact, ContactCategory.general_contact}
)

# Which reclassifications are allowed; every change is kept in the case's history.
RECLASSIFICATIONS: dict[Classification, frozenset[Classification]] = {
    Classification.suspected: frozenset(
        {Classification.confirmed, Classification.asymptomatic, Classification.excluded}
    ),
    # An asymptomatic infection that develops symptoms is re-reported as confirmed (cn-9, protocols.md §2).
    Classification.asymptomatic: frozenset({Classification.confirmed, Classification.excluded}),
    Classification.confirmed: frozenset({Classification.excluded}),
    Classification.excluded: frozenset({Classification.suspected}),
}

# Classifications that are infections (contacts are traced for them, the chain counts them).
INFECTED = frozenset({Classification.confirmed, Classification.asymptomatic})


class RuleError(ValueError):
    """A value or a change the rules do not allow; the message says why, in the users' words.

    ``text`` is the ``Message`` a page renders in the reader's language; ``str()`` is the English.
    """

    def __init__(self, message: str | Message) -> None:
        self.text = as_message(message)
        super().__init__(str(self.text))


def _key(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().lower().replace("_", " ")


_NORMALISED: dict[int, dict[str, object]] = {}


def _lookup(words: dict[str, _T], text: str, what: str) -> _T:
    # Imports look up every row: the normalised vocabulary is built once per table.
    normalised = _NORMALISED.get(id(words))
    if normalised is None:
        normalised = _NORMALISED[id(words)] = {_key(k): v for k, v in words.items()}
    found = normalised.get(_key(text))
    if found is None:
        raise RuleError(Message("“{value}” is not a known {what}", value=text, what=Message(what)))
    return found  # type: ignore[return-value]


def parse_setting(text: str) -> str:
    try:
        return _lookup(SETTING_WORDS, text, "exposure setting")
    except RuleError:
        raise RuleError(
            Message(
                "“{value}” is not a known exposure setting (use one of: {choices})",
                value=text,
                choices=[Message(setting) for setting in SETTINGS],
            )
        ) from None


def parse_classification(text: str) -> Classification:
    return _lookup(CLASSIFICATION_WORDS, text, "classification (suspected, confirmed, asymptomatic)")


def parse_certainty(text: str) -> Certainty:
    return _lookup(CERTAINTY_WORDS, text, "certainty (confirmed, probable, possible)")


def parse_category(text: str) -> ContactCategory:
    return _lookup(
        CATEGORY_WORDS, text, "contact category (close_contact, contact_of_contact, general_contact)"
    )


def parse_outcome(text: str) -> Outcome:
    return _lookup(OUTCOME_WORDS, text, "outcome (under_treatment, recovered, died)")


def parse_place_kind(text: str) -> PlaceKind:
    return _lookup(PLACE_KIND_WORDS, text, "place kind (venue, address, transport)")


def parse_yes_no(text: str) -> bool:
    key = _key(text)
    if key in YES_WORDS:
        return True
    if key in NO_WORDS:
        return False
    raise RuleError(Message("“{value}” is neither yes nor no", value=text))


def check_reclassification(current: Classification, new: Classification) -> None:
    if new == current:
        raise RuleError(
            Message("the case is already {classification}", classification=Message(current.value))
        )
    if new not in RECLASSIFICATIONS[current]:
        allowed = [Message(c.value) for c in sorted(RECLASSIFICATIONS[current], key=lambda c: c.value)]
        raise RuleError(
            Message(
                "a {current} case can become {allowed}, not {new}",
                current=Message(current.value),
                allowed=allowed or Message("nothing"),
                new=Message(new.value),
            )
        )


def category_of(outcome: ClassifierOutcome) -> ContactCategory:
    if outcome == "not_identified":
        return ContactCategory.not_classified
    return ContactCategory(outcome)


# ------------------------------------------------------------------------------------------ time


_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y年%m月%d日")
_TIME_FORMATS = (
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y年%m月%d日 %H:%M",
    "%Y年%m月%d日%H时%M分",
    "%Y.%m.%d %H:%M",
)


# The common spellings (2022-07-01, 2022/7/1 18:30, 2022-07-01T18:30:00) are read without strptime,
# which costs ~20 us a try: large imports parse two times a row.
_ISO = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?")


def _fast(text: str) -> tuple[dt.datetime, bool] | None:
    found = _ISO.fullmatch(text)
    if found is None:
        return None
    year, month, day, hour, minute, second = found.groups()
    try:
        at = dt.datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0))
    except ValueError:
        return None
    return at, hour is None


def parse_date(value: object) -> dt.date:
    """A date from a spreadsheet cell: a date, a datetime, or text such as 2022-07-01 or 2022年7月1日."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = unicodedata.normalize("NFKC", str(value)).strip()
    fast = _fast(text)
    if fast is not None and fast[1]:
        return fast[0].date()
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise RuleError(Message("“{value}” is not a date (write it as 2022-07-01)", value=text))


@dataclass(frozen=True, slots=True)
class WallTime:
    """A local wall-clock time as typed; ``whole_day`` when only a date was given."""

    at: dt.datetime
    whole_day: bool


def parse_wall_time(value: object) -> WallTime:
    """A local time from a cell: a datetime, a date (the whole day), or text such as 2022-07-01 18:30."""
    if isinstance(value, dt.datetime):
        local = value if value.tzinfo is None else clock.as_local(value)
        # A spreadsheet date cell arrives as midnight: it means the whole day, as a typed date does.
        return WallTime(local, local.time() == dt.time.min and value.tzinfo is None)
    if isinstance(value, dt.date):
        return WallTime(dt.datetime.combine(value, dt.time.min), True)
    text = unicodedata.normalize("NFKC", str(value)).strip()
    fast = _fast(text)
    if fast is not None:
        return WallTime(*fast)
    for fmt in _TIME_FORMATS:
        try:
            return WallTime(dt.datetime.strptime(text, fmt), False)
        except ValueError:
            continue
    try:
        return WallTime(dt.datetime.combine(parse_date(text), dt.time.min), True)
    except RuleError:
        raise RuleError(
            Message("“{value}” is not a time (write it as 2022-07-01 18:30, or a date)", value=text)
        ) from None


# Dates before this in a line list are typing errors (and would push window arithmetic past year 1).
EARLIEST_DATE = dt.date(1900, 1, 1)
# Typed times may run a day ahead of the clock (a device set a little fast, a report dated tomorrow).
FUTURE_SLACK = dt.timedelta(days=1)


def date_problem(day: dt.date, today: dt.date | None = None) -> Message | None:
    """Why a date cannot be a fact of an investigation (None when it can)."""
    if day < EARLIEST_DATE:
        return Message("{value} is before {earliest}", value=day, earliest=EARLIEST_DATE)
    if day > (today or clock.today()):
        return Message("{value} is in the future", value=day)
    return None


def clamp_day(day: dt.date) -> dt.date:
    """A filter date brought into the span dates can have (filters are forgiving, facts are checked)."""
    return min(max(day, EARLIEST_DATE), clock.today() + FUTURE_SLACK)


def time_problem(local: dt.datetime, now: dt.datetime | None = None) -> Message | None:
    """Why a local wall-clock time cannot be a fact of an investigation (None when it can)."""
    if local.date() < EARLIEST_DATE:
        return Message("{value} is before {earliest}", value=f"{local:%Y-%m-%d}", earliest=EARLIEST_DATE)
    latest = (now or clock.local_now()) + FUTURE_SLACK
    if local > latest:
        return Message("{value} is in the future", value=f"{local:%Y-%m-%d %H:%M}")
    return None


def day_end(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(23, 59, 59))


# ------------------------------------------------------------------------------------------ places


_SPACES = re.compile(r"[\s·,，。.、\-_/()（）]+")


def place_key(kind: PlaceKind, place_name: str, address: str | None, transport_no: str | None) -> str:
    """One key per place or vehicle, whatever the spelling: two cases' visits meet on it."""
    if kind is PlaceKind.transport and transport_no:
        basis = "t|" + _SPACES.sub("", unicodedata.normalize("NFKC", transport_no).upper())
    else:
        basis = "p|" + _SPACES.sub("", unicodedata.normalize("NFKC", f"{place_name}|{address or ''}").lower())
    return hashlib.sha256(basis.encode("utf-8")).hexdigest()[:32]


# ------------------------------------------------------------------------------------------ subjects


def subject_key(person_id: int | None, unidentified_id: int | None) -> str:
    """``p:<people.id>`` or ``u:<unidentified id>``: one column that says who, whichever record holds them."""
    if person_id is not None:
        return f"p:{person_id}"
    if unidentified_id is not None:
        return f"u:{unidentified_id}"
    raise RuleError("a subject needs a registry person or an unidentified-person record")


def parse_subject_key(key: str) -> tuple[int | None, int | None]:
    kind, _, number = key.partition(":")
    if kind == "p":
        return int(number), None
    if kind == "u":
        return None, int(number)
    raise RuleError(f"{key!r} is not a subject key")


# ------------------------------------------------------------------------------------------ assist requests

# Hours each step of an assist request (协查) is given, counted from when it was sent. The national
# 9th-edition clause is not found (protocols.md §7, epi.9th_national: U), so these follow the local
# lists quoted there. Acknowledge within 2 h and locate within 4 h: Shanghai "2+4+24" (epi.2_4_24, L, S21).
ASSIST_ACKNOWLEDGE_HOURS = 2
ASSIST_LOCATE_HOURS = 4
# Under management within 8 h (close contacts) or 12 h (contacts of contacts): epi.local_list (L, S22);
# the protocol's own deadlines.close_contact_transfer_hours / contact_of_contact_transfer_hours win.
ASSIST_PLAN_HOURS_CLOSE = 8
ASSIST_PLAN_HOURS_SECOND_RING = 12
# General contacts have no transfer deadline in any source; the 24 h report-back bounds them.
ASSIST_PLAN_HOURS_GENERAL = 24
# Report back within 24 h: the "24" of Shanghai "2+4+24" (epi.2_4_24, L, S21).
ASSIST_REPORT_HOURS = 24


@dataclass(frozen=True, slots=True)
class AssistDeadlines:
    acknowledge: dt.datetime
    locate: dt.datetime
    apply_plan: dt.datetime
    report: dt.datetime


def assist_deadlines(
    sent_at: dt.datetime, category: ContactCategory, protocol: Protocol | None
) -> AssistDeadlines:
    """When each step of a request is due; the protocol's transfer deadlines override the defaults."""
    plan_hours = ASSIST_PLAN_HOURS_GENERAL
    deadlines = protocol.deadlines if protocol is not None else None
    if category is ContactCategory.close_contact:
        plan_hours = (
            deadlines.close_contact_transfer_hours if deadlines else None
        ) or ASSIST_PLAN_HOURS_CLOSE
    elif category is ContactCategory.contact_of_contact:
        given = deadlines.contact_of_contact_transfer_hours if deadlines else None
        plan_hours = given or ASSIST_PLAN_HOURS_SECOND_RING
    report_hours = max(ASSIST_REPORT_HOURS, plan_hours)
    hours = dt.timedelta(hours=1)
    return AssistDeadlines(
        acknowledge=sent_at + ASSIST_ACKNOWLEDGE_HOURS * hours,
        locate=sent_at + ASSIST_LOCATE_HOURS * hours,
        apply_plan=sent_at + plan_hours * hours,
        report=sent_at + report_hours * hours,
    )


# ------------------------------------------------------------------------------------------ source tracing

# The incubation window a candidate infector's exposure must fall in (days before the case's onset).
# Upper bound: the protocol's source_tracing.lookback_days when it has one (cn-9: 14 d, §2 def.suspected,
# C, S8); else 14 d, the same 14-day epidemiological history. Lower bound: 1 d. Lauer et al. 2020 (Ann
# Intern Med 172:577) put the 2.5th percentile of the incubation period at 2.2 d for the ancestral
# strain, and Omicron's is shorter (mean 3.4 d, Wu et al. 2022, JAMA Netw Open 5:e2228008), so 1 d keeps
# the earliest plausible infections in view.
INCUBATION_MIN_DAYS = 1
INCUBATION_MAX_DAYS = 14
# Lognormal incubation period used to weigh candidates inside the window: log-mean 1.621, log-sd 0.418
# (Lauer et al. 2020, Ann Intern Med 172:577, Table 2: median 5.1 d).
INCUBATION_LOG_MEAN = 1.621
INCUBATION_LOG_SD = 0.418


@dataclass(frozen=True, slots=True)
class IncubationWindow:
    min_days: int
    max_days: int
    log_mean: float
    log_sd: float
    source: str


def incubation_window(protocol: Protocol | None) -> IncubationWindow:
    """The window from the protocol (parameters ``incubation_min_days``/``incubation_max_days`` or
    ``source_tracing.lookback_days``) or the documented defaults above."""
    low, high, source = (
        INCUBATION_MIN_DAYS,
        INCUBATION_MAX_DAYS,
        "default (Lauer et al. 2020; 14-day history)",
    )
    if protocol is not None:
        params = protocol.parameters
        if protocol.source_tracing is not None:
            high, source = (
                protocol.source_tracing.lookback_days,
                f"{protocol.id} source_tracing.lookback_days",
            )
        for name in ("incubation_max_days", "incubation_min_days"):
            if name in params and isinstance(params[name].effective, int):
                value = int(params[name].effective)  # type: ignore[arg-type]
                if name == "incubation_max_days":
                    high, source = value, f"{protocol.id} parameter {name}"
                else:
                    low = value
    return IncubationWindow(low, max(low, high), INCUBATION_LOG_MEAN, INCUBATION_LOG_SD, source)


def new_case_ref(county_code: str, reported: dt.date, serial: int) -> str:
    """A case number when the investigator gives none: county code, report date, serial."""
    return f"{county_code}-{reported:%Y%m%d}-{serial:05d}"
