"""Subscriptions through the real Bolt app: jobs started outside Slack (straight in the emulator, the way a
pipeline or a notebook starts them) get a card in the subscribed channel, and only what `only=` asks for is
told. The watcher and notifier run in the background with a 0.1 s poll interval."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bot.finetune.models import FineTuningJob
from bot.finetune.spec import JobSpec
from bot.notify.thread_lookup import CARD_EVENT
from bot.sandbox.emulator.state import DEMO_TRAINING_FILE
from bot.sandbox.standin.models import StoredMessage
from tests.support.background import BASE_MODEL, AppRig, fast_background
from tests.support.runtime import texts_of

OPS = "C_OPS"


async def started_elsewhere(rig: AppRig, *, suffix: str = "ci", **metadata: str) -> FineTuningJob:
    """A job started straight in the emulator's API, as CI would: Slack knows nothing of it."""
    spec = JobSpec(
        model=BASE_MODEL, training_file=DEMO_TRAINING_FILE, suffix=suffix, metadata=dict(metadata) or {}
    )
    return await rig.bot.services.api.create_job(spec)


async def slash(rig: AppRig, text: str, *, user: str = "U_ALICE", channel: str = OPS) -> str:
    sent = await rig.slack.sender.slash(text, user=user, channel=channel)
    return await rig.bot.answer_text(sent)


def cards(rig: AppRig, channel: str) -> dict[str, list[StoredMessage]]:
    """Job id → the job's card messages in the channel."""
    found: dict[str, list[StoredMessage]] = {}
    for message in rig.slack.messages(channel):
        metadata: dict[str, Any] = message.metadata or {}
        if metadata.get("event_type") == CARD_EVENT:
            found.setdefault(str(metadata["event_payload"]["job_id"]), []).append(message)
    return found


async def test_a_job_started_elsewhere_with_matching_metadata_gets_a_card_and_others_do_not(
    app_rig: AppRig,
) -> None:
    rig = app_rig
    answer = await slash(rig, "subscribe meta.team=search")
    assert "Subscription 1" in answer and "meta.team=search" in answer
    other = await started_elsewhere(rig, team="ads")
    matching = await started_elsewhere(rig, team="search")

    await rig.slack.wait_for(lambda: matching.id in cards(rig, OPS))
    # Both were on the page that found the matching one (newest first, the other below it).
    assert other.id not in cards(rig, OPS)
    assert len(cards(rig, OPS)[matching.id]) == 1
    card = cards(rig, OPS)[matching.id][0]
    assert matching.id in texts_of([card])
    tracked = await rig.bot.store.get_job(matching.id)
    assert tracked is not None and tracked.origin == "subscription"
    assert await rig.bot.store.get_job(other.id) is None


async def test_jobs_started_before_the_subscription_are_not_announced(app_rig: AppRig) -> None:
    rig = app_rig
    before = await started_elsewhere(rig, suffix="old")
    await _next_second()  # the subscription's second must come after the job's
    await slash(rig, "subscribe suffix=")  # a bad filter first: refused, nothing stored
    assert await rig.bot.store.channel_subscriptions(OPS) == []
    await slash(rig, "subscribe all")
    after = await started_elsewhere(rig, suffix="new")

    await rig.slack.wait_for(lambda: after.id in cards(rig, OPS))
    assert before.id not in cards(rig, OPS)


async def test_overlapping_subscriptions_give_one_card(app_rig: AppRig) -> None:
    rig = app_rig
    await slash(rig, "subscribe all")
    await slash(rig, "subscribe model=gpt-4o-mini")
    await slash(rig, "subscribe suffix=night meta.pipeline=nightly")
    job = await started_elsewhere(rig, suffix="nightly-1", pipeline="nightly")
    # A job created from Slack in the subscribed channel keeps the one card its create posted.
    await rig.bot.create_job(channel=OPS, extra="suffix=from-slack")
    (created,) = [j.job_id for j in await rig.bot.store.channel_jobs(OPS) if j.suffix == "from-slack"]

    await rig.slack.wait_for(lambda: job.id in cards(rig, OPS))
    await _discovery_passes(rig, 3)
    assert len(cards(rig, OPS)[job.id]) == 1
    assert len(cards(rig, OPS)[created]) == 1
    tracked = await rig.bot.store.get_job(created)
    assert tracked is not None and tracked.origin == "command"  # still the create's, not discovery's
    listed = await slash(rig, "subscriptions")
    assert "1. `all`" in listed and "2. `model=gpt-4o-mini`" in listed
    assert "<@U_ALICE>" in listed


async def test_only_filters_which_changes_are_told(app_rig: AppRig) -> None:
    rig = app_rig
    answer = await slash(rig, "subscribe all only=succeeded,failed")
    assert "Only failed, succeeded will be told" in answer
    job = await started_elsewhere(rig)
    await rig.slack.wait_for(lambda: job.id in cards(rig, OPS))
    card = cards(rig, OPS)[job.id][0]
    control = rig.bot.control

    await control.set_job(job.id, status="running", step=2)
    await _recorded(rig, job.id, "running")
    await control.set_job(job.id, status="succeeded")
    await _recorded(rig, job.id, "succeeded")

    told = await rig.slack.wait_for(lambda: rig.transitions(OPS, card.ts) or None)
    await _outbox_settled(rig, job.id)
    assert [t.partition(":")[2] for t in rig.transitions(OPS, card.ts)] == ["succeeded"], told


async def test_a_paused_job_cancelled_outside_slack_is_told_before_its_own_poll(start_bot: Any) -> None:
    bot = await start_bot(background=False, TUNEOPS_POLL_INTERVAL="1")
    background = fast_background(bot.services)
    await background.start()
    try:
        rig = AppRig(bot=bot, background=background)
        job_id, card = await bot.create_job(channel="C_ML")
        await bot.control.set_job(job_id, status="paused", step=3)
        await _recorded(rig, job_id, "paused")
        paused = await bot.store.get_job(job_id)
        assert paused is not None
        await bot.services.api.cancel_job(job_id)  # the dashboard's Cancel: Slack is not involved

        await rig.slack.wait_for(
            lambda: any(t.endswith(":cancelled") for t in rig.transitions("C_ML", card.ts))
        )
        # Told from the list page the watcher reads each interval, long before the paused job's own
        # (ten times rarer) poll was due.
        assert bot.services.clock() < paused.next_poll_at
    finally:
        await background.stop(timeout=2.0)


async def _recorded(rig: AppRig, job_id: str, status: str) -> None:
    async def seen() -> bool:
        tracked = await rig.bot.store.get_job(job_id)
        return tracked is not None and tracked.status == status

    await _until(seen)


async def _outbox_settled(rig: AppRig, job_id: str) -> None:
    """Every note of the job was delivered or dropped by the notifier."""

    async def settled() -> bool:
        stats = await rig.bot.store.outbox_stats(now=rig.bot.services.clock())
        return stats.pending == 0

    await _until(settled)


async def _discovery_passes(rig: AppRig, count: int) -> None:
    """Let a few more discovery passes run (one per poll interval)."""
    await asyncio.sleep(count * rig.bot.services.settings.poll_interval + 0.2)


async def _next_second() -> None:
    """The API gives creation times in whole seconds: wait into the next one."""
    await asyncio.sleep(1.05 - (time.time() % 1))


async def _until(predicate: Any, within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not await predicate():
        if time.monotonic() >= deadline:
            raise TimeoutError("condition not met")
        await asyncio.sleep(0.02)


async def test_a_job_created_in_a_subscribed_channel_still_tells_every_change_there(app_rig: AppRig) -> None:
    rig = app_rig
    await slash(rig, "subscribe all only=failed")
    await rig.bot.create_job(channel=OPS, extra="suffix=own")
    (own,) = [j.job_id for j in await rig.bot.store.channel_jobs(OPS) if j.suffix == "own"]
    await _discovery_passes(rig, 3)  # discovery meets the job too: it is this channel's already
    assert await rig.bot.store.watch_filter(own, OPS) is None
    await rig.bot.control.set_job(own, status="running", step=2)
    card = cards(rig, OPS)[own][0]
    await rig.slack.wait_for(lambda: any(t.endswith(":running") for t in rig.transitions(OPS, card.ts)))
