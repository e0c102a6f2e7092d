"""Turns at the database (core.deps.DatabaseGate): bounded, in arrival order, and a 503 instead of forever."""

from __future__ import annotations

import anyio
import pytest

from conftest import run_in_own_loop
from fangkong.core.deps import DatabaseBusy, DatabaseGate


def test_past_the_limit_a_request_waits_and_is_told_the_server_is_busy_rather_than_waiting_forever() -> None:
    gate = DatabaseGate(2, one_writer=False, wait_seconds=0.05)

    async def main() -> None:
        async with gate.turn(write=False), gate.turn(write=True):
            with pytest.raises(DatabaseBusy) as refused:
                async with gate.turn(write=False):
                    pass
            assert refused.value.status_code == 503
            assert refused.value.headers == {"Retry-After": "5"}
        async with gate.turn(write=False):  # the turns were given back
            pass

    run_in_own_loop(main)


def test_on_sqlite_writers_take_turns_one_at_a_time_while_readers_go_beside_them() -> None:
    gate = DatabaseGate(4, one_writer=True, wait_seconds=0.05)

    async def main() -> None:
        async with gate.turn(write=True):
            async with gate.turn(write=False):
                pass
            with pytest.raises(DatabaseBusy):
                async with gate.turn(write=True):
                    pass

    run_in_own_loop(main)


def test_on_postgresql_writers_go_side_by_side() -> None:
    gate = DatabaseGate(4, one_writer=False, wait_seconds=0.05)

    async def main() -> None:
        async with gate.turn(write=True), gate.turn(write=True):
            pass

    run_in_own_loop(main)


def test_waiting_writers_are_served_in_the_order_they_came() -> None:
    gate = DatabaseGate(4, one_writer=True, wait_seconds=5)
    served: list[int] = []

    async def writer(number: int, started: anyio.Event) -> None:
        started.set()
        async with gate.turn(write=True):
            served.append(number)
            await anyio.sleep(0)

    async def main() -> None:
        async with anyio.create_task_group() as group, gate.turn(write=True):
            for number in range(5):
                started = anyio.Event()
                group.start_soon(writer, number, started)
                await started.wait()
                await anyio.sleep(0)  # let it reach the gate before the next one comes

    run_in_own_loop(main)
    assert served == [0, 1, 2, 3, 4]
