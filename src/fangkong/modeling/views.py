"""Web pages of the modelling bench: Rt per area, the scenario editor and the account, drills.

Long work never blocks a page: a comparison is queued and its page polls a progress fragment (htmx)
until the account is ready; a drill's page polls its status and score while the drill runs.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.core.auth import Principal
from fangkong.core.deps import (
    DRILL_COOKIE,
    BusDep,
    FormDep,
    Require,
    RowId,
    SessionDep,
    SettingsDep,
    VaultDep,
    client_ip,
)
from fangkong.core.errors import InvalidInput, RowError
from fangkong.core.i18n import Message
from fangkong.core.models import Jurisdiction, Level
from fangkong.core.people_rules import Keys
from fangkong.core.permissions import Permission
from fangkong.core.scope import under
from fangkong.modeling import drill_score, drill_ticker, drills, jobs, service
from fangkong.modeling.models import CountBasis, DrillStatus, JobStatus
from fangkong.web.templating import render

router = APIRouter(include_in_schema=False)
# (permission, url, message id) entries this capability adds to the main navigation.
NAV: list[tuple[Permission, str, str]] = [
    (Permission.modeling_read, "/modeling/rt", "Rt"),
    (Permission.modeling_read, "/modeling/scenarios", "Strategy account"),
    (Permission.modeling_read, "/modeling/drills", "Drills"),
]

Reader = Annotated[Principal, Depends(Require(Permission.modeling_read))]
Runner = Annotated[Principal, Depends(Require(Permission.modeling_run))]
DrillManager = Annotated[Principal, Depends(Require(Permission.drills_manage))]
# Joining a drill: anyone of the drill's county may practise in it.
Anyone = Annotated[Principal, Depends(Require(Permission.jurisdictions_read))]
# The screen a user lands on inside a drill: the first their role may read.
_DRILL_SCREENS = [
    (Permission.cases_read, "/tracing/cases"),
    (Permission.surveillance_read, "/surveillance/alerts"),
    (Permission.people_read, "/people"),
]

STATUS_COLOURS = {
    "frontier": "#2f855a",
    "reference": "#616e7c",
    "dominated": "#b42318",
    "extended_dominance": "#b7791f",
}


def _places(session: Session, principal: Principal) -> list[Jurisdiction]:
    """Jurisdictions in scope down to townships (sandboxes left out), for the pickers."""
    levels = [Level.province, Level.city, Level.county, Level.township]
    return [
        j
        for j in session.scalars(
            select(Jurisdiction)
            .where(under(Jurisdiction.path, principal.jpath), Jurisdiction.level.in_(levels))
            .order_by(Jurisdiction.path)
            .limit(500)
        )
        if not j.is_sandbox
    ]


# ============================================================================ Rt


def _typed_number(text: str, field: str, errors: list[RowError], low: float, high: float) -> float | None:
    try:
        value = float(text.strip())
    except ValueError:
        errors.append(RowError(1, field, Message("“{value}” is not a number", value=text)))
        return None
    if not low < value <= high:
        errors.append(
            RowError(1, field, Message("must be more than {low} and at most {high}", low=low, high=high))
        )
        return None
    return value


@router.get("/modeling/rt", response_class=HTMLResponse)
def rt_page(
    request: Request,
    principal: Reader,
    session: SessionDep,
    jurisdiction_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    basis: Annotated[str, Query(pattern="^(onset|report)$")] = "onset",
    window: Annotated[str, Query(max_length=12)] = "7",
    stored: Annotated[int | None, Query(ge=0)] = None,
    counts: Annotated[str, Query(pattern="^(auto|tracing|uploaded)$")] = "auto",
    si: Annotated[str, Query(pattern="^(typed|chains)$")] = "typed",
    si_mean: Annotated[str, Query(max_length=12)] = str(service.DEFAULT_SI_MEAN),
    si_sd: Annotated[str, Query(max_length=12)] = str(service.DEFAULT_SI_SD),
) -> Response:
    from fangkong.modeling import own_records

    # A bad window is said in the form, which keeps what was typed; the figures stay those of a week.
    errors: list[RowError] = []
    days = int(window) if window.strip().isdigit() else None
    if days is None:
        errors.append(RowError(1, "window", Message("“{value}” is not a whole number", value=window)))
    elif not 1 <= days <= 60:
        words = "must be at least {limit}" if days < 1 else "must be at most {limit}"
        errors.append(RowError(1, "window", Message(words, limit=1 if days < 1 else 60)))
    # The typed serial interval (EpiEstim's offset gamma: a mean above 1 day, a positive sd).
    typed_mean = _typed_number(si_mean, "si_mean", errors, 1, 60)
    typed_sd = _typed_number(si_sd, "si_sd", errors, 0, 60)
    chains = own_records.chains_serial_interval(session, principal)
    chains_distr = list(chains.si_distr) if chains is not None and chains.si_distr else None
    use_chains = si == "chains" and chains_distr is not None
    view = service.rt_by_area(
        session,
        principal,
        jurisdiction_id,
        basis=CountBasis(basis),
        window=7 if errors else days or 7,
        si_mean=typed_mean or service.DEFAULT_SI_MEAN,
        si_sd=typed_sd or service.DEFAULT_SI_SD,
        si_distr=chains_distr if use_chains else None,
        counts="tracing" if counts == "tracing" else "uploaded" if counts == "uploaded" else "auto",
    )
    series = [s for s in [view.whole, *view.areas] if s is not None and s.dates]
    chart = [
        {"name": s.name, "dates": s.dates, "mean": s.mean, "low": s.low, "high": s.high, "cases": s.cases}
        for s in series
    ]
    curve = own_records.onset_nowcast(session, principal, view.node.path)
    curve_json = (
        None
        if curve is None
        else {
            "dates": [d.isoformat() for d in curve.days],
            "reported": curve.reported,
            "median": curve.median,
            "lower": curve.lower,
            "upper": curve.upper,
        }
    )
    return render(
        request,
        "modeling/rt.html",
        {
            "view": view,
            "places": _places(session, principal),
            "basis": basis,
            "window": window,
            "counts": counts,
            "si": si,
            "si_mean": si_mean,
            "si_sd": si_sd,
            "chains": chains,
            "use_chains": use_chains,
            "curve": curve,
            "errors": errors,
            "chart_json": json.dumps(chart, ensure_ascii=False),
            "curve_json": json.dumps(curve_json),
            "can_upload": principal.can(Permission.modeling_run),
            "stored": stored,
        },
        principal=principal,
        status_code=422 if errors else 200,
    )


@router.post("/modeling/rt/upload")
def rt_upload(
    request: Request,
    principal: Runner,
    session: SessionDep,
    file: Annotated[UploadFile, File()],
    basis: Annotated[str, Form(pattern="^(onset|report)$")] = "onset",
) -> Response:
    content = file.file.read(service.MAX_UPLOAD_BYTES + 1)
    if len(content) > service.MAX_UPLOAD_BYTES:
        raise InvalidInput(
            [
                RowError(
                    1,
                    "file",
                    Message("larger than {size} MB", size=service.MAX_UPLOAD_BYTES // (1024 * 1024)),
                )
            ]
        )
    stored = service.record_counts(
        session, principal, CountBasis(basis), service.read_counts_csv(content), ip=client_ip(request)
    )
    return RedirectResponse(f"/modeling/rt?basis={basis}&stored={stored}", status_code=303)


# ============================================================================ scenarios and the account


def _arm_choices() -> list[tuple[str, str]]:
    from fangkong.modeling.strategies import NO_MEASURES
    from fangkong.protocol.loader import list_builtin

    return [(p.id, p.name) for p in list_builtin()] + [(NO_MEASURES, "No measures")]


def _scenario_page(
    request: Request,
    principal: Principal,
    session: Session,
    *,
    form: dict[str, Any] | None = None,
    errors: list[RowError] | None = None,
    status_code: int = 200,
) -> Response:
    from fangkong.modeling.prices import DEFAULT_PRICES
    from fangkong.modeling.strategies import STANDARD_ARMS

    jobs.fail_abandoned(session)
    listed = service.list_jobs(session, principal, 1, 30)
    defaults = {
        "arms": list(STANDARD_ARMS),
        "population": "generated",
        "size": service.DEFAULT_SIZE,
        "days": service.DEFAULT_DAYS,
        "seeds": ", ".join(str(s) for s in service.DEFAULT_SEEDS),
        "effect": "infections",
        "jurisdiction_id": principal.jurisdiction_id,
        "prices": {},
    }
    return render(
        request,
        "modeling/scenarios.html",
        {
            "arms": _arm_choices(),
            "prices": DEFAULT_PRICES.lines,
            "form": {**defaults, **(form or {})},
            "errors": errors or [],
            "jobs": listed.items,
            "places": _places(session, principal),
            "can_run": principal.can(Permission.modeling_run),
        },
        principal=principal,
        status_code=status_code,
    )


@router.get("/modeling/scenarios", response_class=HTMLResponse)
def scenarios_page(request: Request, principal: Reader, session: SessionDep) -> Response:
    return _scenario_page(request, principal, session)


def _seeds(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.replace("，", ",").split(",") if part.strip())
    except ValueError:
        raise InvalidInput(
            [RowError(1, "seeds", Message("“{value}” is not a list of whole numbers", value=text))]
        ) from None


@router.post("/modeling/scenarios")
def submit_scenario(request: Request, form: FormDep, principal: Runner, session: SessionDep) -> Response:
    """The scenario editor's form: arms, population, days, seeds, price overrides."""
    from fangkong.modeling.prices import DEFAULT_PRICES

    arms = [str(a) for a in form.getlist("arms")]
    population = str(form.get("population", ""))
    if not arms or population not in ("registry", "generated"):
        raise InvalidInput([RowError(1, "arms", "choose at least one arm and a population")])
    raw: dict[str, Any] = {
        "arms": arms,
        "population": population,
        "size": str(form.get("size", "")),
        "days": str(form.get("days", "")),
        "seeds": str(form.get("seeds", "")),
        "effect": str(form.get("effect", "infections")),
        "jurisdiction_id": str(form.get("jurisdiction_id", "")),
        "prices": {k: str(form.get(f"price_{k}", "")).strip() for k in DEFAULT_PRICES.keys},
    }
    errors: list[RowError] = []

    def whole(name: str, default: int) -> int:
        text = raw[name].strip()
        if not text:
            return default
        try:
            return int(text)
        except ValueError:
            errors.append(RowError(1, name, Message("“{value}” is not a whole number", value=text)))
            return default

    overrides: dict[str, float] = {}
    for key, text in raw["prices"].items():
        if text and text != _short(DEFAULT_PRICES.value(key)):
            try:
                overrides[key] = float(text)
            except ValueError:
                errors.append(RowError(1, f"price_{key}", Message("“{value}” is not a number", value=text)))
    try:
        seeds = _seeds(raw["seeds"]) or service.DEFAULT_SEEDS
    except InvalidInput as exc:
        errors.extend(exc.errors)
        seeds = service.DEFAULT_SEEDS
    scenario = service.ComparisonRequest(
        arms=tuple(arms),
        population=population,  # type: ignore[arg-type]
        size=whole("size", service.DEFAULT_SIZE),
        jurisdiction_id=whole("jurisdiction_id", principal.jurisdiction_id),
        days=whole("days", service.DEFAULT_DAYS),
        seeds=seeds,
        effect=raw["effect"],
        price_overrides=overrides,
    )
    errors.extend(service.check_comparison(scenario))
    if errors:
        return _scenario_errors(request, principal, session, raw, errors)
    try:
        job = service.submit_comparison(session, principal, scenario, ip=client_ip(request))
    except InvalidInput as exc:
        return _scenario_errors(request, principal, session, raw, exc.errors)
    session.commit()
    jobs.start(request.app.state.db, job.id)
    return RedirectResponse(f"/modeling/jobs/{job.id}", status_code=303)


def _scenario_errors(
    request: Request, principal: Principal, session: Session, raw: dict[str, Any], errors: list[RowError]
) -> Response:
    """The form's errors: beside its fields for htmx (prices by their inputs' names), else the page again."""
    if request.headers.get("HX-Request") == "true":
        raise InvalidInput([e.renamed(e.field.replace("prices.", "price_", 1)) for e in errors])
    return _scenario_page(request, principal, session, form=raw, errors=errors, status_code=422)


def _short(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _chart(result: dict[str, Any]) -> dict[str, Any]:
    effect = result["effect"]
    points = [
        {
            "arm": a["arm"],
            "label": a["label"],
            "cost": a["total_cost"]["mean"],
            "effect": a["averted"][effect]["mean"],
            "status": a["status"],
        }
        for a in result["arms"]
    ]
    frontier = sorted(
        [p for p in points if p["status"] in ("frontier", "reference")],
        key=lambda p: (p["effect"], p["cost"]),
    )
    curves = [
        {"arm": a["arm"], "infections": a["daily_infections"], "hospital": a["daily_hospital"]}
        for a in result["arms"]
    ]
    return {
        "points": points,
        "frontier": frontier,
        "curves": curves,
        "effect": effect,
        "colours": STATUS_COLOURS,
    }


@router.get("/modeling/jobs/{job_id}", response_class=HTMLResponse)
def job_page(job_id: RowId, request: Request, principal: Reader, session: SessionDep) -> Response:
    job = service.get_job(session, principal, job_id)
    result = service.job_result(job)
    return render(
        request,
        "modeling/job.html",
        {
            "job": job,
            "scenario": json.loads(job.request),
            "result": result,
            "chart_json": json.dumps(_chart(result), ensure_ascii=False) if result else "null",
            "colours": STATUS_COLOURS,
        },
        principal=principal,
    )


@router.get("/modeling/jobs/{job_id}/progress", response_class=HTMLResponse)
def job_progress(job_id: RowId, request: Request, principal: Reader, session: SessionDep) -> Response:
    """The progress fragment the job page polls; once the job ends the page reloads itself."""
    job = service.get_job(session, principal, job_id)
    response = render(request, "modeling/_job_progress.html", {"job": job}, principal=principal)
    if job.status in (JobStatus.done, JobStatus.failed):
        response.headers["HX-Refresh"] = "true"
    return response


# ============================================================================ drills


@router.get("/modeling/drills", response_class=HTMLResponse)
def drills_page(request: Request, principal: Reader, session: SessionDep) -> Response:
    from fangkong.protocol.loader import list_builtin

    counties = [j for j in _places(session, principal) if j.level is Level.county]
    return render(
        request,
        "modeling/drills.html",
        {
            "drills": drills.list_drills(session, principal),
            "counties": counties,
            "protocols": [(p.id, p.name) for p in list_builtin()],
            "can_manage": principal.can(Permission.drills_manage),
            "errors": [],
        },
        principal=principal,
    )


@router.post("/modeling/drills")
def start_drill_page(
    request: Request,
    principal: DrillManager,
    session: SessionDep,
    vault: VaultDep,
    bus: BusDep,
    settings: SettingsDep,
    people: Annotated[int, Form(ge=200, le=20_000)],
    days: Annotated[int, Form(ge=7, le=90)],
    protocol_id: Annotated[str, Form(max_length=40)] = "cn-9",
    name: Annotated[str, Form(max_length=60)] = "",
    county_id: Annotated[int | None, Form(ge=1, le=2_147_483_647)] = None,
    speed: Annotated[float, Form(ge=1.0, le=1_000_000.0)] = drills.DEFAULT_SPEED,
    seed: Annotated[int, Form(ge=0, le=2_147_483_647)] = 1,
    autopilot: Annotated[bool, Form()] = False,
) -> Response:
    drill = drills.start_drill(
        session, vault, Keys(settings.encryption_key, settings.hash_key), principal,
        drills.DrillRequest(people=people, days=days, protocol_id=protocol_id, name=name, county_id=county_id,
                            speed=speed, seed=seed, autopilot=autopilot, realtime=True),
        ip=client_ip(request),
    )  # fmt: skip
    session.commit()
    drill_ticker.ensure_running(request.app.state.db, vault, bus)
    return RedirectResponse(f"/modeling/drills/{drill.id}", status_code=303)


def _drill_context(session: Session, principal: Principal, drill_id: int) -> dict[str, Any]:
    view = drills.status(session, principal, drill_id)
    return {
        "view": view,
        "drill": view.drill,
        "score": drill_score.score(session, principal, drill_id),
        "sandbox": session.get(Jurisdiction, view.drill.sandbox_id),
        "can_manage": principal.can(Permission.drills_manage),
        "running": view.drill.status is DrillStatus.running,
    }


@router.get("/modeling/drills/{drill_id}", response_class=HTMLResponse)
def drill_page(
    drill_id: RowId, request: Request, principal: Reader, session: SessionDep, vault: VaultDep, bus: BusDep
) -> Response:
    context = _drill_context(session, principal, drill_id)
    if context["running"] and context["drill"].realtime:
        # The clock may have stopped with a server restart: opening the page starts it again.
        drill_ticker.ensure_running(request.app.state.db, vault, bus)
    return render(request, "modeling/drill.html", context, principal=principal)


@router.get("/modeling/drills/{drill_id}/panel", response_class=HTMLResponse)
def drill_panel(drill_id: RowId, request: Request, principal: Reader, session: SessionDep) -> Response:
    """The status and score fragment the drill page polls."""
    return render(
        request,
        "modeling/_drill_panel.html",
        _drill_context(session, principal, drill_id),
        principal=principal,
    )


@router.post("/modeling/drills/{drill_id}/advance")
def advance_drill_page(
    drill_id: RowId,
    request: Request,
    principal: DrillManager,
    session: SessionDep,
    vault: VaultDep,
    bus: BusDep,
    hours: Annotated[float, Form(ge=0, le=24 * 366)],
) -> Response:
    """Jump the drill clock ahead by ``hours`` drill hours, feeding everything on the way."""
    drill = drills.get_drill(session, principal, drill_id)
    now_hours = drills.drill_hours(session, drill)
    session.commit()
    drills.advance(request.app.state.db, vault, bus, drill_id, to_hours=now_hours + hours)
    return RedirectResponse(f"/modeling/drills/{drill_id}", status_code=303)


@router.get("/modeling/drills/{drill_id}/join", response_class=HTMLResponse)
def join_drill_page(drill_id: RowId, request: Request, principal: Anyone, session: SessionDep) -> Response:
    """Where the teams of the drill's county join it (they need not read the modelling pages)."""
    drill = drills.get_drill(session, principal, drill_id)
    county = session.get(Jurisdiction, drill.jurisdiction_id)
    return render(
        request, "modeling/drill_join.html", {"drill": drill, "county": county}, principal=principal
    )


@router.post("/modeling/drills/{drill_id}/enter")
def enter_drill(drill_id: RowId, principal: Anyone, session: SessionDep) -> Response:
    """Work inside the drill on the real screens: every page shows its sandbox only, until one leaves."""
    drill = drills.get_drill(session, principal, drill_id)
    first = next(
        (url for permission, url in _DRILL_SCREENS if principal.can(permission)),
        "/",
    )
    response = RedirectResponse(first, status_code=303)
    response.set_cookie(DRILL_COOKIE, str(drill.sandbox_id), httponly=True, samesite="lax")
    return response


@router.post("/modeling/drills/leave")
def leave_drill(principal: Anyone) -> Response:
    """Back to the real jurisdiction: the pages show real records again."""
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(DRILL_COOKIE)
    return response


@router.post("/modeling/drills/{drill_id}/stop")
def stop_drill_page(
    drill_id: RowId, request: Request, principal: DrillManager, session: SessionDep
) -> Response:
    drills.stop_drill(session, principal, drill_id, ip=client_ip(request))
    return RedirectResponse(f"/modeling/drills/{drill_id}", status_code=303)
