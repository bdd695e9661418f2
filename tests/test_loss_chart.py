"""The loss curve in a finished job's thread, through the running bot: the watcher sees the end, the
notifier posts the end's note and then uploads the chart with Slack's three file calls, the stand-in
shows it in the thread. Then the same through a restart, and `/finetune chart`.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Awaitable, Callable

import pytest
from PIL import Image

from bot.sandbox.emulator.control import EmulatorControl
from bot.sandbox.emulator.state import DEMO_TRAINING_FILE, DEMO_VALIDATION_FILE
from bot.sandbox.standin.files_upload import Upload
from tests.support.background import FAST_POLL, AppRig, fast_background, note_transition
from tests.support.runtime import BotRig, StartBot

CHANNEL = "C_ML"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
async def frozen_emulator(emulator_control: EmulatorControl) -> None:
    await emulator_control.set_speed(0)


async def _finished_job(bot: BotRig, *, extra: str = "") -> tuple[str, str]:
    """A job with a validation file created with `/finetune create` and run to its end; (id, card ts)."""
    sent = await bot.slack.sender.slash(
        f"create model=gpt-4o-mini-2024-07-18 training_file={DEMO_TRAINING_FILE} "
        f"validation_file={DEMO_VALIDATION_FILE} suffix=curve {extra}",
        channel=CHANNEL,
    )
    await bot.answer(sent)
    card = (await bot.slack.wait_for(lambda: bot.slack.messages(CHANNEL)))[-1]
    job_id = (await bot.store.channel_jobs(CHANNEL, limit=1))[0].job_id
    await bot.control.advance(24 * 3600)
    return job_id, card.ts


def _check_png(upload: Upload) -> Image.Image:
    assert upload.content is not None
    assert upload.content.startswith(PNG_SIGNATURE)
    assert len(upload.content) < 100_000
    image = Image.open(io.BytesIO(upload.content))
    image.verify()  # a whole, valid PNG
    return Image.open(io.BytesIO(upload.content))


async def test_a_finished_job_gets_its_loss_curve_and_checkpoint_advice_in_its_thread(
    app_rig: AppRig,
) -> None:
    bot = app_rig.bot
    job_id, card_ts = await _finished_job(bot)
    [upload] = await bot.slack.wait_for(lambda: bot.slack.uploads.shared_in(CHANNEL, card_ts))

    # The three file calls, each once, and each accepted.
    for method in ("files.getUploadURLExternal", "files.completeUploadExternal"):
        calls = bot.slack.calls_to(method)
        assert len(calls) == 1 and calls[0].ok, method
    complete = bot.slack.calls_to("files.completeUploadExternal")[0].args
    assert (complete["channel_id"], complete["thread_ts"]) == (CHANNEL, card_ts)
    image = _check_png(upload)
    assert image.format == "PNG" and image.size == (800, 400)
    assert upload.filename.startswith(job_id) and upload.filename.endswith(".png")

    # In the thread, after the end's note; its comment names the checkpoint with the lowest full
    # validation loss, by its model id.
    assert upload.message is not None and upload.message.thread_ts == card_ts
    thread = [m.ts for m in bot.slack.thread(CHANNEL, card_ts)]
    [end_note] = [
        m for m in bot.slack.thread(CHANNEL, card_ts) if (note_transition(m) or "").endswith(":succeeded")
    ]
    assert thread.index(end_note.ts) < thread.index(upload.message.ts)
    checkpoints = (await bot.services.api.list_checkpoints(job_id, limit=100)).data
    best = min(checkpoints, key=lambda c: c.metrics.full_valid_loss or float("inf"))
    comment = upload.message.text
    assert f"Lowest validation loss: the checkpoint at step {best.step_number}" in comment
    assert str(best.fine_tuned_model_checkpoint) in comment
    assert "overfitting" not in comment.lower()  # this run's validation loss fell to its end

    # Nothing more is uploaded later: the row was marked sent with the file's id.
    cycles = app_rig.background.watcher.cycles
    await bot.slack.wait_for(lambda: app_rig.background.watcher.cycles >= cycles + 10)
    assert len(bot.slack.calls_to("files.getUploadURLExternal")) == 1


async def test_an_overfitting_run_is_warned_about_and_pointed_to_its_best_checkpoint(app_rig: AppRig) -> None:
    bot = app_rig.bot
    job_id, card_ts = await _finished_job(bot, extra="meta.emulator_curve=overfit")
    [upload] = await bot.slack.wait_for(lambda: bot.slack.uploads.shared_in(CHANNEL, card_ts))
    _check_png(upload)
    assert upload.message is not None
    comment = upload.message.text
    checkpoints = (await bot.services.api.list_checkpoints(job_id, limit=100)).data
    best = min(checkpoints, key=lambda c: c.metrics.full_valid_loss or float("inf"))
    last = max(checkpoints, key=lambda c: c.step_number or 0)
    assert best.step_number != last.step_number  # the run got worse on validation after it
    assert "Possible overfitting: validation loss rose over the last 3 evaluations" in comment
    assert "while training loss kept falling" in comment
    assert f"Prefer `{best.fine_tuned_model_checkpoint}`" in comment
    assert f"The final checkpoint (step {last.step_number}" in comment


async def test_a_chart_upload_cut_short_by_a_restart_is_not_uploaded_twice(start_bot: StartBot) -> None:
    bot = await start_bot(TUNEOPS_POLL_INTERVAL=FAST_POLL)
    _, card_ts = await _finished_job(bot)
    # Slack is slow to complete the upload: the process gives up waiting for the answer, and is stopped
    # before it ever learns that Slack shared the file after all.
    bot.slack.faults.set_latency(1500, method="files.completeUploadExternal")
    first = fast_background(bot.services, request_timeout=0.3)
    await first.start()
    try:
        await bot.slack.wait_for(lambda: bot.slack.calls_to("files.completeUploadExternal"))
    finally:
        await first.stop(timeout=0.1)
    await bot.slack.wait_for(lambda: bot.slack.uploads.shared_in(CHANNEL, card_ts), timeout=5)
    bot.slack.faults.clear()

    # The next process delivers what is left of the outbox: it finds the chart in the thread.
    second = fast_background(bot.services)
    await second.start()
    try:

        async def delivered() -> bool:
            return (await bot.store.outbox_stats(now=bot.services.clock())).pending == 0

        await _until(delivered)
    finally:
        await second.stop(timeout=2.0)
    assert len(bot.slack.uploads.shared_in(CHANNEL, card_ts)) == 1
    assert len(bot.slack.calls_to("files.completeUploadExternal")) == 1
    assert [note_transition(m) for m in bot.slack.thread(CHANNEL, card_ts) if note_transition(m)] == [
        "1:succeeded"
    ]


async def _until(check: Callable[[], Awaitable[bool]], within: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "not within the time allowed"
        await asyncio.sleep(0.05)


async def test_the_chart_command_posts_the_curve_so_far_in_the_cards_thread(bot: BotRig) -> None:
    job_id, card = await bot.create_job()
    await bot.control.advance(30 + 6 * 40)  # running, some forty steps trained: metrics events, no file yet
    answer = await bot.answer_text(await bot.slack.sender.slash(f"chart {job_id}", user="U_BOB"))
    assert f"Posted the loss curve of `{job_id}` in the thread of its card" in answer
    [upload] = bot.slack.uploads.shared_in(CHANNEL, card.ts)
    _check_png(upload)
    assert upload.message is not None and f"Loss curve of `{job_id}`" in upload.message.text
    audit = await bot.audit(job_id, 2)
    assert [(a.action, a.user, a.allowed) for a in audit][-1] == ("chart", "U_BOB", True)

    # Asked again, it posts the curve as it is now, beside the first.
    await bot.control.advance(6 * 20)
    await bot.answer(await bot.slack.sender.slash(f"chart {job_id}"))
    assert len(bot.slack.uploads.shared_in(CHANNEL, card.ts)) == 2


async def test_the_chart_command_says_so_when_there_is_nothing_to_draw_yet(bot: BotRig) -> None:
    job_id, _ = await bot.create_job()  # still validating its files: no step trained
    answer = await bot.answer_text(await bot.slack.sender.slash(f"chart {job_id}"))
    assert "has no training figures to chart yet" in answer
    assert bot.slack.calls_to("files.getUploadURLExternal") == []
    assert bot.slack.uploads.shared_in(CHANNEL) == []


async def test_the_chart_command_without_a_job_id_is_told_how_to_ask(bot: BotRig) -> None:
    answer = await bot.answer_text(await bot.slack.sender.slash("chart"))
    assert "`chart` needs a job id" in answer
    assert bot.slack.calls_to("files.getUploadURLExternal") == []
