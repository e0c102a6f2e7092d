"""The one definition of a valid dose row: how each cell of a vaccination system's export is read, and
every error a row can have. Pure (no database), so the import, the single-dose API and the
unit tests share it.

Rows are shaped a chunk at a time, column by column: a column's distinct values are few (dates, products,
sites, lots, dose numbers), so each is parsed once and remembered in a ``Memo`` that lives for the whole
file, and a million-row export costs a few dictionary look-ups per cell. Errors name the canonical
field (``given_on``); the import renames them to the header the file used (接种日期).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field

from fangkong.core.errors import RowError
from fangkong.core.i18n import Message
from fangkong.core.idnumber import normalise_id_text
from fangkong.vaccination.models import DoseKind, Platform

Cell = str | int | float | dt.date | dt.datetime | None

# Limits of the vaccination_doses columns (models.Dose).
MAX_PRODUCT = 60
MAX_SITE = 100
MAX_LOT = 40
# The largest dose number a person can have had in 2022: a three-dose primary series (recombinant
# protein, ZF2001) and two boosters make five (protocols.md §8, vax.intervals, vax.second_booster).
MAX_DOSE_NUMBER = 5
# China's emergency use of COVID-19 vaccines began in July 2020; an earlier date is a typo (0202 for 2022).
EARLIEST_DOSE_DAY = dt.date(2020, 7, 1)
# Vaccination is offered from 3 years of age (protocols.md §8, vax.cn10).
MIN_AGE_YEARS = 3
# A primary series has at most three doses (recombinant protein); a booster follows at least one dose
# (a one-dose vector series) and a second booster at least two.
MAX_PRIMARY_NUMBER = 3
MIN_NUMBER = {DoseKind.primary: 1, DoseKind.booster: 2, DoseKind.second_booster: 3}


# The COVID-19 vaccines given in China by 2022 and their platforms, matched as parts of the product name
# (a system may write 北京生物 or 新冠病毒灭活疫苗（Vero细胞）北京生物). Sources: the NMPA approvals of
# BBIBP-CorV, WIBP, CoronaVac, KCONVAC and IMBCAMS (inactivated), Ad5-nCoV / 克威莎 (adenovirus type-5
# vector, injected and inhaled) and ZF2001 / 智克威得 (recombinant protein); Comirnaty (mRNA) in Hong
# Kong and Macao.
PRODUCT_PLATFORMS: tuple[tuple[str, Platform], ...] = (
    ("灭活", Platform.inactivated),
    ("北京生物", Platform.inactivated),
    ("武汉生物", Platform.inactivated),
    ("国药", Platform.inactivated),
    ("sinopharm", Platform.inactivated),
    ("bbibp", Platform.inactivated),
    ("众爱可维", Platform.inactivated),
    ("科兴", Platform.inactivated),
    ("克尔来福", Platform.inactivated),
    ("coronavac", Platform.inactivated),
    ("sinovac", Platform.inactivated),
    ("康泰", Platform.inactivated),
    ("可维克", Platform.inactivated),
    ("医科院", Platform.inactivated),
    ("医学生物学研究所", Platform.inactivated),
    ("康希诺", Platform.vector),
    ("克威莎", Platform.vector),
    ("convidecia", Platform.vector),
    ("ad5", Platform.vector),
    ("腺病毒", Platform.vector),
    ("智飞", Platform.protein),
    ("智克威得", Platform.protein),
    ("zf2001", Platform.protein),
    ("重组蛋白", Platform.protein),
    ("复必泰", Platform.mrna),
    ("comirnaty", Platform.mrna),
    ("mrna", Platform.mrna),
)

PLATFORM_WORDS: dict[str, Platform] = {
    **{p.value: p for p in Platform},
    "灭活": Platform.inactivated,
    "灭活疫苗": Platform.inactivated,
    "载体": Platform.vector,
    "腺病毒载体": Platform.vector,
    "腺病毒载体疫苗": Platform.vector,
    "adenovirus vector": Platform.vector,
    "重组蛋白": Platform.protein,
    "重组蛋白疫苗": Platform.protein,
    "重组亚单位": Platform.protein,
    "recombinant protein": Platform.protein,
    "mrna疫苗": Platform.mrna,
}

KIND_WORDS: dict[str, DoseKind] = {
    **{k.value: k for k in DoseKind},
    "second booster": DoseKind.second_booster,
    "基础": DoseKind.primary,
    "基础免疫": DoseKind.primary,
    "全程": DoseKind.primary,
    "加强": DoseKind.booster,
    "加强免疫": DoseKind.booster,
    "第一剂加强": DoseKind.booster,
    "序贯加强": DoseKind.booster,
    "同源加强": DoseKind.booster,
    "第二剂加强": DoseKind.second_booster,
    "第二剂次加强": DoseKind.second_booster,
    "第二次加强": DoseKind.second_booster,
}

_NUMERALS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_DOSE_TEXT = re.compile(r"^第?\s*([0-9一二两三四五六七八九])\s*[剂针]?次?$")
_DAY_TEXT = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[ T].*)?$")
_COMPACT_DAY = re.compile(r"^(\d{4})(\d{2})(\d{2})$")


class Bad:
    """A cell that could not be read: the message that says why."""

    __slots__ = ("message",)

    def __init__(self, message: str | Message) -> None:
        self.message = message


def cell_text(value: Cell) -> str:
    """A cell as text; whole numbers lose Excel's '.0' (ID numbers and dose numbers typed as numbers)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value).strip()


# ------------------------------------------------------------------------------------------ one cell


def parse_id_number(value: Cell) -> str | Bad:
    text = cell_text(value)
    if not text:
        return Bad("is required")
    return text.upper() if text.isascii() else normalise_id_text(text)


def _required_text(limit: int) -> Callable[[Cell], str | Bad]:
    def parse(value: Cell) -> str | Bad:
        text = cell_text(value)
        if not text:
            return Bad("is required")
        if len(text) > limit:
            return Bad(Message("longer than {limit} characters", limit=limit))
        return text

    return parse


parse_product = _required_text(MAX_PRODUCT)
parse_site = _required_text(MAX_SITE)
parse_lot = _required_text(MAX_LOT)


def parse_platform(value: Cell) -> Platform | Bad | None:
    text = cell_text(value)
    if not text:
        return None
    found = PLATFORM_WORDS.get(text.lower().replace("_", " "))
    if found is None:
        return Bad(
            Message("“{value}” is not a platform (write 灭活, 腺病毒载体, 重组蛋白 or mRNA)", value=text[:20])
        )
    return found


def platform_of_product(product: str) -> Platform | None:
    """The platform a product name tells, if it names a product we know."""
    lowered = product.lower()
    for part, platform in PRODUCT_PLATFORMS:
        if part in lowered:
            return platform
    return None


def parse_dose_number(value: Cell) -> int | Bad:
    if isinstance(value, int | float) and not isinstance(value, bool) and float(value).is_integer():
        number = int(value)
    else:
        text = cell_text(value)
        if not text:
            return Bad("is required")
        match = _DOSE_TEXT.match(text)
        if match is None:
            return Bad(Message("“{value}” is not a dose number (1, 2, 3 ...)", value=text[:20]))
        digit = match.group(1)
        number = _NUMERALS[digit] if digit in _NUMERALS else int(digit)
    if not 1 <= number <= MAX_DOSE_NUMBER:
        return Bad(Message("dose number must be from 1 to {most}", most=MAX_DOSE_NUMBER))
    return number


def parse_kind(value: Cell) -> DoseKind | Bad:
    text = cell_text(value)
    if not text:
        return Bad("is required")
    found = KIND_WORDS.get(text.lower().replace("_", " ")) or KIND_WORDS.get(text.lower())
    if found is None:
        return Bad(
            Message("“{value}” is not a kind of dose (write 基础, 加强 or 第二剂加强)", value=text[:20])
        )
    return found


def parse_day(value: Cell, today: dt.date) -> dt.date | Bad:
    if isinstance(value, dt.datetime):
        day = value.date()
    elif isinstance(value, dt.date):
        day = value
    else:
        text = cell_text(value)
        if not text:
            return Bad("is required")
        match = _DAY_TEXT.match(text) or _COMPACT_DAY.match(text)
        try:
            if match is None:
                raise ValueError(text)
            day = dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        except ValueError:
            return Bad(Message("“{value}” is not a date (write it as 2022-07-01)", value=text[:20]))
    if day > today:
        return Bad(Message("{day} is in the future", day=day.isoformat()))
    if day < EARLIEST_DOSE_DAY:
        return Bad(Message("{day} is before COVID-19 vaccination began", day=day.isoformat()))
    return day


def kind_label(kind: DoseKind) -> Message:
    return {
        DoseKind.primary: Message("primary series", ctx="dose kind"),
        DoseKind.booster: Message("booster", ctx="dose kind"),
        DoseKind.second_booster: Message("second booster", ctx="dose kind"),
    }[kind]


def platform_label(platform: Platform) -> Message:
    return {
        Platform.inactivated: Message("an inactivated vaccine", ctx="vaccine platform"),
        Platform.vector: Message("an adenovirus vector vaccine", ctx="vaccine platform"),
        Platform.protein: Message("a recombinant protein vaccine", ctx="vaccine platform"),
        Platform.mrna: Message("an mRNA vaccine", ctx="vaccine platform"),
    }[platform]


def kind_error(kind: DoseKind, number: int) -> Message | None:
    """Why a dose number cannot be a dose of this kind, if it cannot."""
    if kind is DoseKind.primary and number > MAX_PRIMARY_NUMBER:
        return Message("a primary series has at most {most} doses", most=MAX_PRIMARY_NUMBER)
    if number < MIN_NUMBER[kind]:
        return Message("dose {number} cannot be a {kind} dose", number=number, kind=kind_label(kind))
    return None


def age_on(birth: dt.date, day: dt.date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def too_young(birth: dt.date, day: dt.date) -> Message | None:
    if day < birth:
        return Message("given before the person was born ({birth})", birth=birth.isoformat())
    if age_on(birth, day) < MIN_AGE_YEARS:
        return Message("the person was under {age} on that day", age=MIN_AGE_YEARS)
    return None


# ------------------------------------------------------------------------------------------ a chunk


@dataclass
class Memo:
    """Parsed values of each column, remembered for the whole file (dates, products, sites repeat)."""

    values: dict[str, dict[Hashable, object]] = field(default_factory=dict)

    def column(self, name: str, cells: Sequence[Cell], parse: Callable[[Cell], object]) -> list[object]:
        """``cells`` parsed: each distinct value once, then a look-up per cell (in C, through ``map``)."""
        memo = self.values.setdefault(name, {})
        for cell in set(cells) - memo.keys():
            memo[cell] = parse(cell)
        return list(map(memo.__getitem__, cells))


@dataclass
class ShapedChunk:
    """The rows of a chunk that passed, column by column, and the errors of those that did not."""

    rows: list[int] = field(default_factory=list)
    id_numbers: list[str] = field(default_factory=list)
    products: list[str] = field(default_factory=list)
    platforms: list[Platform] = field(default_factory=list)
    numbers: list[int] = field(default_factory=list)
    kinds: list[DoseKind] = field(default_factory=list)
    days: list[dt.date] = field(default_factory=list)
    sites: list[str] = field(default_factory=list)
    lots: list[str] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


def _combine_platform(product: object, given: object) -> object:
    if not isinstance(product, str) or isinstance(given, Bad):
        return given
    known = platform_of_product(product)
    if given is None:
        if known is None:
            return Bad(Message("needed: “{product}” is not a product we know", product=product))
        return known
    if known is not None and known is not given:
        return Bad(
            Message(
                "“{product}” is {platform}",
                product=product,
                platform=platform_label(known),
            )
        )
    return given


def _id_numbers(cells: Sequence[Cell]) -> tuple[list[object], bool]:
    """ID numbers trimmed and upper-cased, and whether any is bad; plain ASCII text (an export's) in C."""
    if set(map(type, cells)) == {str}:
        texts: list[str] = list(map(str.upper, map(str.strip, cells)))  # type: ignore[arg-type]
        if all(texts) and "".join(texts).isascii():
            return list(texts), False
    parsed: list[object] = [parse_id_number(c) for c in cells]
    return parsed, any(isinstance(v, Bad) for v in parsed)


def shape_rows(
    positions: Mapping[str, int],
    numbers: Sequence[int],
    table: Sequence[Sequence[Cell]],
    memo: Memo,
    today: dt.date,
) -> ShapedChunk:
    """Read every cell of the rows ``table`` (``numbers``: their rows in the file; ``positions``: each
    field's column); keep the good rows, word the bad ones."""
    n = len(numbers)
    shaped = ShapedChunk()
    if n == 0:
        return shaped
    widths = set(map(len, table))
    if len(widths) > 1:
        # Short rows are padded so that one transpose (in C) gives every column.
        width = max(widths)
        table = [[*r, *([None] * (width - len(r)))] if len(r) < width else r for r in table]
    transposed = list(zip(*table, strict=True))

    def cells(name: str) -> Sequence[Cell]:
        at = positions.get(name)
        return [None] * n if at is None or at >= len(transposed) else transposed[at]

    ids, bad_ids = _id_numbers(cells("id_number"))
    columns: dict[str, list[object]] = {
        "id_number": ids,
        "product": memo.column("product", cells("product"), parse_product),
        "platform": memo.column("platform", cells("platform"), parse_platform),
        "dose_number": memo.column("dose_number", cells("dose_number"), parse_dose_number),
        "kind": memo.column("kind", cells("kind"), parse_kind),
        "given_on": memo.column("given_on", cells("given_on"), lambda c: parse_day(c, today)),
        "site": memo.column("site", cells("site"), parse_site),
        "lot": memo.column("lot", cells("lot"), parse_lot),
    }
    pairs = set(zip(columns["product"], columns["platform"], strict=True))
    combined = {(p, g): _combine_platform(p, g) for p, g in pairs}
    columns["platform"] = [
        combined[p, g] for p, g in zip(columns["product"], columns["platform"], strict=True)
    ]
    kind_pairs = set(zip(columns["kind"], columns["dose_number"], strict=True))
    kind_errors = {
        (k, d): kind_error(k, d) for k, d in kind_pairs if isinstance(k, DoseKind) and isinstance(d, int)
    }
    bad_rows: dict[int, list[RowError]] = {}
    for name, values in columns.items():
        # Only a column that holds a bad value is walked (a clean export walks none).
        if not (bad_ids if name == "id_number" else any(type(v) is Bad for v in set(values))):
            continue
        for i, value in enumerate(values):
            if type(value) is Bad:
                bad_rows.setdefault(i, []).append(RowError(numbers[i], name, value.message))
    if any(kind_errors.values()):
        for i, pair in enumerate(zip(columns["kind"], columns["dose_number"], strict=True)):
            message = kind_errors.get(pair)  # type: ignore[arg-type]
            if message is not None:
                bad_rows.setdefault(i, []).append(RowError(numbers[i], "kind", message))
    keep = range(n) if not bad_rows else [i for i in range(n) if i not in bad_rows]
    for i in sorted(bad_rows):
        shaped.errors.extend(bad_rows[i])

    def kept(name: str) -> list[object]:
        values = columns[name]
        return values if not bad_rows else [values[i] for i in keep]

    shaped.rows = list(numbers) if not bad_rows else [numbers[i] for i in keep]
    shaped.id_numbers = kept("id_number")  # type: ignore[assignment]
    shaped.products = kept("product")  # type: ignore[assignment]
    shaped.platforms = kept("platform")  # type: ignore[assignment]
    shaped.numbers = kept("dose_number")  # type: ignore[assignment]
    shaped.kinds = kept("kind")  # type: ignore[assignment]
    shaped.days = kept("given_on")  # type: ignore[assignment]
    shaped.sites = kept("site")  # type: ignore[assignment]
    shaped.lots = kept("lot")  # type: ignore[assignment]
    return shaped
