"""`KeyedLocks`: operations on one job run one at a time; different jobs do not wait for each other."""

from __future__ import annotations

import asyncio

import pytest

from bot.jobs.keyed_locks import KeyedLocks


async def test_same_key_runs_one_at_a_time_and_is_forgotten_after() -> None:
    locks = KeyedLocks()
    order: list[str] = []

    async def work(name: str, key: str) -> None:
        async with locks.hold(key):
            order.append(f"{name} in")
            await asyncio.sleep(0.01)
            order.append(f"{name} out")

    await asyncio.gather(work("a", "ftjob-1"), work("b", "ftjob-1"))
    assert order in (["a in", "a out", "b in", "b out"], ["b in", "b out", "a in", "a out"])
    assert len(locks) == 0


async def test_different_keys_do_not_wait() -> None:
    locks = KeyedLocks()
    inside = asyncio.Event()

    async def holder() -> None:
        async with locks.hold("ftjob-1"):
            await inside.wait()

    task = asyncio.create_task(holder())
    await asyncio.sleep(0)
    async with locks.hold("ftjob-2"):  # would hang if keys shared a lock
        inside.set()
    await task
    assert len(locks) == 0


async def test_an_error_inside_releases_the_key() -> None:
    locks = KeyedLocks()
    with pytest.raises(RuntimeError):
        async with locks.hold("ftjob-1"):
            raise RuntimeError("boom")
    async with asyncio.timeout(1), locks.hold("ftjob-1"):
        pass
    assert len(locks) == 0
