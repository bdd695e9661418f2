"""A job's card is posted once per channel, even when Slack's answer to the post is lost.

Slack can post a message and still answer 500, or lose the connection before its answer arrives. The
stand-in's own faults refuse a call without doing it, so `LossySlack` — a real HTTP hop in front of the
stand-in — forwards a call (Slack does the work) and then loses the answer.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Literal

import aiohttp
import pytest
from aiohttp import web

from bot.sandbox.standin import SlackStandIn
from tests.support.runtime import CREATE_ARGS, BotRig, StartBot, texts_of

Loss = Literal["500", "drop"]


class LossySlack:
    """Forwards every Web API call to the stand-in; the next calls of a method chosen with `lose_next`
    reach the stand-in, but their answer is replaced by a 500 or a dropped connection."""

    def __init__(self, target_api_url: str) -> None:
        self._target = target_api_url
        self._losses: dict[str, list[Loss]] = {}
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self.api_url = ""

    def lose_next(self, method: str, how: Loss, n: int = 1) -> None:
        self._losses.setdefault(method, []).extend([how] * n)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.api_url = f"http://127.0.0.1:{port}/api/"
        self._session = aiohttp.ClientSession()

    async def stop(self) -> None:
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        assert self._session is not None
        method = request.match_info["method"]
        headers = {k: v for k, v in request.headers.items() if k.lower() in ("authorization", "content-type")}
        async with self._session.request(
            request.method,
            self._target + method,
            params=request.query,
            data=await request.read(),
            headers=headers,
        ) as answer:
            body, status = await answer.read(), answer.status
            content_type = answer.headers.get("Content-Type", "application/json")
        losses = self._losses.get(method)
        if losses:
            how = losses.pop(0)
            if how == "drop":
                assert request.transport is not None
                request.transport.close()  # the client sees the connection go, no answer
                return web.Response()
            return web.json_response({"ok": False, "error": "internal_error"}, status=500)
        return web.Response(body=body, status=status, headers={"Content-Type": content_type})


@pytest.fixture
async def lossy(slack: SlackStandIn) -> AsyncIterator[LossySlack]:
    proxy = LossySlack(slack.api_url)
    await proxy.start()
    yield proxy
    await proxy.stop()


async def _bot_behind(start_bot: StartBot, lossy: LossySlack) -> BotRig:
    return await start_bot(SLACK_API_URL=lossy.api_url)


@pytest.mark.parametrize("how", ["500", "drop"])
async def test_a_card_posted_but_answered_with_a_failure_is_not_posted_again(
    start_bot: StartBot, lossy: LossySlack, how: Loss
) -> None:
    bot = await _bot_behind(start_bot, lossy)
    lossy.lose_next("chat.postMessage", how)
    await bot.slack.sender.slash(f"create {CREATE_ARGS}")
    # The request's response_url is the stand-in's, not the proxy's this bot takes for Slack: the bot
    # answers with chat.postEphemeral instead, through the proxy. That answer is its last word.
    notes = await bot.slack.wait_for(
        lambda: [e for e in bot.slack.ephemerals("U_ALICE") if "Started" in e.text]
    )
    (card,) = bot.slack.messages("C_ML")  # one card, not two
    (job,) = await bot.store.channel_jobs("C_ML")
    assert job.job_id in card.text
    # The card found in the channel is the one remembered: edits and the notifier's replies go to it.
    watch = await bot.store.get_watch(job.job_id, "C_ML")
    assert watch is not None and watch.card_ts == card.ts
    assert "Its card is in this channel" in texts_of(notes)
    assert "couldn't post" not in texts_of(notes)


async def test_a_card_refused_with_a_500_is_posted_once_on_the_second_try(bot: BotRig) -> None:
    bot.slack.fail_next(1, status=500, method="chat.postMessage")  # refused: nothing was posted
    job_id, card = await bot.create_job()
    assert [m.ts for m in bot.slack.messages("C_ML")] == [card.ts]
    # Before posting again, the bot looked for the card in the channel (and did not find it).
    assert len(bot.slack.calls_to("conversations.history")) == 1
    assert [c.status for c in bot.slack.calls_to("chat.postMessage")] == [500, 200]
    watch = await bot.store.get_watch(job_id, "C_ML")
    assert watch is not None and watch.card_ts == card.ts


async def test_a_card_that_cannot_be_posted_twice_over_is_explained(bot: BotRig) -> None:
    bot.slack.fail_next(2, status=503, method="chat.postMessage")
    sent = await bot.slack.sender.slash(f"create {CREATE_ARGS}")
    answer = await bot.answer_text(sent)
    job = (await bot.store.channel_jobs("C_ML"))[0]
    assert f"Started `{job.job_id}`, but I couldn't post the card" in answer
    assert f"`/finetune watch {job.job_id}` here tries again" in answer
    assert bot.slack.messages("C_ML") == []
    assert len(bot.slack.calls_to("chat.postMessage")) == 2  # no third try behind the person's back
