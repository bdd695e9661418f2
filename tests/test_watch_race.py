"""A poll that read a job before a Pause click, and reached storage after it, changes nothing.

The watcher reads a running job, then its metrics events, then records both. A small proxy in front of the
emulator (a real HTTP server) holds the events read until the test releases it, so the watcher sits between
its read and its record while a person clicks Pause in Slack — however long the click takes. Its read
("running") is older than the Pause's answer ("paused"): recorded after it, it would tell the thread
"running" and, at the next poll, "paused" once more.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
import pytest
from aiohttp import web

from bot.sandbox.emulator.control import EmulatorControl
from bot.sandbox.emulator.server import EmulatorServer
from bot.views.actions import ACTION_PAUSE, ACTION_RESUME
from tests.support.background import FAST_POLL, AppRig, fast_background
from tests.support.runtime import StartBot

CHANNEL = "C_ML"
# Response headers the proxy does not pass on: aiohttp sets them itself for the body it sends.
_HOP_HEADERS = {"content-length", "content-encoding", "transfer-encoding", "connection"}


@pytest.fixture(autouse=True)
async def frozen_emulator(emulator_control: EmulatorControl) -> None:
    await emulator_control.set_speed(0)


class HoldingProxy:
    """Forwards every request to the emulator; while `holding`, a GET of events waits for `release()`."""

    def __init__(self, upstream: str) -> None:
        self._upstream = upstream
        self.holding = False
        self.held = 0  # events reads that arrived while holding
        self._released = asyncio.Event()
        self._session: aiohttp.ClientSession | None = None

    def hold_events(self) -> None:
        self.holding = True
        self._released.clear()

    def release(self) -> None:
        self.holding = False
        self._released.set()

    async def forward(self, request: web.Request) -> web.Response:
        if self.holding and request.method == "GET" and "/events" in request.path:
            self.held += 1
            await self._released.wait()
        assert self._session is not None
        headers = {k: v for k, v in request.headers.items() if k.lower() != "host"}
        async with self._session.request(
            request.method, self._upstream + request.path_qs, headers=headers, data=await request.read()
        ) as answer:
            body = await answer.read()
            kept = {k: v for k, v in answer.headers.items() if k.lower() not in _HOP_HEADERS}
            return web.Response(status=answer.status, body=body, headers=kept)

    async def serve(self) -> AsyncIterator[str]:
        self._session = aiohttp.ClientSession()
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.forward)
        runner = web.AppRunner(app, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            self.release()
            await runner.cleanup()
            await self._session.close()


@pytest.fixture
async def proxy(emulator: EmulatorServer) -> AsyncIterator[tuple[HoldingProxy, str]]:
    holding = HoldingProxy(emulator.url)
    async for url in holding.serve():
        yield holding, url + emulator.openai_base_url.removeprefix(emulator.url)


@pytest.fixture
async def held_rig(start_bot: StartBot, proxy: tuple[HoldingProxy, str]) -> AsyncIterator[AppRig]:
    """`app_rig`, its fine-tuning API reached through the holding proxy."""
    bot = await start_bot(background=False, TUNEOPS_POLL_INTERVAL=FAST_POLL, OPENAI_BASE_URL=proxy[1])
    background = fast_background(bot.services)
    await background.start()
    try:
        yield AppRig(bot=bot, background=background)
    finally:
        proxy[0].release()
        await background.stop(timeout=2.0)


async def _until(predicate: Callable[[], Awaitable[object]], within: float = 15.0) -> None:
    deadline = time.monotonic() + within
    while not await predicate():
        if time.monotonic() >= deadline:
            raise TimeoutError(f"condition not met within {within} s")
        await asyncio.sleep(0.02)


async def _answered(control: EmulatorControl, operation: str) -> int:
    """How many requests of `operation` the emulator answered since its stats were last reset."""
    return sum((await control.stats())["by_operation"].get(operation, {}).values())


async def test_a_poll_overtaken_by_a_pause_click_adds_no_running_and_paused_pair(
    held_rig: AppRig, proxy: tuple[HoldingProxy, str]
) -> None:
    rig, control, store, holding = held_rig, held_rig.bot.control, held_rig.bot.store, proxy[0]
    job_id, card = await rig.bot.create_job(user="U_ALICE", channel=CHANNEL, extra="suffix=race")
    await control.advance(30 + 6 * 5)  # running, a few steps in
    await rig.slack.wait_for(lambda: rig.transitions(CHANNEL, card.ts) == ["1:running"])
    await rig.slack.wait_for(lambda: ACTION_PAUSE in str(card.blocks))

    # From now on every events read waits at the proxy until released: once one is held, the watcher has
    # read "running" and not recorded it yet.
    holding.hold_events()
    await control.reset_stats()
    await rig.slack.wait_for(lambda: holding.held >= 1)

    sent = await rig.slack.sender.click(card, ACTION_PAUSE, user="U_ALICE")
    assert sent.status == 200
    await rig.slack.wait_for(lambda: ACTION_RESUME in str(card.blocks))
    tracked = await store.get_job(job_id)
    assert tracked is not None and tracked.status == "paused"
    # The race really happened: the Pause was recorded while the watcher still waited for its events.
    assert await _answered(control, "listFineTuningEvents") == 0

    # Let the held read finish and be recorded (the watcher's cycle ends after it), then one more poll.
    holding.release()
    await _until(lambda: _answered(control, "listFineTuningEvents"))
    released = rig.bot.services.clock()
    watcher = rig.background.watcher
    await rig.slack.wait_for(lambda: (watcher.last_cycle_at or 0.0) > released)
    await control.reset_stats()
    await _until(lambda: _answered(control, "retrieveFineTuningJob"))
    polled = rig.bot.services.clock()
    await rig.slack.wait_for(lambda: (watcher.last_cycle_at or 0.0) > polled)

    async def delivered() -> bool:
        return (await store.outbox_stats(now=rig.bot.services.clock())).pending == 0

    await _until(delivered)
    # One reply for the click, naming who paused; no "running" from the old read, no second "paused".
    assert rig.transitions(CHANNEL, card.ts) == ["1:running", "2:paused"]
    notes = rig.notes(CHANNEL, card.ts)
    assert sum("Paused by <@U_ALICE>" in note.text for note in notes) == 1
    tracked = await store.get_job(job_id)
    assert tracked is not None
    assert (tracked.status, tracked.status_seq) == ("paused", 2)
    # The card kept showing the job paused: once it offered Resume it never offered Pause again.
    looks = [str(version.blocks) for version in card.versions] + [str(card.blocks)]
    paused_from = next(n for n, look in enumerate(looks) if ACTION_RESUME in look)
    assert all(ACTION_PAUSE not in look for look in looks[paused_from:])
    assert await rig.bot.job_status_in_emulator(job_id) == "paused"
