"""``fangkong testing``: the testing capability's commands.

``pools`` needs no database: it plans a round from the prevalence, the population and the labs'
capacity (``testing.rules.pool_planner``), prints a Rich table for people and takes ``--json`` for
machines. Bad input never produces a traceback: one line naming the option, exit code 2.

The others act as a named user (``--user``), as ``fangkong quarantine`` does: what they read is that
user's jurisdiction, what they write is audited under their name, and their role must have the
permission the API's route asks for. ``orders sync|worklist|overdue``, ``campaign create|list|advice``,
``round open|close|coverage``, ``results load FILE [--fhir]`` and ``recalls``; every one takes
``--json``, and a use-case error is printed (each bad row of a file named) with exit code 2.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from fangkong.analytics.pooling import PoolingInputError
from fangkong.core.cli import acting_user, echo_json
from fangkong.core.permissions import Permission
from fangkong.testing.rules import pool_planner as planner

if TYPE_CHECKING:
    from rich.console import Console
    from sqlalchemy.orm import Session

    from fangkong.testing.service.orders import OrderView

app = typer.Typer(help="Testing: pooled rounds, lab results.", no_args_is_help=True, add_completion=False)
orders_app = typer.Typer(help="Test orders from plans: sync, worklist, overdue.", no_args_is_help=True)
campaign_app = typer.Typer(help="Regional testing campaigns.", no_args_is_help=True)
round_app = typer.Typer(help="Rounds of a campaign: open, close, coverage.", no_args_is_help=True)
results_app = typer.Typer(help="Lab results by tube barcode.", no_args_is_help=True)
app.add_typer(orders_app, name="orders")
app.add_typer(campaign_app, name="campaign")
app.add_typer(round_app, name="round")
app.add_typer(results_app, name="results")

User = Annotated[str, typer.Option("--user", "-u", help="act as this user (their jurisdiction and role)")]
AsJson = Annotated[bool, typer.Option("--json", help="print JSON")]


@app.callback()
def testing() -> None:
    """Testing: test orders, regional rounds in pooled tubes, lab results."""


@app.command("pools")
def pools(
    prevalence: Annotated[
        float,
        typer.Option("--prevalence", help="Expected share of positives among the people tested, in (0, 1)."),
    ],
    population: Annotated[
        int, typer.Option("--population", help="People to test in the round.")
    ] = planner.DEFAULT_POPULATION,
    lab_capacity: Annotated[
        float, typer.Option("--lab-capacity", help="Tests (tubes) the labs run per hour.")
    ] = planner.DEFAULT_LAB_TESTS_PER_HOUR,
    collection: Annotated[
        str,
        typer.Option(
            "--collection",
            help="Where samples are mixed: lab (equal volumes of single tubes) or swab (混采).",
        ),
    ] = "lab",
    ct_cutoff: Annotated[
        float,
        typer.Option("--ct-cutoff", help="The assay's Ct cut-off: a tube reading above it is negative."),
    ] = planner.DEFAULT_CT_CUTOFF,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
) -> None:
    """Optimal pool size by prevalence (Dorfman), with tests, lab hours and missed positives per pool size."""
    try:
        plan = planner.plan_pools(
            prevalence,
            population=population,
            lab_tests_per_hour=lab_capacity,
            collection=planner.parse_collection(collection),
            ct_cutoff=ct_cutoff,
        )
    except PoolingInputError as exc:
        _fail(str(exc))
    if as_json:
        typer.echo(json.dumps(_as_dict(plan), ensure_ascii=False, indent=2))
        return
    _print(plan)


def _as_dict(plan: planner.PoolPlan) -> dict[str, Any]:
    return {
        "prevalence": plan.prevalence,
        "optimal_pool_size": plan.optimal_pool_size,
        "tests_per_person": plan.tests_per_person,
        "pooling_pays": plan.pooling_pays,
        "population": plan.population,
        "expected_positives": plan.expected_positives,
        "lab_tests_per_hour": plan.lab_tests_per_hour,
        "collection": plan.collection,
        "ct_cutoff": plan.ct_cutoff,
        "positive_ct": plan.positive_ct.describe(),
        "pool_sizes": [
            {
                "pool_size": o.pool_size,
                "optimal": o.is_optimal,
                "tests_per_person": o.tests_per_person,
                "tests": o.tests,
                "lab_hours": o.lab_hours,
                "ct_shift": o.ct_shift,
                "miss_probability": o.miss_probability,
                "missed_positives": o.missed_positives,
            }
            for o in plan.options
        ],
        "sources": planner.SOURCES,
    }


def _print(plan: planner.PoolPlan) -> None:
    from rich.console import Console
    from rich.table import Table

    from fangkong.core.tables import print_table

    console = Console(highlight=False)
    console.print(
        f"Prevalence {plan.prevalence:g}: optimal pool size [bold]{plan.optimal_pool_size}[/bold], "
        f"{plan.tests_per_person:.6f} tests per person (Dorfman)"
    )
    if not plan.pooling_pays:
        console.print(
            "[bold]Pooling does not pay at this prevalence[/bold]: every pool size costs more than one test "
            "per person; test single tubes."
        )
    mixing = "swabs pooled at collection" if plan.collection == "swab" else "samples mixed in the lab"
    table = Table(
        title=f"{plan.population:,} people, {plan.lab_tests_per_hour:,.0f} tests per hour, {mixing}",
        caption=(
            f"* Dorfman's optimum. Missed: a positive's pool reads above Ct {plan.ct_cutoff:g}; "
            f"Ct of positives {plan.positive_ct.describe()}. "
            f"Expected positives: {plan.expected_positives:,.1f}."
        ),
    )
    for column in (
        "pool size",
        "tests per person",
        "tests",
        "lab hours",
        "Ct shift",
        "missed",
        "missed positives",
    ):
        table.add_column(column, justify="left" if column == "pool size" else "right")
    for o in plan.options:
        table.add_row(
            f"{o.pool_size}{'*' if o.is_optimal else ''}",
            f"{o.tests_per_person:.6f}",
            f"{o.tests:,.0f}",
            f"{o.lab_hours:,.1f}",
            f"{o.ct_shift:.2f}",
            f"{o.miss_probability:.1%}",
            f"{o.missed_positives:,.1f}",
        )
    print_table(console, table)


def _fail(message: str) -> NoReturn:
    typer.echo(f"Error: {message}", err=True)
    raise typer.Exit(code=2)


# ------------------------------------------------------------------------------------------ acting as


def _console() -> Console:
    from rich.console import Console

    return Console(highlight=False)


def _day(value: str, option: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)", param_hint=option) from None


def _table(title: str, columns: tuple[str, ...], rows: list[tuple[object, ...]]) -> None:
    from rich.table import Table

    from fangkong.core.tables import print_table

    table = Table(title=title)
    for name in columns:
        table.add_column(name)
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    print_table(_console(), table)


# ------------------------------------------------------------------------------------------ orders


def _order_json(o: OrderView) -> dict[str, Any]:
    return {
        "id": o.id,
        "person_id": o.person_id,
        "name": o.person_name,
        "source": o.source,
        "plan_day": o.plan_day,
        "due_date": o.due_date,
        "place": o.place.value,
        "state": o.state.value,
        "last_test": o.last_test,
        "tube_barcode": o.tube_barcode,
        "result": o.result.value if o.result is not None else None,
    }


def _print_orders(title: str, orders: list[OrderView], as_json: bool) -> None:
    if as_json:
        echo_json({"total": len(orders), "orders": [_order_json(o) for o in orders]})
        return
    _table(
        f"{title}: {len(orders):,}",
        ("order", "person", "name", "due", "place", "state", "plan", "last test"),
        [
            (
                o.id,
                o.person_id,
                o.person_name,
                o.due_date,
                o.place.value,
                o.state.value,
                o.source,
                o.last_test,
            )
            for o in orders
        ],
    )


def _all_pages(fetch: Any) -> list[OrderView]:
    from fangkong.testing.service.orders import MAX_PAGE_SIZE

    found: list[OrderView] = []
    page = 1
    while True:
        result = fetch(page, MAX_PAGE_SIZE)
        found.extend(result.items)
        if page * MAX_PAGE_SIZE >= result.total:
            return found
        page += 1


@orders_app.command("sync")
def orders_sync(user: User, as_json: AsJson = False) -> None:
    """Make the test orders in your jurisdiction agree with the plans as they stand now."""
    from fangkong.core import audit
    from fangkong.testing.service import orders

    with acting_user(user, Permission.testing_manage, as_json=as_json) as (session, me):
        report = orders.sync_orders(session, me.jpath)
        audit.record(
            session,
            audit.Actor(me.user_id, me.username, "cli"),
            "testing.orders.sync",
            "testing_orders",
            me.jpath,
            detail=vars(report),
            jpath=me.jpath,
        )
    if as_json:
        echo_json(vars(report))
        return
    _console().print(
        f"orders: {report.created:,} made, {report.moved:,} moved, {report.cancelled:,} cancelled, "
        f"{report.reopened:,} reopened, {report.unchanged:,} unchanged"
    )


@orders_app.command("worklist")
def orders_worklist(
    user: User,
    day: Annotated[str, typer.Option(help="the day (YYYY-MM-DD; default today)")] = "",
    community: Annotated[int | None, typer.Option(min=1, help="only this community (its id)")] = None,
    place: Annotated[str, typer.Option(help="quarantine_site, home or community_site")] = "",
    as_json: AsJson = False,
) -> None:
    """The tests due on a day, to be sampled or sampled that day."""
    from fangkong.core.clock import today
    from fangkong.testing.models import TestPlace
    from fangkong.testing.service import orders

    try:
        where = TestPlace(place) if place else None
    except ValueError:
        raise typer.BadParameter(
            f"one of {', '.join(p.value for p in TestPlace)}", param_hint="--place"
        ) from None
    wanted = _day(day, "--day") or today()
    with acting_user(user, Permission.testing_read, as_json=as_json) as (session, me):
        found = _all_pages(
            lambda page, size: orders.worklist(
                session, me, wanted, place=where, community_id=community, page=page, size=size
            )
        )
    _print_orders(f"tests due {wanted}", found, as_json)


@orders_app.command("overdue")
def orders_overdue(
    user: User,
    on: Annotated[str, typer.Option(help="overdue as of this day (YYYY-MM-DD; default today)")] = "",
    community: Annotated[int | None, typer.Option(min=1, help="only this community (its id)")] = None,
    as_json: AsJson = False,
) -> None:
    """Tests due before a day that nobody sampled: they hold their people's release."""
    from fangkong.testing.service import orders

    wanted = _day(on, "--on")
    with acting_user(user, Permission.testing_read, as_json=as_json) as (session, me):
        found = _all_pages(
            lambda page, size: orders.overdue(
                session, me, on=wanted, community_id=community, page=page, size=size
            )
        )
    _print_orders("overdue tests", found, as_json)


# ------------------------------------------------------------------------------------------ campaigns


def _jurisdiction_ids(session: Session, codes: list[str], option: str) -> list[int]:
    """Jurisdiction codes (or ids) as ids; an unknown one is named."""
    from sqlalchemy import or_, select

    from fangkong.core.models import Jurisdiction

    ids: list[int] = []
    for code in codes:
        found = session.scalar(
            select(Jurisdiction.id).where(
                or_(
                    Jurisdiction.code == code,
                    Jurisdiction.id == (int(code) if code.isdigit() and len(code) < 10 else -1),
                )
            )
        )
        if found is None:
            raise typer.BadParameter(f"no jurisdiction {code!r}", param_hint=option)
        ids.append(found)
    return ids


def _advice_json(advice: Any) -> dict[str, Any]:
    return {
        "campaign_id": advice.campaign_id,
        "rounds_closed": advice.rounds_closed,
        "stop": advice.stop.stop,
        "phase": advice.stop.phase.value,
        "clean_streak": advice.stop.clean_streak,
        "stop_rule_next_round_on": advice.stop.next_round_on,
        "interval_days": advice.frequency.interval_days,
        "frequency_reason": advice.frequency.reason.value,
        "next_round_on": advice.next_round_on,
    }


@campaign_app.command("create")
def campaign_create(
    name: Annotated[str, typer.Argument(help="the campaign's name")],
    user: User,
    area: Annotated[list[str], typer.Option("--area", help="a jurisdiction code of the area (repeat)")],
    sealed: Annotated[
        list[str] | None,
        typer.Option("--sealed", help="a sealed area's code, one tube per household (repeat)"),
    ] = None,
    pool: Annotated[int, typer.Option("--pool", help="people per tube: 1, 5, 10 or 20")] = 10,
    deadline_hours: Annotated[int, typer.Option(min=1, help="hours a round has")] = 24,
    reason: Annotated[str, typer.Option(help="why the area is tested")] = "",
    as_json: AsJson = False,
) -> None:
    """A regional testing campaign over jurisdictions of yours."""
    from fangkong.testing.service import rounds

    with acting_user(user, Permission.testing_manage, as_json=as_json) as (session, me):
        campaign = rounds.create_campaign(
            session,
            me,
            name=name,
            areas=_jurisdiction_ids(session, area, "--area"),
            sealed=_jurisdiction_ids(session, sealed or [], "--sealed"),
            pool_size=pool,
            deadline_hours=deadline_hours,
            reason=reason,
        )
        data = {"ok": True, "id": campaign.id, "name": campaign.name, "pool_size": campaign.pool_size}
    if as_json:
        echo_json(data)
    else:
        _console().print(f"campaign {data['id']} {data['name']} created (pool size {data['pool_size']})")


@campaign_app.command("list")
def campaign_list(user: User, as_json: AsJson = False) -> None:
    """The campaigns in your jurisdiction, newest first, with their rounds."""
    from sqlalchemy import func, select

    from fangkong.core.scope import under
    from fangkong.testing.models import Campaign, CampaignRound

    with acting_user(user, Permission.testing_read, as_json=as_json) as (session, me):
        rounds = dict(
            session.execute(
                select(CampaignRound.campaign_id, func.count()).group_by(CampaignRound.campaign_id)
            ).all()
        )
        rows = [
            {
                "id": c.id,
                "name": c.name,
                "state": c.state.value,
                "pool_size": c.pool_size,
                "deadline_hours": c.deadline_hours,
                "rounds": int(rounds.get(c.id, 0)),
                "created_by": c.created_by,
            }
            for c in session.scalars(
                select(Campaign).where(under(Campaign.jpath, me.jpath)).order_by(Campaign.id.desc())
            )
        ]
    if as_json:
        echo_json({"campaigns": rows})
        return
    _table(
        f"{len(rows)} campaigns",
        ("id", "name", "state", "pool size", "rounds", "created by"),
        [(r["id"], r["name"], r["state"], r["pool_size"], r["rounds"], r["created_by"]) for r in rows],
    )


@campaign_app.command("advice")
def campaign_advice(
    campaign_id: Annotated[int, typer.Argument(min=1, help="the campaign's id")],
    user: User,
    source_unknown: Annotated[bool, typer.Option(help="the outbreak's source is not known yet")] = False,
    last_case: Annotated[str, typer.Option(help="the latest case in the area (YYYY-MM-DD)")] = "",
    as_json: AsJson = False,
) -> None:
    """What the stop rule and the round-frequency rule say now: stop or not, and the next round's day."""
    from fangkong.testing.service import rounds

    last = _day(last_case, "--last-case")
    with acting_user(user, Permission.testing_read, as_json=as_json) as (session, me):
        advice = rounds.advice(session, me, campaign_id, source_unknown=source_unknown, last_case_on=last)
    data = _advice_json(advice)
    if as_json:
        echo_json(data)
        return
    console = _console()
    if advice.stop.stop:
        console.print(
            f"campaign {campaign_id}: the stop rule is met after {advice.rounds_closed} rounds: stop"
        )
        return
    console.print(
        f"campaign {campaign_id}: {advice.rounds_closed} rounds closed, "
        f"{advice.stop.clean_streak} clean in a row "
        f"({advice.stop.phase.value}); every {advice.frequency.interval_days} day(s) "
        f"({advice.frequency.reason.value}); next round on {advice.next_round_on}"
    )


# ------------------------------------------------------------------------------------------ rounds


def _round_json(found: Any) -> dict[str, Any]:
    from fangkong.core.clock import as_local

    return {
        "id": found.id,
        "campaign_id": found.campaign_id,
        "number": found.number,
        "day": found.day,
        "starts_at": as_local(found.starts_at),
        "deadline_at": as_local(found.deadline_at),
        "state": found.state.value,
        "community_positives": found.community_positives,
    }


@round_app.command("open")
def round_open(
    campaign_id: Annotated[int, typer.Argument(min=1, help="the campaign's id")],
    user: User,
    starts_at: Annotated[str, typer.Option(help="local start time (YYYY-MM-DDTHH:MM; default now)")] = "",
    as_json: AsJson = False,
) -> None:
    """Open the campaign's next round: its deadline and the people it expects per community."""
    from fangkong.core.clock import from_local
    from fangkong.testing.service import rounds

    try:
        start = from_local(dt.datetime.fromisoformat(starts_at)) if starts_at else None
    except ValueError:
        raise typer.BadParameter(f"{starts_at!r} is not a time", param_hint="--starts-at") from None
    with acting_user(user, Permission.testing_manage, as_json=as_json) as (session, me):
        data = _round_json(rounds.open_round(session, me, campaign_id, starts_at=start))
    if as_json:
        echo_json(data)
    else:
        _console().print(f"round {data['number']} (id {data['id']}) open until {data['deadline_at']}")


@round_app.command("close")
def round_close(
    round_id: Annotated[int, typer.Argument(min=1, help="the round's id")],
    user: User,
    positives: Annotated[
        int | None, typer.Option(min=0, help="community infections found (default: counted from results)")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Close a round with the community infections it found."""
    from fangkong.testing.service import rounds
    from fangkong.wiring import build_bus

    with acting_user(user, Permission.testing_manage, as_json=as_json) as (session, me):
        closed = rounds.close_round(session, me, round_id, community_positives=positives, bus=build_bus())
        data = _round_json(closed)
    if as_json:
        echo_json(data)
    else:
        _console().print(
            f"round {data['number']} closed: {data['community_positives']} community infection(s)"
        )


@round_app.command("coverage")
def round_coverage(
    round_id: Annotated[int, typer.Argument(min=1, help="the round's id")],
    user: User,
    as_json: AsJson = False,
) -> None:
    """应检未检: per community, expected, sampled, not sampled, without result; and the turnaround."""
    from fangkong.testing.service import coverage

    with acting_user(user, Permission.testing_read, as_json=as_json) as (session, me):
        found = coverage.coverage(session, me, round_id)
        times = coverage.turnaround(session, me, round_id)
    communities = [{**vars(c), "share": c.share} for c in found.communities]
    if as_json:
        echo_json(
            {
                "round_id": found.round_id,
                "number": found.number,
                "expected": found.expected,
                "sampled": found.sampled,
                "not_sampled": found.not_sampled,
                "without_result": found.without_result,
                "communities": communities,
                "turnaround": {**vars(times), "on_time_share": times.on_time_share},
            }
        )
        return
    _table(
        f"round {found.number}: {found.sampled:,} of {found.expected:,} sampled, "
        f"{found.not_sampled:,} not sampled",
        ("community", "expected", "sampled", "not sampled", "without result", "coverage"),
        [
            (
                c.name,
                f"{c.expected:,}",
                f"{c.sampled:,}",
                f"{c.not_sampled:,}",
                f"{c.without_result:,}",
                f"{c.share:.0%}",
            )
            for c in found.communities
        ],
    )
    median = "-" if times.median_hours is None else f"{times.median_hours:.1f} h"
    _console().print(
        f"turnaround: {times.resulted:,} of {times.tubes:,} tubes resulted (median {median}), "
        f"{times.late:,} late, {times.overdue:,} overdue"
    )


# ------------------------------------------------------------------------------------------ results


@results_app.command("load")
def results_load(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="CSV, Excel (.xlsx) or FHIR JSON")
    ],
    user: User,
    fhir: Annotated[bool, typer.Option("--fhir", help="the file is a FHIR R4 Bundle")] = False,
    lab: Annotated[int | None, typer.Option("--lab", min=1, help="the laboratory's id")] = None,
    as_json: AsJson = False,
) -> None:
    """Load a lab's results: a bad row refuses the file (every problem named), an unknown barcode is
    reported and the rest loads, the same file twice changes nothing."""
    from fangkong.testing.service import results
    from fangkong.wiring import build_bus

    with acting_user(user, Permission.lab_results, as_json=as_json) as (session, me):
        if fhir:
            report = results.load_fhir(
                session, me, file.read_bytes(), laboratory_id=lab, origin=file.name, bus=build_bus()
            )
        else:
            report = results.load_results(session, me, file, laboratory_id=lab, bus=build_bus())
    unknown = [{"row": e.row, "field": e.field, "message": e.message} for e in report.unknown]
    data = {**vars(report), "ok": True, "unknown": unknown, "seconds": round(report.seconds, 3)}
    if as_json:
        echo_json(data)
        return
    console = _console()
    console.print(
        f"{report.origin}: {report.rows:,} rows, {report.loaded:,} loaded "
        f"({report.corrections:,} corrections), "
        f"{report.unchanged:,} already loaded, {len(unknown):,} unknown barcodes; "
        f"{report.positive_pools:,} positive pools, {report.recalled:,} people recalled, "
        f"{report.positive_people:,} positive people"
    )
    for e in report.unknown[:50]:
        console.print(f"  row {e.row}, {e.field}: {e.message}")


# ------------------------------------------------------------------------------------------ recalls


@app.command("recalls")
def recalls_command(
    user: User,
    state: Annotated[str, typer.Option(help="flagged, located or retested")] = "",
    tube: Annotated[int | None, typer.Option(min=1, help="only this pool's members (the tube's id)")] = None,
    as_json: AsJson = False,
) -> None:
    """Members of positive pools to locate and retest, soonest deadline first."""
    from fangkong.core.clock import as_local
    from fangkong.testing.models import RecallState
    from fangkong.testing.service import recall

    try:
        wanted = RecallState(state) if state else None
    except ValueError:
        raise typer.BadParameter(
            f"one of {', '.join(s.value for s in RecallState)}", param_hint="--state"
        ) from None
    with acting_user(user, Permission.testing_read, as_json=as_json) as (session, me):
        views = recall.recall_list(session, me, tube_id=tube, state=wanted)
    rows = [
        {
            "id": v.id,
            "tube_id": v.tube_id,
            "pool_barcode": v.pool_barcode,
            "person_id": v.person_id,
            "name": v.person_name,
            "state": v.state.value,
            "deadline_at": as_local(v.deadline_at),
            "located_at": as_local(v.located_at) if v.located_at else None,
            "retest_barcode": v.retest_barcode,
            "result": v.result.value if v.result else None,
            "late": v.late,
        }
        for v in views
    ]
    if as_json:
        echo_json({"recalls": rows})
        return
    _table(
        f"{len(rows)} members of positive pools",
        ("recall", "pool", "person", "name", "state", "deadline", "late", "retest", "result"),
        [
            (
                r["id"],
                r["pool_barcode"],
                r["person_id"],
                r["name"],
                r["state"],
                r["deadline_at"],
                r["late"],
                r["retest_barcode"],
                r["result"],
            )
            for r in rows
        ],
    )
