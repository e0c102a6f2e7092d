"""Use cases of the modelling bench: strategy comparisons (the account), case counts and Rt per area.

Drills have their own module (:mod:`fangkong.modeling.drills`). Every function takes the caller's
session (the API, page or CLI opens the unit of work); reads of jurisdiction-linked rows go through
``core.scope``; a row outside the caller's subtree is "not found"; every write is audited.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Final, Literal

import numpy as np
from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from fangkong.core import audit, clock
from fangkong.core.auth import Principal
from fangkong.core.csvtext import read_csv_text
from fangkong.core.errors import InvalidInput, NotFound, RowError
from fangkong.core.i18n import Message
from fangkong.core.models import Jurisdiction
from fangkong.core.scope import path_in_scope, under
from fangkong.modeling.models import CaseCount, CountBasis, JobKind, JobStatus, ModelingJob

MAX_PAGE_SIZE: Final[int] = 200

# --- limits of a comparison asked for through the web (the CLI has none but the machine's) ----------
# Longest simulation, days.
MAX_DAYS: Final[int] = 365
# Most seeds per arm.
MAX_SEEDS: Final[int] = 50
# Largest generated population, people (10 million fit in memory; the bench measures it).
MAX_SIZE: Final[int] = 10_000_000
# Most arms in one comparison.
MAX_ARMS: Final[int] = 10
# Default number of days simulated, days; long enough for an unchecked outbreak in a city district to
# run its course at Covasim's default transmission (assumption).
DEFAULT_DAYS: Final[int] = 120
# Default seeds per arm; five paired runs keep the 90 % ranges of the differences narrow (assumption).
DEFAULT_SEEDS: Final[tuple[int, ...]] = (1, 2, 3, 4, 5)
# Default generated population, people.
DEFAULT_SIZE: Final[int] = 100_000

# --- Rt ------------------------------------------------------------------------------------------
# Serial interval of SARS-CoV-2, days: mean 4.7, sd 2.9; Nishiura, Linton & Akhmetzhanov 2020, Int J
# Infect Dis 93:284 (28 infector-infectee pairs).
DEFAULT_SI_MEAN: Final[float] = 4.7
DEFAULT_SI_SD: Final[float] = 2.9
# Most days of counts read for one Rt page, days.
MAX_RT_DAYS: Final[int] = 730
# Why a window shows no Rt: too few cases in it for a usable posterior (coefficient of variation above
# analytics.rt.MAX_POSTERIOR_CV, EpiEstim's cv_posterior 0.3); the API's ``reason`` field carries it.
RT_TOO_FEW_CASES: Final[str] = "too_few_cases"
# Largest uploaded count file, bytes.
MAX_UPLOAD_BYTES: Final[int] = 20 * 1024 * 1024
# Largest count accepted in one row, cases (a bound well above any real daily count of one place).
MAX_DAILY_COUNT: Final[int] = 10_000_000

BEHAVIOUR_FIELDS: Final[tuple[str, ...]] = (
    "symptomatic_test_prob",
    "tracing_capacity",
    "lockdown_reduction",
    "round_coverage",
    "vaccine_doses_per_day",
)
"""What a scenario may change about behaviour (see ``strategies.Behaviour``)."""


def actor(principal: Principal, ip: str = "") -> audit.Actor:
    return audit.Actor(principal.user_id, principal.username, ip or "web")


@dataclass(frozen=True)
class Page:
    items: list[Any]
    total: int
    page: int
    size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))


def _paging(page: int, size: int) -> tuple[int, int]:
    return max(1, page), max(1, min(size, MAX_PAGE_SIZE))


def scope_node(session: Session, principal: Principal, jurisdiction_id: int | None) -> Jurisdiction:
    """The jurisdiction asked for (default: the caller's own), if it lies in the caller's scope."""
    node = session.get(Jurisdiction, jurisdiction_id or principal.jurisdiction_id)
    if node is None or not path_in_scope(node.path, principal.jpath):
        raise NotFound(f"jurisdiction {jurisdiction_id} not found")
    return node


# ============================================================================ strategy comparison


PopulationSource = Literal["registry", "generated"]


@dataclass(frozen=True)
class ComparisonRequest:
    """A scenario: arms (protocol ids or ``none``), population, days, seeds, prices, behaviour."""

    arms: tuple[str, ...]
    population: PopulationSource = "generated"
    size: int = DEFAULT_SIZE
    jurisdiction_id: int | None = None
    days: int = DEFAULT_DAYS
    seeds: tuple[int, ...] = DEFAULT_SEEDS
    initial_infections: int = 20
    effect: str = "infections"
    price_overrides: Mapping[str, float] = field(default_factory=dict)
    behaviour: Mapping[str, float] = field(default_factory=dict)
    workers: int = 2

    def to_json(self) -> str:
        data = asdict(self)
        data["price_overrides"] = dict(self.price_overrides)
        data["behaviour"] = dict(self.behaviour)
        return json.dumps(data, ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ComparisonRequest:
        data = json.loads(text)
        data["arms"] = tuple(data["arms"])
        data["seeds"] = tuple(data["seeds"])
        return cls(**data)


def check_comparison(request: ComparisonRequest, *, allow_files: bool = False) -> list[RowError]:
    """Every problem of a comparison request, each naming its field; empty when it can run."""
    from fangkong.modeling.account import EFFECTS
    from fangkong.modeling.prices import DEFAULT_PRICES
    from fangkong.modeling.strategies import NO_MEASURES
    from fangkong.protocol.loader import builtin_ids

    errors: list[RowError] = []
    known = {*builtin_ids(), NO_MEASURES}
    if not request.arms:
        errors.append(RowError(1, "arms", "choose at least one arm"))
    if len(request.arms) > MAX_ARMS:
        errors.append(RowError(1, "arms", Message("at most {count} arms", count=MAX_ARMS)))
    if len(set(request.arms)) != len(request.arms):
        errors.append(RowError(1, "arms", "an arm is listed twice"))
    for arm in request.arms:
        if arm not in known and not allow_files:
            errors.append(
                RowError(
                    1,
                    "arms",
                    Message(
                        "unknown arm “{value}”; use one of {known}", value=arm, known=", ".join(sorted(known))
                    ),
                )
            )
    if not 1 <= request.days <= MAX_DAYS:
        errors.append(RowError(1, "days", Message("between {low} and {high} days", low=1, high=MAX_DAYS)))
    if not 1 <= len(request.seeds) <= MAX_SEEDS:
        errors.append(RowError(1, "seeds", Message("between 1 and {count} seeds", count=MAX_SEEDS)))
    if len(set(request.seeds)) != len(request.seeds):
        errors.append(RowError(1, "seeds", "seeds must be distinct"))
    if any(not 0 <= s < 2**31 for s in request.seeds):
        errors.append(RowError(1, "seeds", "seeds are whole numbers from 0 to 2147483647"))
    if request.population not in ("registry", "generated"):
        errors.append(RowError(1, "population", "either 'registry' or 'generated'"))
    if request.population == "generated" and not 1 <= request.size <= MAX_SIZE:
        errors.append(RowError(1, "size", Message("between 1 and {count} people", count=f"{MAX_SIZE:,}")))
    if request.initial_infections < 1:
        errors.append(RowError(1, "initial_infections", "at least one infection to start the outbreak"))
    if request.effect not in EFFECTS:
        errors.append(
            RowError(1, "effect", Message("one of {choices}", choices=[Message(e) for e in EFFECTS]))
        )
    if not 1 <= request.workers <= 64:
        errors.append(RowError(1, "workers", "between 1 and 64 processes"))
    for key, value in request.price_overrides.items():
        if key not in DEFAULT_PRICES.keys:
            errors.append(RowError(1, f"prices.{key}", "unknown price"))
        elif not _finite_non_negative(value):
            errors.append(
                RowError(
                    1, f"prices.{key}", Message("“{value}” is not a non-negative number", value=str(value))
                )
            )
    for key, value in request.behaviour.items():
        if key not in BEHAVIOUR_FIELDS:
            errors.append(
                RowError(
                    1,
                    f"behaviour.{key}",
                    Message("unknown; use one of {known}", known=", ".join(BEHAVIOUR_FIELDS)),
                )
            )
        elif not _finite_non_negative(value):
            errors.append(
                RowError(
                    1, f"behaviour.{key}", Message("“{value}” is not a non-negative number", value=str(value))
                )
            )
        elif key in ("symptomatic_test_prob", "lockdown_reduction", "round_coverage") and value > 1:
            errors.append(RowError(1, f"behaviour.{key}", "a probability or share between 0 and 1"))
    return errors


def _finite_non_negative(value: object) -> bool:
    return (
        isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) and value >= 0
    )


def behaviour_of(request: ComparisonRequest) -> Any:
    from fangkong.modeling.strategies import DEFAULT_BEHAVIOUR

    changes: dict[str, Any] = {}
    for key, value in request.behaviour.items():
        if key in ("tracing_capacity", "vaccine_doses_per_day"):
            changes[key] = int(value)
        else:
            changes[key] = float(value)
    if changes.get("tracing_capacity") == 0:
        changes["tracing_capacity"] = None
    return replace(DEFAULT_BEHAVIOUR, **changes)


def submit_comparison(
    session: Session, principal: Principal, request: ComparisonRequest, *, ip: str = ""
) -> ModelingJob:
    """Queue a comparison; the caller starts it (``jobs.start``) once the transaction is committed."""
    errors = check_comparison(request)
    if errors:
        raise InvalidInput(errors)
    node = scope_node(session, principal, request.jurisdiction_id)
    if request.population == "registry":
        from fangkong.core.people import count_in_scope

        if count_in_scope(session, node.path) == 0:
            raise InvalidInput(
                [RowError(1, "population", Message("no people are registered in {place}", place=node.name))]
            )
    where = node.name if request.population == "registry" else f"{request.size:,} people (census 2020)"
    job = ModelingJob(
        kind=JobKind.comparison,
        status=JobStatus.queued,
        jurisdiction_id=node.id,
        jpath=node.path,
        title=f"{' / '.join(request.arms)} · {where} · {request.days} d × {len(request.seeds)} seeds"[:200],
        request=request.to_json(),
        runs_done=0,
        runs_total=len(request.arms) * len(request.seeds),
        created_by=principal.user_id,
        created_by_name=principal.username,
    )
    session.add(job)
    session.flush()
    audit.record(
        session, actor(principal, ip), "modeling.comparison", "modeling_job", job.id, jpath=node.path,
        detail={"arms": list(request.arms), "days": request.days, "seeds": list(request.seeds),
                "population": request.population},
    )  # fmt: skip
    return job


def build_population(session: Session, request: ComparisonRequest, scope_path: str) -> Any:
    """The simulator population a request asks for: the registry under ``scope_path``, or generated."""
    from fangkong.core.people import population_arrays
    from fangkong.modeling import population

    rng = np.random.default_rng(request.seeds[0] if request.seeds else 0)
    if request.population == "registry":
        from fangkong.vaccination.service.population import protected

        arrays = population_arrays(session, scope_path)
        # The registry's vaccinated people are the simulator's (issue 16: vaccination feeds modelling).
        return population.from_registry(arrays, rng, protected(session, arrays.person_id))
    return population.generated(request.size, rng)


def run_comparison(
    request: ComparisonRequest,
    people: Any,
    *,
    scheduler: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    allow_files: bool = False,
) -> Any:
    """Run every arm with every seed on ``people`` and draw up the account."""
    from fangkong.analytics import sim
    from fangkong.modeling import account, ensemble, strategies
    from fangkong.modeling.prices import DEFAULT_PRICES

    errors = check_comparison(request, allow_files=allow_files)
    if errors:
        raise InvalidInput(errors)
    prices = DEFAULT_PRICES.with_overrides(dict(request.price_overrides))
    behaviour = behaviour_of(request)
    mappings = {name: strategies.arm(name, behaviour) for name in request.arms}
    params = sim.Parameters(initial_infections=request.initial_infections)
    results = ensemble.run_ensemble(
        people,
        params,
        {name: m.strategy for name, m in mappings.items()},
        request.days,
        request.seeds,
        workers=request.workers,
        scheduler=scheduler,
        progress=progress,
    )
    reference = strategies.NO_MEASURES if strategies.NO_MEASURES in mappings else request.arms[0]
    return account.build_account(
        account.arm_inputs(mappings, results),
        prices,
        population=people.size,
        seeds=request.seeds,
        reference=reference,
        effect=request.effect,  # type: ignore[arg-type]
    )


def get_job(session: Session, principal: Principal, job_id: int) -> ModelingJob:
    job = session.get(ModelingJob, job_id)
    if job is None or not path_in_scope(job.jpath, principal.jpath):
        raise NotFound(f"job {job_id} not found")
    return job


def list_jobs(session: Session, principal: Principal, page: int = 1, size: int = 50) -> Page:
    page, size = _paging(page, size)
    condition = under(ModelingJob.jpath, principal.jpath)
    total = session.scalar(select(func.count()).select_from(ModelingJob).where(condition)) or 0
    rows = list(
        session.scalars(
            select(ModelingJob)
            .where(condition)
            .order_by(ModelingJob.id.desc())
            .offset((page - 1) * size)
            .limit(size)
        )
    )
    return Page(rows, total, page, size)


def job_result(job: ModelingJob) -> dict[str, Any] | None:
    if job.result is None:
        return None
    data: dict[str, Any] = json.loads(job.result)
    return data


def record_progress(session: Session, job_id: int, done: int, total: int) -> None:
    session.execute(
        update(ModelingJob)
        .where(ModelingJob.id == job_id)
        .values(runs_done=done, runs_total=total, heartbeat_at=clock.utcnow())
    )


# ============================================================================ case counts and Rt


@dataclass(frozen=True)
class CountInput:
    row: int
    jurisdiction: str
    day: object
    local: object
    imported: object = 0


def read_counts_csv(content: bytes) -> list[CountInput]:
    """Rows of an uploaded count file: columns ``date, jurisdiction, local[, imported]`` (or ``I``)."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput([RowError(1, "file", "is not UTF-8 text; save the CSV as UTF-8")]) from None
    table = [row for row in read_csv_text(text) if any(cell.strip() for cell in row)]
    if not table:
        raise InvalidInput([RowError(1, "file", "the file is empty")])
    header = [h.strip().lower() for h in table[0]]
    aliases = {
        "date": ("date", "日期", "day"),
        "jurisdiction": ("jurisdiction", "code", "jurisdiction_code", "区划代码"),
        "local": ("local", "i_local", "i", "本地"),
        "imported": ("imported", "i_imported", "输入"),
    }
    positions: dict[str, int] = {}
    for name, names in aliases.items():
        for i, h in enumerate(header):
            if h in names and name not in positions:
                positions[name] = i
    missing = [n for n in ("date", "jurisdiction", "local") if n not in positions]
    if missing:
        raise InvalidInput([RowError(1, n, "column is missing from the header") for n in missing])
    rows: list[CountInput] = []
    for number, cells in enumerate(table[1:], start=2):

        def cell(name: str, cells: list[str] = cells) -> str:
            at = positions.get(name)
            return cells[at].strip() if at is not None and at < len(cells) else ""

        rows.append(
            CountInput(number, cell("jurisdiction"), cell("date"), cell("local"), cell("imported") or 0)
        )
    return rows


def _whole(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    try:
        number = float(str(value).strip())
    except ValueError:
        return None
    return int(number) if math.isfinite(number) and number == int(number) else None


def _date(value: object) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        return None


def record_counts(
    session: Session, principal: Principal, basis: CountBasis, rows: Sequence[CountInput], *, ip: str = ""
) -> int:
    """Store daily counts (a new value replaces the one of the same place, basis and day); all or none."""
    if not rows:
        raise InvalidInput([RowError(1, "*", "no counts were sent")])
    codes = sorted({r.jurisdiction for r in rows if r.jurisdiction})
    places: dict[str, Jurisdiction] = {}
    for start in range(0, len(codes), 1000):
        for node in session.scalars(
            select(Jurisdiction).where(Jurisdiction.code.in_(codes[start : start + 1000]))
        ):
            places[node.code] = node
    today = clock.today()
    errors: list[RowError] = []
    clean: dict[tuple[int, dt.date], tuple[Jurisdiction, int, int]] = {}
    for r in rows:
        place = places.get(r.jurisdiction)
        if place is None or not path_in_scope(place.path, principal.jpath):
            errors.append(
                RowError(
                    r.row, "jurisdiction", Message("jurisdiction “{value}” not found", value=r.jurisdiction)
                )
            )
            continue
        if place.is_sandbox:
            errors.append(
                RowError(
                    r.row,
                    "jurisdiction",
                    Message("{place} is a drill sandbox, not a real place", place=place.name),
                )
            )
            continue
        day = _date(r.day)
        if day is None:
            errors.append(
                RowError(
                    r.row,
                    "date",
                    Message("“{value}” is not a date (write it as 2022-07-01)", value=str(r.day)),
                )
            )
            continue
        if day > today:
            errors.append(RowError(r.row, "date", Message("{value} is in the future", value=day)))
            continue
        local, imported = _whole(r.local), _whole(r.imported)
        if local is None or not 0 <= local <= MAX_DAILY_COUNT:
            errors.append(
                RowError(r.row, "local", Message("“{value}” is not a whole count", value=str(r.local)))
            )
            continue
        if imported is None or not 0 <= imported <= MAX_DAILY_COUNT:
            errors.append(
                RowError(r.row, "imported", Message("“{value}” is not a whole count", value=str(r.imported)))
            )
            continue
        if (place.id, day) in clean:
            errors.append(
                RowError(r.row, "date", Message("{code} on {day} is given twice", code=place.code, day=day))
            )
            continue
        clean[(place.id, day)] = (place, local, imported)
    if errors:
        raise InvalidInput(errors[:1000])
    existing = {
        (jid, day): cid
        for cid, jid, day in session.execute(
            select(CaseCount.id, CaseCount.jurisdiction_id, CaseCount.day).where(
                CaseCount.basis == basis,
                CaseCount.jurisdiction_id.in_(sorted({k[0] for k in clean})),
                CaseCount.day.in_(sorted({k[1] for k in clean})),
            )
        )
    }
    now = clock.utcnow()
    new = [
        {"jurisdiction_id": place.id, "jpath": place.path, "basis": basis, "day": day, "local": local,
         "imported": imported, "updated_at": now}
        for (jid, day), (place, local, imported) in clean.items()
        if (jid, day) not in existing
    ]  # fmt: skip
    changed = [
        {"id": existing[(jid, day)], "local": local, "imported": imported, "updated_at": now}
        for (jid, day), (_place, local, imported) in clean.items()
        if (jid, day) in existing
    ]
    if new:
        session.execute(insert(CaseCount), new)
    if changed:
        session.execute(update(CaseCount), changed)
    audit.record(
        session, actor(principal, ip), "modeling.case_counts", "case_count", "*", jpath=principal.jpath,
        detail={"basis": basis.value, "rows": len(clean), "new": len(new), "replaced": len(changed)},
    )  # fmt: skip
    return len(clean)


CountRows = Iterable[tuple[str, dt.date, int, int]]
"""(jpath, day, local, imported) rows."""


def _tracing_counts(session: Session, principal: Principal, path: str, basis: CountBasis) -> CountRows | None:
    """Daily counts from the tracing capability's cases, when it has any under ``path``.

    Looked up by name so that this capability does not depend on tracing: ``case_count_rows(session,
    principal, jurisdiction_path, basis)`` returning (jpath, date, local, imported) rows. Where tracing
    has no cases (a region that only uploads its counts), the Rt page reads the counts uploaded to it.
    """
    try:
        module = importlib.import_module("fangkong.tracing.service")
    except ImportError:
        return None
    reader: Any = getattr(module, "case_count_rows", None)
    if not callable(reader):
        return None
    rows: CountRows = list(reader(session, principal, path, basis.value))
    return rows or None


CountChoice = Literal["auto", "tracing", "uploaded"]
"""Which counts the Rt page reads: the platform's own cases, the uploaded ones, or ``auto`` (its own
cases where tracing has any, else the uploaded ones)."""


def count_source(
    session: Session, principal: Principal, path: str, basis: CountBasis, choice: CountChoice = "auto"
) -> tuple[str, CountRows]:
    """Where the Rt page's counts come from ('tracing' or 'uploaded') and the rows under ``path``."""
    if choice != "uploaded":
        from_tracing = _tracing_counts(session, principal, path, basis)
        if from_tracing is not None or choice == "tracing":
            return "tracing", from_tracing or []
    rows = session.execute(
        select(CaseCount.jpath, CaseCount.day, CaseCount.local, CaseCount.imported).where(
            under(CaseCount.jpath, path),
            CaseCount.basis == basis,
        )
    ).all()
    return "uploaded", [(p, d, int(loc), int(imp)) for p, d, loc, imp in rows]


@dataclass(frozen=True)
class RtSeries:
    """Rt of one area: one value per window, labelled by the window's last day.

    Where a window's posterior is too wide to use (``RT_TOO_FEW_CASES``: coefficient of variation above
    ``MAX_POSTERIOR_CV``), its mean and band are ``None`` and ``reason`` says why; ``cv`` is always given.
    """

    jurisdiction_id: int
    name: str
    code: str
    dates: list[str]
    mean: list[float | None]
    low: list[float | None]
    high: list[float | None]
    cases: int
    cv: list[float] = field(default_factory=list)
    reason: list[str | None] = field(default_factory=list)

    @property
    def latest(self) -> float | None:
        return self.mean[-1] if self.mean else None

    @property
    def latest_band(self) -> tuple[float, float] | None:
        if not self.low or self.low[-1] is None or self.high[-1] is None:
            return None
        return (self.low[-1], self.high[-1])

    @property
    def latest_reason(self) -> str | None:
        return self.reason[-1] if self.reason else None

    @property
    def latest_cv(self) -> float | None:
        return self.cv[-1] if self.cv else None


@dataclass(frozen=True)
class RtView:
    node: Jurisdiction
    basis: CountBasis
    source: str
    first_day: dt.date | None
    last_day: dt.date | None
    whole: RtSeries | None
    areas: list[RtSeries]
    si_mean: float
    si_sd: float
    window: int
    # Why there is no estimate, in the reader's language on the page and in English through the API.
    message: str | Message = ""
    # The criterion for showing an estimate: posterior CV at most ``max_cv``, which takes ``min_cases``
    # locally acquired cases in a window under the default prior.
    max_cv: float = 0.0
    min_cases: int = 0


def rt_by_area(
    session: Session,
    principal: Principal,
    jurisdiction_id: int | None = None,
    *,
    basis: CountBasis = CountBasis.onset,
    si_mean: float = DEFAULT_SI_MEAN,
    si_sd: float = DEFAULT_SI_SD,
    window: int = 7,
    si_distr: Sequence[float] | None = None,
    counts: CountChoice = "auto",
) -> RtView:
    """Rt with its 95 % band for a jurisdiction and each of its direct children (one vectorised estimate).

    The serial interval is EpiEstim's offset gamma of mean ``si_mean`` and sd ``si_sd``, or, when
    ``si_distr`` is given, those probabilities of 0, 1, 2... days (e.g. the one measured on the
    transmission chains); the view then carries that distribution's own mean and sd."""
    from fangkong.analytics.rt import MAX_POSTERIOR_CV, RtInputError, estimate_r, min_cases_for_cv

    node = scope_node(session, principal, jurisdiction_id)
    errors: list[RowError] = []
    if si_distr is not None:
        lags = np.arange(len(si_distr), dtype=np.float64)
        probabilities = np.asarray(si_distr, dtype=np.float64)
        si_mean = float(np.sum(lags * probabilities))
        si_sd = float(np.sqrt(max(0.0, np.sum(lags**2 * probabilities) - si_mean**2)))
    elif not (math.isfinite(si_mean) and si_mean > 1):
        errors.append(RowError(1, "si_mean", "the mean serial interval must be more than 1 day"))
    if si_distr is None and not (math.isfinite(si_sd) and si_sd > 0):
        errors.append(RowError(1, "si_sd", "the serial interval's sd must be positive"))
    if not 1 <= window <= 60:
        errors.append(RowError(1, "window", "a window of 1 to 60 days"))
    if errors:
        raise InvalidInput(errors)
    source, rows = count_source(session, principal, node.path, basis, counts)
    children = [
        c
        for c in session.scalars(
            select(Jurisdiction).where(Jurisdiction.parent_id == node.id).order_by(Jurisdiction.code)
        )
        if not c.is_sandbox
    ]
    child_index = {c.path: i for i, c in enumerate(children)}
    depth = node.path.count("/")
    kept = [
        (path, day, local, imported) for path, day, local, imported in rows if path_in_scope(path, node.path)
    ]
    min_cases = min_cases_for_cv(MAX_POSTERIOR_CV)
    empty = RtView(
        node, basis, source, None, None, None, [], si_mean, si_sd, window,
        max_cv=MAX_POSTERIOR_CV, min_cases=min_cases,
    )  # fmt: skip
    if not kept:
        return replace(empty, message="No daily counts yet: upload them below.")
    first = min(r[1] for r in kept)
    last = max(r[1] for r in kept)
    if (last - first).days + 1 > MAX_RT_DAYS:
        first = last - dt.timedelta(days=MAX_RT_DAYS - 1)
    n_days = (last - first).days + 1
    local = np.zeros((len(children) + 1, n_days))
    imported = np.zeros((len(children) + 1, n_days))
    for path, day, loc, imp in kept:
        offset = (day - first).days
        if offset < 0:
            continue
        local[0, offset] += loc
        imported[0, offset] += imp
        child_path = "/".join(path.split("/")[: depth + 1]) + "/"
        k = child_index.get(child_path)
        if k is not None:
            local[k + 1, offset] += loc
            imported[k + 1, offset] += imp
    if n_days < window + 1:
        message = Message(
            "{days} days of counts are too few for a {window}-day window.", days=n_days, window=window
        )
        return replace(empty, first_day=first, last_day=last, message=message)
    try:
        if si_distr is not None:
            estimate = estimate_r(local, imported, si_distr=si_distr, window=window)
        else:
            estimate = estimate_r(local, imported, mean_si=si_mean, std_si=si_sd, window=window)
    except RtInputError as exc:
        raise InvalidInput([RowError(1, "counts", str(exc))]) from None
    labels = [(first + dt.timedelta(days=int(t) - 1)).isoformat() for t in estimate.t_end]
    low = estimate.quantile(0.025)
    high = estimate.quantile(0.975)

    usable = estimate.usable(MAX_POSTERIOR_CV)
    cv = estimate.cv

    def shown(values: np.ndarray, k: int) -> list[float | None]:
        return [float(x) if ok else None for x, ok in zip(values[k], usable[k], strict=True)]

    def series(k: int, place: Jurisdiction) -> RtSeries:
        return RtSeries(
            jurisdiction_id=place.id,
            name=place.name,
            code=place.code,
            dates=labels,
            mean=shown(estimate.mean, k),
            low=shown(low, k),
            high=shown(high, k),
            cases=int(local[k].sum() + imported[k].sum()),
            cv=[float(x) for x in cv[k]],
            reason=[None if ok else RT_TOO_FEW_CASES for ok in usable[k]],
        )

    return RtView(
        node=node,
        basis=basis,
        source=source,
        first_day=first,
        last_day=last,
        whole=series(0, node),
        areas=[series(k + 1, c) for k, c in enumerate(children)],
        si_mean=si_mean,
        si_sd=si_sd,
        window=window,
        message="" if labels else "No window ends after the serial interval's mean yet.",
        max_cv=MAX_POSTERIOR_CV,
        min_cases=min_cases,
    )
