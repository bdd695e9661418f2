"""How the bot treats requests as such: signatures, Slack's retries, channels it cannot post to, surprises."""

from __future__ import annotations

import logging
import re
import socket
import time
from pathlib import Path

import pytest

from bot.ops.metrics import REGISTRY
from bot.sandbox.standin.payloads import slash_command_form
from bot.sandbox.standin.sender import SentRequest
from tests.support.runtime import CREATE_ARGS, BotRig, StartBot, button_labels, texts_of


async def test_a_forged_signature_is_rejected_and_nothing_happens(bot: BotRig) -> None:
    sent = await bot.slack.sender.slash(f"create {CREATE_ARGS}", signature="v0=" + "0" * 64)
    assert sent.status == 401
    assert bot.slack.responses == [] and bot.slack.messages("C_ML") == []
    assert (await bot.services.api.list_jobs()).data == []


async def test_a_stale_request_is_rejected(bot: BotRig) -> None:
    # Correctly signed, but ten minutes old: a replay.
    sent = await bot.slack.sender.slash("help", timestamp=int(time.time()) - 600)
    assert sent.status == 401
    assert bot.slack.responses == []


def _command_body(
    bot: BotRig, text: str, *, user: str = "U_ALICE", channel: str = "C_ML"
) -> tuple[bytes, str]:
    """A slash command body exactly as Slack sends it, and the id of its response_url."""
    ws = bot.slack.workspace
    target = ws.register_response_url(channel, user)
    body = slash_command_form(
        ws,
        command="/finetune",
        text=text,
        user=user,
        channel=channel,
        response_url=bot.slack.response_url(target.id),
        trigger_id=ws.issue_trigger(user),
    )
    return body, target.id


RETRY = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}


async def test_a_retried_delivery_is_handled_once(bot: BotRig) -> None:
    body, _ = _command_body(bot, f"create {CREATE_ARGS}")
    first = await bot.slack.sender.signed_post(body)
    retry = await bot.slack.sender.signed_post(body, headers=RETRY)
    assert (first.status, retry.status) == (200, 200)
    await bot.slack.wait_for(lambda: bot.slack.messages("C_ML"))
    await bot.slack.wait_for(lambda: bot.slack.responses)
    # One job, one card, one answer — the retry was acknowledged and told not to come again.
    assert len((await bot.services.api.list_jobs()).data) == 1
    assert len(bot.slack.messages("C_ML")) == 1
    assert len(bot.slack.responses) == 1
    assert retry.headers.get("x-slack-no-retry") == "1"


async def test_a_first_delivery_marked_as_retry_is_still_handled(bot: BotRig) -> None:
    # Slack retries when the first attempt never arrived: that retry is the only delivery.
    body, response_url_id = _command_body(bot, "help")
    sent = await bot.slack.sender.signed_post(body, headers=RETRY)
    sent.response_url_id = response_url_id
    assert "How to use" in await bot.answer_text(sent)


async def test_a_retry_is_recognised_after_a_restart(start_bot: StartBot, tmp_path: Path) -> None:
    db = str(tmp_path / "kept.db")
    first = await start_bot(TUNEOPS_DB=db)
    body, _ = _command_body(first, f"create {CREATE_ARGS}")
    assert (await first.slack.sender.signed_post(body)).status == 200
    await first.slack.wait_for(lambda: first.slack.messages("C_ML"))
    await first.slack.wait_for(lambda: first.slack.responses)
    await first.runtime.stop()

    second = await start_bot(TUNEOPS_DB=db)
    assert (await second.slack.sender.signed_post(body, headers=RETRY)).status == 200
    await second.slack.sender.slash("help")  # something after, to know the retry was dealt with
    await second.slack.wait_for(lambda: len(second.slack.responses) == 2)
    assert len((await second.services.api.list_jobs()).data) == 1
    assert len(second.slack.messages("C_ML")) == 1


async def test_a_channel_the_bot_cannot_post_to(bot: BotRig) -> None:
    bot.slack.set_channel_state("C_PRIVATE", "not_in_channel")
    sent = await bot.slack.sender.slash(f"create {CREATE_ARGS}", channel="C_PRIVATE")
    post = await bot.answer(sent)
    answer = texts_of([post.body])
    job = (await bot.store.channel_jobs("C_PRIVATE"))[0]
    # The job runs; the person learns why there is no card and how to fix it, and sees the card privately.
    assert f"Started `{job.job_id}`" in answer
    assert "not_in_channel" in answer and "/invite @TuneOps" in answer
    assert f"/finetune watch {job.job_id}" in answer
    assert button_labels(post.body) == ["Cancel", "Refresh"]
    assert bot.slack.messages("C_PRIVATE") == []
    assert await bot.store.channel_unreachable("C_PRIVATE") == "not_in_channel"

    # Invited, the person follows the advice: the card arrives and the channel is reachable again.
    bot.slack.set_channel_state("C_PRIVATE", "ok")
    watched = await bot.answer_text(await bot.slack.sender.slash(f"watch {job.job_id}", channel="C_PRIVATE"))
    assert "now follows" in watched
    card = (await bot.slack.wait_for(lambda: bot.slack.messages("C_PRIVATE")))[0]
    assert job.job_id in card.text
    assert await bot.store.channel_unreachable("C_PRIVATE") is None
    watch = await bot.store.get_watch(job.job_id, "C_PRIVATE")
    assert watch is not None and watch.card_ts == card.ts


async def test_an_archived_channel_is_explained_too(bot: BotRig) -> None:
    bot.slack.set_channel_state("C_OLD", "archived")
    answer = await bot.answer_text(await bot.slack.sender.slash(f"create {CREATE_ARGS}", channel="C_OLD"))
    assert "is_archived" in answer and "can't post in this channel" in answer


async def test_an_unexpected_error_gets_a_reference_and_the_trace_goes_to_the_log(
    bot: BotRig, caplog: pytest.LogCaptureFixture
) -> None:
    job_id, _ = await bot.create_job()
    await bot.store.close()  # the database went away under the running bot
    with caplog.at_level(logging.ERROR, logger="tuneops.errors"):
        sent = await bot.slack.sender.slash(f"pause {job_id}")
        assert sent.status == 200  # still acknowledged: Slack shows no "dispatch_failed"
        answer = await bot.answer_text(sent)
    match = re.search(r"`(E-[0-9A-F]{6})`", answer)
    assert match, answer
    assert "Something went wrong on my side" in answer
    logged = [r for r in caplog.records if r.name == "tuneops.errors" and match.group(1) in r.getMessage()]
    assert logged and logged[0].exc_info is not None


async def test_an_error_right_after_the_ack_is_answered_once(
    bot: BotRig, caplog: pytest.LogCaptureFixture
) -> None:
    # The API answers 404 within milliseconds of the ack: the person gets the API's words, once, and Bolt
    # never takes the quick failure for a missing ack (its runner resets the ack of a listener that fails
    # before its next 10 ms poll; a few tries make hitting that window all but certain).
    with caplog.at_level(logging.DEBUG, logger="tuneops.bolt"):
        sent = [await bot.slack.sender.slash(f"status ftjob-missing{n}") for n in range(8)]
        for request in sent:
            assert "No fine-tuning job found" in await bot.answer_text(request)
        await bot.answer(await bot.slack.sender.slash("help"))
    answered: list[str | None] = [p.response_url_id for p in bot.slack.responses]
    assert all(answered.count(request.response_url_id) == 1 for request in sent)
    assert not [
        r for r in caplog.records if r.name.startswith("tuneops.bolt") and r.levelno >= logging.WARNING
    ]


async def test_an_unreachable_api_is_explained_in_plain_words(start_bot: StartBot) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}/v1"
    bot = await start_bot(OPENAI_BASE_URL=dead)
    answer = await bot.answer_text(await bot.slack.sender.slash("status ftjob-abc"), timeout=30)
    assert "couldn't reach the fine-tuning API" in answer
    assert "try again" in answer.lower()


def _count(kind: str, outcome: str) -> float:
    return (
        REGISTRY.get_sample_value("tuneops_slack_requests_total", {"kind": kind, "outcome": outcome}) or 0.0
    )


async def test_requests_are_counted_by_kind_and_outcome(bot: BotRig) -> None:
    before = {
        key: _count(*key) for key in [("command", "ok"), ("command", "bad_input"), ("command", "refused")]
    }
    await bot.answer(await bot.slack.sender.slash("help"))
    await bot.answer(await bot.slack.sender.slash("frobnicate"))
    await bot.answer(await bot.slack.sender.slash("pause ftjob-untracked"))
    assert _count("command", "ok") == before[("command", "ok")] + 1
    assert _count("command", "bad_input") == before[("command", "bad_input")] + 1
    assert _count("command", "refused") == before[("command", "refused")] + 1


async def test_an_unknown_button_is_answered_not_ignored(bot: BotRig) -> None:
    await bot.answer(await bot.slack.sender.slash("help"))
    shown = bot.slack.ephemerals("U_ALICE")[-1]
    shown.blocks.append(
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "text": {"type": "plain_text", "text": "Old"},
                    "action_id": "retired_button",
                }
            ],
        }
    )
    sent: SentRequest = await bot.slack.sender.click(shown, "retired_button")
    assert sent.status == 200
    assert "don't know what to do" in await bot.answer_text(sent)
