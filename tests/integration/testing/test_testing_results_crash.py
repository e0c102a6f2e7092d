"""A results load killed with SIGKILL mid-file, then run again, leaves exactly what one clean run leaves, on
both databases: the loader runs in a subprocess that stops before committing its third chunk and is
killed there; the chunks it committed stay, the one it was writing is rolled back, and the re-run loads
the rest without doubling anything (rows, versions, recalls, plans, cases)."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
from pathlib import Path

from conftest import FROZEN_AT, HOME_COUNTY, World, _wipe, seed_world
from fangkong.testing.models import TubeKind
from testing_support import acting_as, pooled_tube, state_snapshot, write_results

TESTS = Path(__file__).parents[2]
SAMPLED = dt.datetime(2026, 12, 6, 0, 30, tzinfo=dt.UTC)
CHUNK = 10
TUBES = 40

# The loader as an operator would run it, in a process of its own. With KILL_AT it stops before
# committing that chunk and waits to be killed.
LOADER = """
import datetime as dt, os, sys, time
from pathlib import Path
from sqlalchemy import select
from fangkong.core import clock
from fangkong.core.auth import principal_for
from fangkong.core.db import Database
from fangkong.core.models import User
from fangkong.testing.service import results
from fangkong.wiring import build_bus
from testing_orders_support import with_order_handlers

kill_at = int(os.environ.get("KILL_AT", "0"))

def written(chunk):
    print(f"chunk {chunk}", flush=True)
    if chunk == kill_at:
        time.sleep(600)

results.on_chunk_written = written
clock.set_time_zone(clock.DEFAULT_TIME_ZONE)
with clock.freeze(dt.datetime.fromisoformat(sys.argv[3])):
    db = Database(sys.argv[1])
    with db.unit_of_work() as session:
        user = session.scalar(select(User).where(User.username == "home_laboratory"))
        report = results.load_results(
            session, principal_for(session, user, "token"), Path(sys.argv[2]),
            bus=with_order_handlers(build_bus()), chunk_size=int(sys.argv[4]),
        )
    print(f"done {report.loaded} {report.unchanged} {len(report.unknown)}", flush=True)
    db.dispose()
"""


def _setup(app, world: World, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    """Forty tubes: positive pools in chunks 1 and 3, a positive single tube in chunk 2, the rest negative."""
    people = world.people[HOME_COUNTY]
    rows = []
    with acting_as(app.state.db, "home_laboratory") as (session, _me):
        for i in range(TUBES):
            barcode = f"T-{i:03d}"
            if i == 5:
                pooled_tube(session, barcode, people[:3], scanned_at=SAMPLED, first_seq=100)
            elif i == 25:
                pooled_tube(session, barcode, people[3:5], scanned_at=SAMPLED, first_seq=200)
            elif i == 12:
                pooled_tube(
                    session,
                    barcode,
                    people[5:6],
                    scanned_at=SAMPLED,
                    pool_size=1,
                    kind=TubeKind.single,
                    first_seq=300,
                )
            else:
                pooled_tube(session, barcode, [], scanned_at=SAMPLED)
            positive = i in (5, 12, 25)
            rows.append(
                (barcode, "阳性" if positive else "阴性", "30.5" if positive else "", "", "2026-12-06 14:00")
            )
    rows.insert(17, ("UNKNOWN-1", "阴性", "", "", "2026-12-06 14:00"))
    return write_results(tmp_path / "lab.csv", rows)


def _run(url: str, path: Path, kill_at: int = 0) -> subprocess.Popen[str]:
    env = {**os.environ, "KILL_AT": str(kill_at), "PYTHONPATH": str(TESTS)}
    return subprocess.Popen(
        [sys.executable, "-c", LOADER, url, str(path), FROZEN_AT.isoformat(), str(CHUNK)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=TESTS.parent,
    )


def _finish(process: subprocess.Popen[str]) -> str:
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, err
    return out


def test_a_load_killed_mid_file_then_run_again_equals_one_clean_run(
    app, world: World, settings, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    url = settings.resolved_database_url()
    path = _setup(app, world, tmp_path)

    killed = _run(url, path, kill_at=3)
    assert killed.stdout is not None
    lines = []
    for line in killed.stdout:
        lines.append(line.strip())
        if line.strip() == "chunk 3":
            break
    assert lines == ["chunk 1", "chunk 2", "chunk 3"], killed.stderr.read() if killed.stderr else ""
    os.kill(killed.pid, signal.SIGKILL)
    killed.wait(timeout=60)
    assert killed.returncode == -signal.SIGKILL
    with acting_as(app.state.db, "home_laboratory") as (session, _me):
        partial = state_snapshot(session)
        # Two chunks committed (20 rows, one of them the unknown barcode); the third was rolled back.
        assert len(partial["results"]) == 19  # type: ignore[arg-type]
    assert _finish(_run(url, path)).split()[-3:] == ["21", "19", "1"]
    with acting_as(app.state.db, "home_laboratory") as (session, _me):
        after_crash = state_snapshot(session)
    assert _finish(_run(url, path)).split()[-3:] == ["0", "40", "1"], "a third run changes nothing"

    # The same world again, loaded in one clean run.
    app.state.db.dispose()
    _wipe(app.state.db)
    again = seed_world(app.state.db, (settings.encryption_key, settings.hash_key))
    assert again.people == world.people
    _setup(app, again, tmp_path)
    assert _finish(_run(url, path)).split()[-3:] == ["40", "0", "1"]
    with acting_as(app.state.db, "home_laboratory") as (session, _me):
        clean = state_snapshot(session)
    assert after_crash == clean
    assert len(clean["results"]) == TUBES  # type: ignore[arg-type]
    assert len(clean["recalls"]) == 5  # type: ignore[arg-type]
    assert len(clean["cases"]) == 1  # type: ignore[arg-type]
    assert sum(1 for p in clean["plans"] if p[2] == "pool_positive_member") == 5  # type: ignore[attr-defined, index]
