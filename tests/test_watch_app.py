"""End to end through the real Bolt app: `/finetune create` and card buttons, then the watcher and notifier.

The emulator's clock is frozen and moved by hand, so every status change is seen on its own and the
number of card edits and replies is exact.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.sandbox.emulator.control import EmulatorControl
from bot.sandbox.standin.models import StoredMessage
from bot.views.actions import ACTION_PAUSE, ACTION_RESUME
from tests.support.background import AppRig

CHANNEL = "C_ML"


@pytest.fixture(autouse=True)
async def frozen_emulator(emulator_control: EmulatorControl) -> None:
    await emulator_control.set_speed(0)


def _edits(rig: AppRig, card_ts: str) -> int:
    return sum(1 for call in rig.slack.calls_to("chat.update") if call.args.get("ts") == card_ts and call.ok)


def _transitions_are(rig: AppRig, channel: str, card_ts: str, expected: list[str]) -> Callable[[], bool]:
    """A wait condition: the card's thread has told exactly these status changes."""
    return lambda: rig.transitions(channel, card_ts) == expected


async def test_a_job_created_from_a_command_is_told_to_its_channel_exactly_once_per_change(
    app_rig: AppRig,
) -> None:
    rig, control = app_rig, app_rig.bot.control
    _, card = await rig.bot.create_job(user="U_ALICE", channel=CHANNEL, extra="suffix=e2e")

    def statuses() -> list[str]:
        return rig.transitions(CHANNEL, card.ts)

    expected: list[str] = []
    for seconds, status in ((10, "queued"), (20, "running"), (6 * 100, "succeeded")):
        await control.advance(seconds)
        expected.append(f"{len(expected) + 1}:{status}")
        await rig.slack.wait_for(lambda: statuses() == expected)
        await rig.slack.wait_for(lambda: _edits(rig, card.ts) == len(expected))

    # One card, edited once per change; one reply per change; only the outcome broadcast, to its creator.
    assert statuses() == ["1:queued", "2:running", "3:succeeded"]
    assert _edits(rig, card.ts) == 3
    notes = rig.notes(CHANNEL, card.ts)
    assert [n.reply_broadcast for n in notes] == [False, False, True]
    assert "<@U_ALICE>" in notes[-1].text
    top_level = rig.slack.messages(CHANNEL)
    assert [m.ts for m in top_level] == [card.ts, notes[-1].ts]
    final_card = rig.slack.message(CHANNEL, card.ts)
    assert final_card is not None
    assert "job_pause" not in str(final_card.blocks)
    assert "job_refresh" in str(final_card.blocks)
    # Nothing more is said once the job is finished.
    await control.advance(600)
    await rig.background.watcher.run_cycle()
    assert statuses() == ["1:queued", "2:running", "3:succeeded"]


async def test_a_job_paused_and_resumed_by_button_says_who_did_it(app_rig: AppRig) -> None:
    rig, control = app_rig, app_rig.bot.control
    job_id, card = await rig.bot.create_job(user="U_ALICE", channel=CHANNEL, extra="suffix=pausing")
    await control.advance(30 + 6 * 5)  # running, a few steps in
    await rig.slack.wait_for(lambda: [n.metadata for n in rig.notes(CHANNEL, card.ts)])
    await rig.slack.wait_for(
        lambda: ACTION_PAUSE in str(getattr(rig.slack.message(CHANNEL, card.ts), "blocks", ""))
    )

    sent = await rig.slack.sender.click(card, ACTION_PAUSE, user="U_ALICE")
    assert sent.status == 200
    paused = await rig.slack.wait_for(
        lambda: [n for n in rig.notes(CHANNEL, card.ts) if _note_is(n.metadata, "2:paused")]
    )
    assert paused[0].reply_broadcast
    assert "Paused by <@U_ALICE>" in paused[0].text

    # The card shows it, with Resume in place of Pause (a poll that was in flight during the click may
    # redraw it once more first, so wait for the card rather than read it at one instant).
    def card_with_resume() -> StoredMessage | None:
        shown = rig.slack.message(CHANNEL, card.ts)
        return shown if shown is not None and ACTION_RESUME in str(shown.blocks) else None

    current = await rig.slack.wait_for(card_with_resume)
    assert ACTION_PAUSE not in str(current.blocks)

    sent = await rig.slack.sender.click(current, ACTION_RESUME, user="U_ALICE")
    assert sent.status == 200
    await control.advance(10)  # back through the queue
    await rig.slack.wait_for(lambda: rig.transitions(CHANNEL, card.ts)[-1:] == ["4:running"])
    assert rig.transitions(CHANNEL, card.ts) == ["1:running", "2:paused", "3:queued", "4:running"]
    assert [n.reply_broadcast for n in rig.notes(CHANNEL, card.ts)] == [False, True, False, False]
    assert await rig.bot.job_status_in_emulator(job_id) == "running"


def _note_is(metadata: dict[str, object] | None, transition: str) -> bool:
    payload = (metadata or {}).get("event_payload")
    return isinstance(payload, dict) and payload.get("transition") == transition


async def test_a_failure_is_told_in_the_owner_and_a_watching_channel_with_the_creator_and_the_error(
    app_rig: AppRig,
) -> None:
    rig, control = app_rig, app_rig.bot.control
    job_id, card = await rig.bot.create_job(user="U_CAROL", channel=CHANNEL, extra="suffix=doomed")
    sent = await rig.slack.sender.slash(f"watch {job_id}", user="U_BOB", channel="C_OPS")
    assert sent.status == 200
    ops_card = (await rig.slack.wait_for(lambda: rig.slack.messages("C_OPS")))[0]

    await control.advance(30)
    for channel, ts in ((CHANNEL, card.ts), ("C_OPS", ops_card.ts)):
        await rig.slack.wait_for(_transitions_are(rig, channel, ts, ["1:running"]))
    await control.set_job(
        job_id, status="failed", error={"code": "invalid_training_file", "message": "Line 7 is not JSON."}
    )

    for channel, ts in ((CHANNEL, card.ts), ("C_OPS", ops_card.ts)):
        await rig.slack.wait_for(_transitions_are(rig, channel, ts, ["1:running", "2:failed"]))
        failure = rig.notes(channel, ts)[-1]
        assert failure.reply_broadcast
        assert "<@U_CAROL>" in failure.text
        assert "invalid_training_file" in failure.text and "Line 7 is not JSON." in failure.text
