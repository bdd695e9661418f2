"""`/finetune settings`: the channel's form, stored and audited, shown in `subscriptions`, and changing what
the notifier posts (thread, broadcast, mention, a direct message on finish). Real Bolt app, emulator,
stand-in, background watcher and notifier."""

from __future__ import annotations

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
