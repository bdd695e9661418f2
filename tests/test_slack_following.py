"""Following a job is explicit: a channel that stops following leaves a frozen card (no buttons, no
estimate); a person is shown only the buttons they could use; a refusal says who may act and where."""

from __future__ import annotations

from tests.support.runtime import BotRig, button_labels, texts_of


async def test_unwatch_in_the_owner_channel_freezes_its_card_and_ends_control_from_there(bot: BotRig) -> None:
    job_id, card = await bot.running_job(step=30)
    answer = await bot.answer_text(await bot.slack.sender.slash(f"unwatch {job_id}"))
    assert "This channel no longer follows" in answer

    frozen = bot.slack.messages("C_ML")[0]
    assert frozen.ts == card.ts
    assert button_labels(frozen) == []  # nothing on it can be used any more
    shown = texts_of([frozen])
    assert "This channel stopped following the job" in shown and "<@U_ALICE>" in shown
    assert "Estimated finish" not in shown
    assert f"`/finetune status {job_id}` shows where it stands" in shown
    assert "Running" in shown  # drawn from a fresh read: the state it was in when it was left

    refused = await bot.answer_text(await bot.slack.sender.slash(f"pause {job_id}"))
    assert "This channel doesn't follow" in refused
    assert f"`/finetune watch {job_id}` there" in refused
    assert await bot.job_status_in_emulator(job_id) == "running"


async def test_status_shows_a_stranger_only_the_buttons_they_could_use(bot: BotRig) -> None:
    job_id, _ = await bot.running_job()
    stranger = await bot.answer(
        await bot.slack.sender.slash(f"status {job_id}", user="U_BOB", channel="C_OTHER")
    )
    assert button_labels(stranger.body) == ["Refresh"]
    creator_elsewhere = await bot.answer(await bot.slack.sender.slash(f"status {job_id}", channel="C_OTHER"))
    assert button_labels(creator_elsewhere.body) == ["Refresh"]  # not from a channel that does not follow
    creator_at_home = await bot.answer(await bot.slack.sender.slash(f"status {job_id}"))
    assert button_labels(creator_at_home.body) == ["Pause", "Cancel", "Refresh"]


async def test_a_refusal_names_who_may_act_and_where(bot: BotRig) -> None:
    job_id, _ = await bot.running_job()
    elsewhere = await bot.answer_text(
        await bot.slack.sender.slash(f"pause {job_id}", user="U_BOB", channel="C_OTHER")
    )
    assert (
        "Only <@U_ALICE>, who started it, or an admin can pause it from a channel that follows it: <#C_ML>."
        in elsewhere
    )
    mine_elsewhere = await bot.answer_text(
        await bot.slack.sender.slash(f"cancel {job_id}", channel="C_OTHER")
    )
    assert "You can cancel it from a channel that follows it: <#C_ML>." in mine_elsewhere


async def _latest_metrics(bot: BotRig, job_id: str) -> tuple[int, int, float]:
    """Step, total steps and train loss of the job's newest metrics event, as the API lists them."""
    events = (await bot.services.api.list_events(job_id, limit=100)).data  # newest first
    metrics = next(e.metrics for e in events if e.metrics is not None and e.metrics.step is not None)
    assert metrics.step is not None and metrics.total_steps is not None and metrics.train_loss is not None
    return metrics.step, metrics.total_steps, metrics.train_loss


async def test_a_pause_reports_the_step_the_apis_events_give(bot: BotRig) -> None:
    job_id, _ = await bot.running_job(step=3)
    await bot.control.advance(60)  # the job trains on past a metrics event; no poll sees it
    await bot.answer(await bot.slack.sender.slash(f"pause {job_id}"))
    events = (await bot.services.api.list_events(job_id, limit=100)).data
    said = next(e.message for e in events if "paused at step" in e.message)
    step = int(said.rsplit(" ", 1)[-1])
    assert step > 3
    tracked = await bot.store.get_job(job_id)
    assert tracked is not None and (tracked.status, tracked.progress.step) == ("paused", step)
    assert f"step {step}/" in texts_of([bot.slack.messages("C_ML")[0]])


async def test_refresh_of_a_finished_job_nobody_follows_shows_one_moment(bot: BotRig) -> None:
    job_id, _ = await bot.running_job(step=3)
    await bot.control.advance(60)
    await bot.answer(await bot.slack.sender.slash(f"status {job_id}"))  # a mid-run step recorded
    mid_step, _, _ = await _latest_metrics(bot, job_id)
    await bot.answer(await bot.slack.sender.slash(f"unwatch {job_id}"))
    await bot.control.advance(3600)  # it trains to the end unwatched
    shown = await bot.answer_text(await bot.slack.sender.slash(f"status {job_id}", user="U_BOB"))
    step, total, train_loss = await _latest_metrics(bot, job_id)
    assert step == total > mid_step  # the API's events end at the last step
    assert f"Succeeded* · step {total}/{total}" in shown
    assert f"step {mid_step}/" not in shown
    assert f"train loss {train_loss:.4f}" in shown


async def test_a_success_never_shows_a_mid_run_step_beside_a_full_bar(bot: BotRig) -> None:
    job_id, _ = await bot.running_job(step=3)
    await bot.control.advance(60)
    await bot.answer(await bot.slack.sender.slash(f"status {job_id}"))  # step 10 of 100 recorded
    await bot.control.set_job(job_id, status="succeeded")  # the API reports no later step
    shown = await bot.answer_text(await bot.slack.sender.slash(f"status {job_id}"))
    assert "Succeeded*" in shown and "100%" in shown
    assert "step 10/100" not in shown
