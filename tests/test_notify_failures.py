"""What the notifier does when Slack will not (or may not) take a message."""

from __future__ import annotations

import pytest

from bot.notify.thread_lookup import card_metadata, notification_metadata
from bot.sandbox.emulator.control import EmulatorControl
from bot.views.card import card_for
from bot.watch.watcher import Watcher
from tests.support.background import RIG_LEASE, Rig, RigFactory


@pytest.fixture(autouse=True)
async def frozen_emulator(emulator_control: EmulatorControl) -> None:
    await emulator_control.set_speed(0)


def _posts_to(rig: Rig, channel: str) -> int:
    return sum(1 for call in rig.slack.calls_to("chat.postMessage") if call.args.get("channel") == channel)


async def test_a_channel_the_bot_cannot_post_to_is_marked_and_its_notes_wait(watch_rig: Rig) -> None:
    rig = watch_rig
    job_id = await rig.start_job("C_OWNER", "U_ALICE")
    await rig.watch_from(job_id, "C_ARCHIVED")
    rig.slack.set_channel_state("C_ARCHIVED", "archived")
    posts_before = _posts_to(rig, "C_ARCHIVED")

    await rig.control.advance(30)
    await rig.until(lambda: rig.statuses(job_id, "C_OWNER") == ["running"])
    reason = await rig.until_async(lambda: rig.store.channel_unreachable("C_ARCHIVED"))
    assert reason == "is_archived"

    # Later changes still reach the owner channel; the archived one is not tried again before its next try
    # (minutes away), and its notes wait for it rather than being dropped.
    await rig.control.set_job(job_id, status="cancelled")
    await rig.until(lambda: rig.statuses(job_id, "C_OWNER") == ["running", "cancelled"])
    # Its two notes wait, and the end's loss curve behind them.
    await rig.until_async(lambda: _pending_is(rig, 3))
    assert _posts_to(rig, "C_ARCHIVED") == posts_before + 1
    stats = await rig.store.outbox_stats(now=rig.services.clock())
    assert stats.given_up == 0


async def _pending_is(rig: Rig, count: int) -> bool:
    stats = await rig.store.outbox_stats(now=rig.services.clock())
    return stats.pending == count


async def test_a_reply_whose_answer_was_lost_is_found_in_the_thread_not_posted_twice(
    make_rig: RigFactory,
) -> None:
    rig = await make_rig(request_timeout=0.2)
    job_id = await rig.start_job("C_TEAM", "U_ALICE")
    # Slack takes the post but answers after the notifier stopped waiting: the retry must look in the
    # thread and find it there.
    rig.slack.set_latency(300, method="chat.postMessage")
    await rig.control.advance(30)
    await rig.slack.wait_for_calls("chat.postMessage", count=2)  # the card (from the rig) and the reply
    await rig.until(lambda: rig.statuses(job_id, "C_TEAM") == ["running"])
    rig.slack.set_latency(0, method="chat.postMessage")
    await rig.slack.wait_for_calls("conversations.replies", count=1)
    await rig.until_async(lambda: _no_pending(rig))

    assert rig.statuses(job_id, "C_TEAM") == ["running"]
    replies = [c for c in rig.slack.calls_to("chat.postMessage") if c.args.get("thread_ts")]
    assert len(replies) == 1  # the timed-out post was the delivery; nothing was re-posted


async def test_a_deleted_card_is_posted_again_and_the_reply_goes_under_it(watch_rig: Rig) -> None:
    rig = watch_rig
    job_id = await rig.start_job("C_TEAM", "U_ALICE")
    old_card = rig.card(job_id, "C_TEAM")
    rig.slack.workspace.delete_message(old_card)

    await rig.control.advance(30)
    watch = await rig.until_async(lambda: _watch_with_new_card(rig, job_id, "C_TEAM", old_card.ts))
    rig.cards[(job_id, "C_TEAM")] = str(watch.card_ts)
    await rig.until(lambda: rig.statuses(job_id, "C_TEAM") == ["running"])
    assert [m.ts for m in rig.slack.messages("C_TEAM")] == [watch.card_ts]


async def _no_pending(rig: Rig) -> bool:
    stats = await rig.store.outbox_stats(now=rig.services.clock())
    return stats.pending == 0


async def _watch_with_new_card(rig: Rig, job_id: str, channel: str, old_ts: str) -> object:
    watch = await rig.store.get_watch(job_id, channel)
    return watch if watch is not None and watch.card_ts not in (None, old_ts) else None


async def test_a_reply_posted_by_a_process_that_died_before_its_commit_is_not_posted_again(
    make_rig: RigFactory,
) -> None:
    rig = await make_rig(start=False)
    job_id = await rig.start_job("C_TEAM", "U_ALICE")
    await rig.control.advance(30)
    watcher = Watcher(rig.services)
    await watcher.run_cycle()  # records validating_files → running and queues its note
    # The process that died had claimed the row and Slack had posted it; the commit never happened.
    [claimed] = await rig.store.claim_due_outbox(now=rig.services.clock(), limit=10, lease=RIG_LEASE)
    await rig.services.slack.chat_postMessage(
        channel="C_TEAM",
        thread_ts=rig.cards[(job_id, "C_TEAM")],
        text="▶️ Running — started training",
        metadata=notification_metadata(job_id, claimed.transition),
    )
    posts_before = len(rig.slack.calls_to("chat.postMessage"))

    await rig.background.start()  # a new process: it takes the row over at once, despite its lease
    await rig.until_async(lambda: _no_pending(rig))

    assert rig.statuses(job_id, "C_TEAM") == ["running"]
    assert len(rig.slack.calls_to("chat.postMessage")) == posts_before
    assert rig.slack.calls_to("conversations.replies")


async def test_a_card_posted_but_never_remembered_is_adopted_not_posted_again(watch_rig: Rig) -> None:
    """A card whose post answer was lost (the watch has no card ts) already sits in the channel: the
    first reply goes under it instead of under a second card."""
    rig = watch_rig
    job_id = await rig.start_job("C_OWNER", "U_ALICE")
    await rig.store.add_watch(job_id, "C_LOST", user="U_BOB", now=rig.services.clock())
    tracked = await rig.store.get_job(job_id)
    assert tracked is not None
    posted = await rig.services.slack.chat_postMessage(
        channel="C_LOST",
        metadata=card_metadata(job_id),
        **card_for(tracked, rig.services.clock()).as_kwargs(),
    )
    rig.cards[(job_id, "C_LOST")] = str(posted["ts"])

    await rig.control.advance(30)
    await rig.until(lambda: rig.statuses(job_id, "C_LOST") == ["running"])

    assert [m.ts for m in rig.slack.messages("C_LOST")] == [posted["ts"]]
    watch = await rig.store.get_watch(job_id, "C_LOST")
    assert watch is not None
    assert watch.card_ts == posted["ts"]
