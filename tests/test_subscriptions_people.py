"""Jobs started outside Slack get a person from their metadata (`owner=<email>`, `slack_user=U…`); who may
subscribe; and the audit log read in Slack, refusals included. Through the real Bolt app and the emulator."""

from __future__ import annotations

from bot.jobs.records import Origin
from tests.support.background import AppRig
from tests.support.runtime import BotRig, StartBot
from tests.test_subscriptions_app import OPS, cards, slash, started_elsewhere


async def _typed(bot: BotRig, text: str, *, user: str, channel: str = OPS) -> str:
    return await bot.answer_text(await bot.slack.sender.slash(text, user=user, channel=channel))


async def test_metadata_names_the_person_who_may_act_and_is_mentioned(app_rig: AppRig) -> None:
    rig = app_rig
    await slash(rig, "subscribe all")
    by_email = await started_elsewhere(rig, suffix="email", owner="bob@example.com")
    by_id = await started_elsewhere(rig, suffix="id", slack_user="U_CAROL")
    nobody = await started_elsewhere(rig, suffix="nobody")
    stranger = await started_elsewhere(rig, suffix="stranger", owner="nobody@elsewhere.example")
    await rig.slack.wait_for(lambda: {by_email.id, by_id.id, nobody.id, stranger.id} <= set(cards(rig, OPS)))

    creators = {}
    for job in (by_email, by_id, nobody, stranger):
        tracked = await rig.bot.store.get_job(job.id)
        assert tracked is not None and tracked.origin == Origin.SUBSCRIPTION
        creators[job.id] = tracked.creator
    assert creators == {by_email.id: "U_BOB", by_id.id: "U_CAROL", nobody.id: None, stranger.id: None}

    # Bob, named by his email, may cancel his job; Alice may not cancel one that names nobody.
    answer = await _typed(rig.bot, f"cancel {by_email.id}", user="U_BOB")
    assert "Cancel" in answer or "cancel" in answer
    assert await rig.bot.job_status_in_emulator(by_email.id) == "cancelled"
    refused = await _typed(rig.bot, f"cancel {nobody.id}", user="U_ALICE")
    assert "Only admins can cancel" in refused
    assert await rig.bot.job_status_in_emulator(nobody.id) != "cancelled"

    # Carol's job finishes: the outcome mentions her.
    card = cards(rig, OPS)[by_id.id][0]
    await rig.bot.control.set_job(by_id.id, status="succeeded")
    notes = await rig.slack.wait_for(
        lambda: [n for n in rig.notes(OPS, card.ts) if "succeeded" in str(n.metadata)] or None
    )
    assert "<@U_CAROL>" in notes[0].text


async def test_the_audit_in_slack_shows_refusals_for_the_channel_the_job_and_admins_everywhere(
    start_bot: StartBot,
) -> None:
    bot = await start_bot(TUNEOPS_ADMINS="U_ADMIN")
    job_id, _ = await bot.create_job(user="U_ALICE", channel="C_ML")
    refused = await _typed(bot, f"cancel {job_id}", user="U_BOB", channel="C_ML")
    assert "Only <@U_ALICE>" in refused
    await bot.audit(job_id, 2)  # the refusal is audited after its answer

    channel_log = await _typed(bot, "audit", user="U_CAROL", channel="C_ML")
    assert "Audit log of this channel" in channel_log
    assert "<@U_BOB> `cancel`" in channel_log and "refused" in channel_log
    assert "Only <@U_ALICE>" in channel_log  # why
    assert "<@U_ALICE> `create`" in channel_log and "allowed" in channel_log

    job_log = await _typed(bot, f"audit {job_id} 1", user="U_CAROL", channel="C_OPS")
    assert f"Audit log of `{job_id}`" in job_log
    assert "`cancel`" in job_log and "`create`" not in job_log  # the newest one only

    other_channel = await _typed(bot, "audit", user="U_CAROL", channel="C_OPS")
    assert "`cancel`" not in other_channel

    not_admin = await _typed(bot, "audit all", user="U_CAROL", channel="C_OPS")
    assert "Only admins" in not_admin
    everywhere = await _typed(bot, "audit all 50", user="U_ADMIN", channel="C_OPS")
    assert "every channel" in everywhere and "in <#C_ML>" in everywhere
    assert "<@U_CAROL> `audit_all`" in everywhere  # Carol's refused try is there too

    bad = await _typed(bot, "audit ftjob-x 500", user="U_CAROL", channel="C_ML")
    assert "from 1 to 50" in bad


async def test_tuneops_subscribers_restricts_who_may_subscribe(start_bot: StartBot) -> None:
    bot = await start_bot(TUNEOPS_SUBSCRIBERS="U_BOB", TUNEOPS_ADMINS="U_ADMIN")
    refused = await _typed(bot, "subscribe all", user="U_ALICE")
    assert "subscribers" in refused and "admins" in refused
    assert await bot.store.channel_subscriptions(OPS) == []
    assert "Subscription 1" in await _typed(bot, "subscribe all", user="U_BOB")
    assert "Subscription 2" in await _typed(bot, "subscribe model=gpt-4o", user="U_ADMIN")
    # Listing is open to anyone; removing is for subscribers.
    listed = await _typed(bot, "subscriptions", user="U_ALICE")
    assert "1. `all` — by <@U_BOB>" in listed
    assert "subscribers" in await _typed(bot, "unsubscribe all", user="U_ALICE")
    assert "There is no subscription 3" in await _typed(bot, "unsubscribe 3", user="U_BOB")
    assert "Unsubscribed from `all`" in await _typed(bot, "unsubscribe 1", user="U_BOB")
    remaining = await bot.store.channel_subscriptions(OPS)
    assert [s.filter.model for s in remaining] == ["gpt-4o"]
