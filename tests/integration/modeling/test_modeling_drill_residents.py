"""A drill's synthetic residents next to a real registry (issue 11, item 13), on both databases.

In a county of a few hundred thousand residents, a few of a drill's generated ID numbers are someone's
already: in the demo region a draw of 3,000 residents holds one such number about every other time,
and a drill refused the whole draw three times over ("could not generate residents whose ID numbers
are all new"). Those few residents are now left out; the registry's own people are untouched.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from conftest import HOME_COUNTY, World, token_for
from fangkong.core.demo.population import write_people_csv
from fangkong.core.models import Person
from fangkong.modeling import drills

PEOPLE = 1200
SEED = 4
# The first sandbox of 西湖区 (330106): the county code and the first sandbox serial, 999.
SANDBOX = f"{HOME_COUNTY}999"


def _drawn_id_number(tmp_path: Path, attempt: int, row: int) -> str:
    """The ID number the drill will draw for one resident (``row`` counts the header as row 1)."""
    path = tmp_path / f"draw{attempt}.csv"
    communities = [f"{SANDBOX}{i:03d}" for i in range(1, drills.DEFAULT_COMMUNITIES + 1)]
    write_people_csv(
        path, PEOPLE, seed=drills.resident_seed(SEED, SANDBOX, attempt), community_codes=communities
    )
    line = path.read_text(encoding="utf-8").splitlines()[row - 1]
    return line.split(",")[0]


def test_residents_whose_id_numbers_are_registered_already_are_left_out_of_the_drill(
    client, world: World, app, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    # Every draw the drill may make holds an ID number someone in the county has already.
    admin = token_for(client, "province_admin")
    taken = [_drawn_id_number(tmp_path, attempt, 10) for attempt in range(drills.RESIDENT_DRAWS)]
    for i, id_number in enumerate(taken):
        registered = client.post(
            "/api/people",
            headers=admin,
            json={
                "id_number": id_number,
                "name": "赵六",
                "phone": f"1391234{i:04d}",
                "community_code": "330106001001",
                "address": f"保俶社区 幸福路{i + 20}号",
            },
        )
        assert registered.status_code == 201, registered.text

    headers = token_for(client, "home_command_centre")
    body: dict[str, Any] = {"people": PEOPLE, "days": 14, "seed": SEED, "realtime": False}
    started = client.post("/api/modeling/drills", json=body, headers=headers)
    assert started.status_code == 201, started.text
    assert started.json()["people"] == PEOPLE - 1
    with app.state.db.unit_of_work() as session:
        real = session.scalar(select(func.count()).select_from(Person).where(Person.jpath.startswith("/330")))
        assert real == sum(len(p) for p in world.people.values()) + len(taken)
