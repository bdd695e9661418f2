"""Who may pause, resume and cancel — the same rule for typed commands and buttons, refusals explained
privately and written to the audit log with allowed = false."""

from __future__ import annotations

from tests.support.runtime import BotRig, StartBot, button_labels


async def _card_with_pause(bot: BotRig) -> tuple[str, object]:
    job_id, card = await bot.running_job(user="U_ALICE", channel="C_ML")
    await bot.slack.sender.click(card, "job_refresh")
    await bot.slack.wait_for(lambda: "Pause" in button_labels(card))
    return job_id, card


async def test_someone_else_cannot_pause_by_command(bot: BotRig) -> None:
    job_id, _ = await bot.running_job(user="U_ALICE")
    sent = await bot.slack.sender.slash(f"pause {job_id}", user="U_BOB", channel="C_ML")
    post = await bot.answer(sent)
    assert post.response_type == "ephemeral"
    assert "Only <@U_ALICE>, who started" in str(post.body.get("text"))
    assert await bot.job_status_in_emulator(job_id) == "running"
    refusal = await bot.refusal(job_id, "pause")
    assert (refusal.action, refusal.user, refusal.channel, refusal.allowed) == (
        "pause",
        "U_BOB",
        "C_ML",
        False,
    )
    assert refusal.reason is not None and "U_ALICE" in refusal.reason


async def test_someone_else_cannot_cancel_by_button_and_the_card_is_untouched(bot: BotRig) -> None:
    job_id, card = await _card_with_pause(bot)
    versions = len(card.versions)  # type: ignore[attr-defined]
    sent = await bot.slack.sender.click(card, "job_cancel", user="U_BOB")  # type: ignore[arg-type]
    assert sent.status == 200
    assert "Only <@U_ALICE>" in await bot.answer_text(sent)
    assert await bot.job_status_in_emulator(job_id) == "running"
    assert len(card.versions) == versions  # type: ignore[attr-defined]
    refusal = await bot.refusal(job_id, "cancel")
    assert (refusal.user, refusal.allowed) == ("U_BOB", False)


async def test_even_the_creator_is_refused_from_a_channel_that_does_not_follow_the_job(bot: BotRig) -> None:
    job_id, _ = await bot.running_job(user="U_ALICE", channel="C_ML")
    sent = await bot.slack.sender.slash(f"cancel {job_id}", user="U_ALICE", channel="C_RANDOM")
    assert "doesn't follow" in await bot.answer_text(sent)
    assert await bot.job_status_in_emulator(job_id) == "running"
    refusal = await bot.refusal(job_id, "cancel")
    assert (refusal.action, refusal.channel, refusal.allowed) == ("cancel", "C_RANDOM", False)


async def test_a_job_nobody_tracks_cannot_be_controlled_by_ordinary_users(bot: BotRig) -> None:
    sent = await bot.slack.sender.slash("pause ftjob-untracked", user="U_BOB")
    answer = await bot.answer_text(sent)
    assert "TuneOps doesn't follow `ftjob-untracked`, so I won't pause it." in answer
    assert "`/finetune watch ftjob-untracked` adopts it" in answer
    # No API call was made: the emulator never heard of the job, and no API error was quoted.
    stats = await bot.control.stats()
    assert "pauseFineTuningJob" not in stats.get("by_operation", {})


async def test_admins_may_act_on_any_job_from_anywhere(start_bot: StartBot) -> None:
    bot = await start_bot(TUNEOPS_ADMINS="U_ADMIN,U_OTHER_ADMIN")
    job_id, card = await _card_with_pause(bot)
    sent = await bot.slack.sender.slash(f"pause {job_id}", user="U_ADMIN", channel="C_ELSEWHERE")
    assert "Pause requested" in await bot.answer_text(sent)
    assert await bot.job_status_in_emulator(job_id) == "paused"
    entry = next(a for a in await bot.store.audit_for_job(job_id) if a.action == "pause")
    assert (entry.user, entry.channel, entry.allowed) == ("U_ADMIN", "C_ELSEWHERE", True)
    # The owner channel's card is the notifier's to redraw (not running here); Refresh does it now, and
    # an admin's click on it works too.
    await bot.slack.sender.click(card, "job_refresh", user="U_OTHER_ADMIN")  # type: ignore[arg-type]
    await bot.slack.wait_for(lambda: "Resume" in button_labels(card))
    await bot.slack.sender.click(card, "job_resume", user="U_OTHER_ADMIN")  # type: ignore[arg-type]
    await bot.slack.wait_for(lambda: "Resume" not in button_labels(card))


async def test_anyone_may_look_and_watch(bot: BotRig) -> None:
    job_id, _ = await bot.running_job(user="U_ALICE", channel="C_ML")
    assert job_id in await bot.answer_text(
        await bot.slack.sender.slash(f"status {job_id}", user="U_BOB", channel="C_X")
    )
    answer = await bot.answer_text(
        await bot.slack.sender.slash(f"watch {job_id}", user="U_BOB", channel="C_X")
    )
    assert "now follows" in answer
    # Watching does not make Bob its owner: he still cannot pause it, even from his channel.
    refused = await bot.answer_text(
        await bot.slack.sender.slash(f"pause {job_id}", user="U_BOB", channel="C_X")
    )
    assert "Only <@U_ALICE>" in refused


async def test_a_refusal_about_a_job_nobody_tracks_says_what_watch_would_change(bot: BotRig) -> None:
    answer = await bot.answer_text(await bot.slack.sender.slash("cancel ftjob-doesnotexist", user="U_BOB"))
    # No card anywhere to go to, and no promise that watching lets just anyone act on it.
    assert "card" not in answer
    assert "`/finetune watch ftjob-doesnotexist` adopts it into this channel" in answer
    assert "whoever started it through TuneOps, or an admin, can cancel it" in answer
    assert "started outside Slack: admins only" in answer


async def test_unwatch_where_the_job_is_not_followed_says_so_plainly(bot: BotRig) -> None:
    job_id, _ = await bot.create_job(channel="C_ML")
    elsewhere = await bot.answer_text(await bot.slack.sender.slash(f"unwatch {job_id}", channel="C_OTHER"))
    assert elsewhere.startswith(f"🔒 This channel isn't following `{job_id}`.")
    assert "from here" not in elsewhere
    untracked = await bot.answer_text(await bot.slack.sender.slash("unwatch ftjob-doesnotexist"))
    assert untracked.startswith("🔒 This channel isn't following `ftjob-doesnotexist`.")
