"""`/finetune settings`: the channel's form, stored and audited, shown in `subscriptions`, and changing what
the notifier posts (thread, broadcast, mention, a direct message on finish). Real Bolt app, emulator,
stand-in, background watcher and notifier."""

from __future__ import annotations

import asyncio

from bot.jobs.channel_settings import ChannelSettings
from bot.sandbox.standin.models import OpenView
from tests.support.background import AppRig
from tests.support.runtime import StartBot, texts_of
from tests.test_subscriptions_app import _outbox_settled, _recorded, slash

CHANNEL = "C_ML"


async def _open_settings(rig: AppRig, *, user: str = "U_ALICE") -> OpenView:
    await rig.slack.sender.slash("settings", user=user, channel=CHANNEL)
    return await rig.slack.wait_for(lambda: rig.slack.open_view(user))


async def test_the_form_opens_with_the_defaults_and_saving_changes_what_is_posted(app_rig: AppRig) -> None:
    rig = app_rig
    view = await _open_settings(rig)
    shown = str(view.view)
    assert "Every change" in shown and "Mention the job's creator" in shown
    sent = await rig.slack.sender.submit_view(
        view,
        {"thread": "outcomes", "broadcast": [], "mention": "no", "dm_on_finish": "yes", "progress": "off"},
    )
    assert sent.status == 200
    assert rig.slack.open_view("U_ALICE") is None
    saved = await rig.slack.wait_for(
        lambda: [e for e in rig.slack.ephemerals("U_ALICE") if "Saved" in e.text]
    )
    assert "only outcomes" in saved[0].text
    stored = await rig.bot.store.channel_settings(CHANNEL)
    assert stored == ChannelSettings(
        thread="outcomes", broadcast=frozenset(), mention=False, dm_on_finish=True, progress="off"
    )
    audit = await rig.bot.store.audit_for_channel(CHANNEL, limit=5)
    assert [(a.action, a.user, a.allowed) for a in audit][:2] == [
        ("save_settings", "U_ALICE", True),
        ("settings", "U_ALICE", True),
    ]
    assert "Thread: only outcomes" in await slash(rig, "subscriptions", channel=CHANNEL)

    # A job of this channel: running is not told (outcomes only); succeeded is, in the thread only,
    # naming nobody; Alice gets it as a direct message.
    job_id, card = await rig.bot.create_job(user="U_ALICE", channel=CHANNEL)
    control = rig.bot.control
    await control.set_job(job_id, status="running", step=2)
    await _recorded(rig, job_id, "running")
    await control.set_job(job_id, status="succeeded")
    await _recorded(rig, job_id, "succeeded")
    await rig.slack.wait_for(lambda: rig.transitions(CHANNEL, card.ts) or None)
    await _outbox_settled(rig, job_id)

    notes = rig.notes(CHANNEL, card.ts)
    assert [t.partition(":")[2] for t in rig.transitions(CHANNEL, card.ts)] == ["succeeded"]
    assert [n.reply_broadcast for n in notes] == [False]
    assert "<@U_ALICE>" not in notes[0].text
    direct = await rig.slack.wait_for(lambda: rig.slack.messages("D_ALICE") or None)
    assert len(direct) == 1 and job_id in texts_of(direct) and f"<#{CHANNEL}>" in direct[0].text


async def test_without_settings_a_channel_hears_what_it_always_did(app_rig: AppRig) -> None:
    rig = app_rig
    job_id, card = await rig.bot.create_job(user="U_ALICE", channel=CHANNEL)
    await rig.bot.control.set_job(job_id, status="running", step=2)
    await _recorded(rig, job_id, "running")
    await rig.bot.control.set_job(job_id, status="failed", error={"code": "oops", "message": "bad data"})
    await _recorded(rig, job_id, "failed")
    await rig.slack.wait_for(lambda: len(rig.transitions(CHANNEL, card.ts)) == 2 or None)
    notes = rig.notes(CHANNEL, card.ts)
    assert [n.reply_broadcast for n in notes] == [False, True]
    assert "<@U_ALICE>" in notes[-1].text
    assert rig.slack.messages("D_ALICE") == []


async def test_settings_are_for_subscribers_when_the_deployment_names_them(start_bot: StartBot) -> None:
    bot = await start_bot(TUNEOPS_SUBSCRIBERS="U_BOB")
    sent = await bot.slack.sender.slash("settings", user="U_ALICE", channel=CHANNEL)
    refused = await bot.answer_text(sent)
    assert "subscribers" in refused
    assert bot.slack.open_view("U_ALICE") is None


async def test_progress_notes_are_posted_at_the_marks_the_channel_asked_for(app_rig: AppRig) -> None:
    rig = app_rig
    view = await _open_settings(rig)
    await rig.slack.sender.submit_view(view, {"progress": "50"})  # only half-way
    await rig.slack.wait_for(lambda: [e for e in rig.slack.ephemerals("U_ALICE") if "Saved" in e.text])
    # Fields left as they were keep the defaults (outcomes still broadcast).
    assert await rig.bot.store.channel_settings(CHANNEL) == ChannelSettings(progress="50")
    # Another channel follows the same job without progress notes.
    job_id, card = await rig.bot.create_job(user="U_ALICE", channel=CHANNEL)
    await rig.bot.answer(await rig.slack.sender.slash(f"watch {job_id}", user="U_BOB", channel="C_OPS"))
    other_card = (await rig.slack.wait_for(lambda: rig.slack.messages("C_OPS") or None))[0]

    # The emulator's clock, frozen and moved by hand: running after 30 s, then a step every 6 s (100 steps).
    control = rig.bot.control
    await control.set_speed(0)
    await control.advance(30 + 6 * 30)
    await _until_step(rig, job_id, 30)
    await control.advance(6 * 30)

    def progress_notes() -> list[str]:
        return [t for t in rig.transitions(CHANNEL, card.ts) if t.startswith("progress:")]

    await rig.slack.wait_for(lambda: progress_notes() or None)
    await control.advance(6 * 30)
    await _until_step(rig, job_id, 90)
    await _outbox_settled(rig, job_id)
    assert progress_notes() == ["progress:50"]  # not 25 or 75
    note = next(n for n in rig.notes(CHANNEL, card.ts) if "progress:50" in str(n.metadata))
    assert "50 % through training" in note.text and not note.reply_broadcast
    assert not [t for t in rig.transitions("C_OPS", other_card.ts) if t.startswith("progress:")]


async def _until_step(rig: AppRig, job_id: str, step: int) -> None:
    async def there() -> bool:
        tracked = await rig.bot.store.get_job(job_id)
        return tracked is not None and (tracked.progress.step or 0) >= step

    for _ in range(500):
        if await there():
            return
        await asyncio.sleep(0.02)
    raise TimeoutError(f"step {step} never recorded")
