"""Supervision and health: a dying loop is restarted and counted; a stalled or stopped watcher is unhealthy."""

from __future__ import annotations

import asyncio

from bot.app.supervisor import supervise
from bot.ops.metrics import REGISTRY
from tests.support.background import Rig, RigFactory


def _restarts(task: str) -> float:
    return REGISTRY.get_sample_value("tuneops_watcher_restarts_total", {"task": task}) or 0.0


async def test_a_loop_that_dies_is_restarted_and_counted() -> None:
    stopping = asyncio.Event()
    up_again = asyncio.Event()
    runs: list[float] = []
    before = _restarts("drill-loop")

    async def flaky() -> None:
        runs.append(asyncio.get_running_loop().time())
        if len(runs) < 4:
            raise RuntimeError("database is locked")
        up_again.set()
        await stopping.wait()  # the fourth run stays up until asked to stop

    task = asyncio.create_task(
        supervise("drill-loop", flaky, stopping=stopping, min_backoff=0.01, max_backoff=0.2)
    )
    await asyncio.wait_for(up_again.wait(), timeout=5)
    stopping.set()
    await asyncio.wait_for(task, timeout=2)

    assert len(runs) == 4
    assert _restarts("drill-loop") - before == 3


async def test_a_loop_that_returns_when_asked_to_stop_is_not_restarted() -> None:
    stopping = asyncio.Event()
    started = asyncio.Event()
    runs = 0
    before = _restarts("quiet-loop")

    async def polite() -> None:
        nonlocal runs
        runs += 1
        started.set()
        await stopping.wait()

    task = asyncio.create_task(supervise("quiet-loop", polite, stopping=stopping))
    await asyncio.wait_for(started.wait(), timeout=5)
    stopping.set()
    await asyncio.wait_for(task, timeout=2)
    assert runs == 1
    assert _restarts("quiet-loop") == before


async def test_the_background_is_healthy_while_it_cycles_and_unhealthy_when_stalled_or_stopped(
    make_rig: RigFactory,
) -> None:
    rig: Rig = await make_rig()
    await rig.until(lambda: rig.background.last_cycle_at is not None)
    now = rig.services.clock()
    assert rig.background.healthy(now)
    interval = rig.services.settings.poll_interval
    # Nothing has completed a cycle for more than 3 × the poll interval + the margin: a silent stall.
    assert not rig.background.healthy(now + 3 * interval + 31)

    await rig.background.stop(timeout=1)
    assert not rig.background.healthy(rig.services.clock())
