"""The training cost of a succeeded job, on its card and in its success note, through the running bot.

The job is created with `/finetune create`, the emulator's frozen clock is moved past its end, and the
bot's own watcher and notifier tell it. A priced model shows its trained tokens at the table's price
(`TUNEOPS_PRICES` over the built-in one); a model the table does not know shows its tokens and no price.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError
from bot.jobs.prices import format_usd
from bot.sandbox.emulator.control import EmulatorControl
from bot.sandbox.emulator.state import DEMO_TRAINING_FILE
from bot.sandbox.standin.models import StoredMessage
from tests.support.background import FAST_POLL, fast_background, note_transition
from tests.support.runtime import BotRig, StartBot, texts_of

CHANNEL = "C_ML"


@pytest.fixture(autouse=True)
async def frozen_emulator(emulator_control: EmulatorControl) -> None:
    await emulator_control.set_speed(0)


async def _succeed(bot: BotRig, model: str) -> tuple[str, StoredMessage, str]:
    """Create a job of `model`, run it to its end, and return its id, its card and its success note's text."""
    sent = await bot.slack.sender.slash(
        f"create model={model} training_file={DEMO_TRAINING_FILE} suffix=cost", channel=CHANNEL
    )
    await bot.answer(sent)
    card = (await bot.slack.wait_for(lambda: bot.slack.messages(CHANNEL)))[-1]
    job_id = (await bot.store.channel_jobs(CHANNEL, limit=1))[0].job_id
    await bot.control.advance(24 * 3600)
    background = fast_background(bot.services)
    await background.start()
    try:
        notes = await bot.slack.wait_for(
            lambda: [m for m in bot.slack.thread(CHANNEL, card.ts) if note_transition(m) == "1:succeeded"]
        )
        await bot.slack.wait_for(lambda: "Succeeded" in texts_of([card]))
    finally:
        await background.stop(timeout=2.0)
    return job_id, card, texts_of(notes)


async def test_a_priced_model_shows_its_training_cost_on_the_card_and_in_the_note(
    start_bot: StartBot, tmp_path: Path
) -> None:
    prices = tmp_path / "prices.toml"
    prices.write_text('"gpt-4.1-mini-2025-04-14" = 4.0\n')
    bot = await start_bot(TUNEOPS_POLL_INTERVAL=FAST_POLL, TUNEOPS_PRICES=str(prices))

    job_id, card, note = await _succeed(bot, "gpt-4.1-mini-2025-04-14")
    job = await bot.services.api.retrieve_job(job_id)
    assert job.trained_tokens
    # The user's price (4.00) replaced the built-in 5.00 per 1M training tokens.
    expected = format_usd(job.trained_tokens * 4.0 / 1_000_000)
    for text in (note, texts_of([card])):
        assert f"Training cost: *{expected}*" in text
        assert f"{job.trained_tokens:,} trained tokens × $4.00 per 1M" in text


async def test_the_built_in_price_is_used_without_a_price_file(start_bot: StartBot) -> None:
    bot = await start_bot(TUNEOPS_POLL_INTERVAL=FAST_POLL)
    job_id, card, note = await _succeed(bot, "gpt-4o-mini-2024-07-18")
    job = await bot.services.api.retrieve_job(job_id)
    assert job.trained_tokens
    expected = format_usd(job.trained_tokens * 3.0 / 1_000_000)
    assert f"Training cost: *{expected}*" in note
    assert f"Training cost: *{expected}*" in texts_of([card])


async def test_a_model_without_a_price_shows_its_tokens_and_no_cost(start_bot: StartBot) -> None:
    bot = await start_bot(TUNEOPS_POLL_INTERVAL=FAST_POLL)
    job_id, card, note = await _succeed(bot, "gpt-3.5-turbo-0125")
    job = await bot.services.api.retrieve_job(job_id)
    assert job.trained_tokens
    for text in (note, texts_of([card])):
        assert f"{job.trained_tokens:,}" in text
        assert "Training cost" not in text
        assert "$" not in text


async def test_an_unreadable_price_file_stops_the_start_with_its_reason(
    start_bot: StartBot, tmp_path: Path
) -> None:
    prices = tmp_path / "prices.json"
    prices.write_text('{"gpt-4o-mini-2024-07-18": "cheap"}')
    with pytest.raises(ConfigError, match="TUNEOPS_PRICES") as raised:
        await start_bot(TUNEOPS_PRICES=str(prices))
    assert "must be a number" in str(raised.value)
