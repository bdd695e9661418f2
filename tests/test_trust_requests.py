"""Nothing from outside acts without a valid signature: every request is verified before anything reads it.

Each request here names a `response_url` and a channel the bot would answer; a request that is refused
must leave no trace at Slack (no Web API call, no response_url post) and log one line, no traceback.
"""

from __future__ import annotations

import logging
import time

import pytest
from aiohttp import web

from bot.sandbox.standin.payloads import slash_command_form
from tests.support.runtime import CREATE_ARGS, BotRig


def _command(bot: BotRig, text: str, *, user: str = "U_ALICE", channel: str = "C_ML") -> bytes:
    ws = bot.slack.workspace
    target = ws.register_response_url(channel, user)
    return slash_command_form(
        ws,
        command="/finetune",
        text=text,
        user=user,
        channel=channel,
        response_url=bot.slack.response_url(target.id),
        trigger_id=ws.issue_trigger(user),
    )


def _traces(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.exc_info]


@pytest.mark.parametrize("timestamp", ["abc", "", "1e9", "-5", "99999999999999999999", "0x10"])
async def test_a_malformed_timestamp_is_refused_before_anything_runs(
    bot: BotRig, timestamp: str, caplog: pytest.LogCaptureFixture
) -> None:
    body = _command(bot, "help")
    bot.slack.reset_records()
    with caplog.at_level(logging.WARNING):
        sent = await bot.slack.sender.signed_post(
            body, headers={"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": "v0=junk"}
        )
    assert sent.status == 401
    assert bot.slack.calls == [] and bot.slack.responses == []
    assert not _traces(caplog)
    refusals = [r for r in caplog.records if "refused a request" in r.getMessage()]
    assert len(refusals) == 1


async def test_a_burst_of_unsigned_requests_makes_no_outbound_call(
    bot: BotRig, caplog: pytest.LogCaptureFixture
) -> None:
    bodies = [_command(bot, "help") for _ in range(100)]
    bot.slack.reset_records()
    with caplog.at_level(logging.WARNING):
        for body in bodies:
            sent = await bot.slack.sender.signed_post(
                body, headers={"X-Slack-Request-Timestamp": "abc", "X-Slack-Signature": "v0=00"}
            )
            assert sent.status == 401
    assert bot.slack.calls == [] and bot.slack.responses == []
    assert not _traces(caplog)
    assert len([r for r in caplog.records if "refused a request" in r.getMessage()]) == 100


@pytest.mark.parametrize(
    "payload", [b"payload=%5B1%2C2%5D", b"payload=%22str%22", b"payload=1", b"payload=null"]
)
async def test_a_payload_that_is_not_an_object_is_refused_signed_or_not(
    bot: BotRig, payload: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        unsigned = await bot.slack.sender.signed_post(payload, signature="v0=" + "0" * 64)
        signed = await bot.slack.sender.signed_post(payload)
    assert (unsigned.status, signed.status) == (401, 400)
    assert not _traces(caplog)


async def test_a_body_signed_for_another_timestamp_is_refused(bot: BotRig) -> None:
    body = _command(bot, "help")
    now = int(time.time())
    signature = bot.slack.sender.signature(body, now - 1)
    sent = await bot.slack.sender.signed_post(body, timestamp=now, signature=signature)
    assert sent.status == 401
    assert bot.slack.responses == []


def _replays(caplog: pytest.LogCaptureFixture) -> int:
    return len([r for r in caplog.records if "the same signed body sent again" in r.getMessage()])


async def test_the_same_signed_create_sent_twice_starts_one_job(
    bot: BotRig, caplog: pytest.LogCaptureFixture
) -> None:
    body = _command(bot, f"create {CREATE_ARGS}")
    now = int(time.time())
    with caplog.at_level(logging.WARNING):
        first = await bot.slack.sender.signed_post(body, timestamp=now)
        again = await bot.slack.sender.signed_post(body, timestamp=now)
    assert (first.status, again.status) == (200, 200)
    assert _replays(caplog) == 1  # refused at the gate, before Bolt saw it
    await bot.slack.wait_for(lambda: bot.slack.messages("C_ML"))
    await bot.slack.wait_for(lambda: bot.slack.responses)
    assert len((await bot.services.api.list_jobs()).data) == 1


async def test_a_slack_retry_of_the_same_body_is_left_to_the_delivery_check(
    bot: BotRig, caplog: pytest.LogCaptureFixture
) -> None:
    body = _command(bot, "help")
    now = int(time.time())
    with caplog.at_level(logging.WARNING):
        await bot.slack.sender.signed_post(body, timestamp=now)
        retry = await bot.slack.sender.signed_post(
            body, timestamp=now, headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
        )
    assert retry.status == 200
    assert _replays(caplog) == 0


@pytest.mark.parametrize(("field", "value"), [("team_id", "T_ELSEWHERE"), ("api_app_id", "A_SOMEONE_ELSE")])
async def test_a_signed_request_from_another_workspace_or_app_is_refused(
    bot: BotRig, field: str, value: str, caplog: pytest.LogCaptureFixture
) -> None:
    ws = bot.slack.workspace
    body = _command(bot, f"create {CREATE_ARGS}")
    ours = {"team_id": ws.team_id, "api_app_id": ws.app_id}[field]
    forged = body.replace(f"{field}={ours}".encode(), f"{field}={value}".encode())
    assert forged != body
    with caplog.at_level(logging.WARNING):
        sent = await bot.slack.sender.signed_post(forged)
    assert sent.status == 403
    assert any("another workspace or app" in r.getMessage() for r in caplog.records)
    # Refused before any listener ran: nothing is under way, and our own requests are still served.
    sent = await bot.slack.sender.slash("help")
    assert sent.status == 200 and await bot.answer_text(sent)
    assert (await bot.services.api.list_jobs()).data == []
    assert bot.slack.messages("C_ML") == []


async def test_a_response_url_that_is_not_slacks_is_never_called(bot: BotRig) -> None:
    """A signed body naming some other address as its response_url: the bot answers with an ephemeral
    message instead, and nothing reaches that address."""
    hits: list[str] = []

    async def record(request: web.Request) -> web.Response:
        hits.append(request.path)
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/{tail:.*}", record)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        ws = bot.slack.workspace
        body = slash_command_form(
            ws,
            command="/finetune",
            text="help",
            user="U_ALICE",
            channel="C_ML",
            response_url=f"http://127.0.0.1:{port}/internal/admin",
            trigger_id=ws.issue_trigger("U_ALICE"),
        )
        sent = await bot.slack.sender.signed_post(body)
        assert sent.status == 200
        await bot.slack.wait_for(lambda: bot.slack.ephemerals("U_ALICE"))  # answered privately instead
        assert hits == []
    finally:
        await runner.cleanup()
