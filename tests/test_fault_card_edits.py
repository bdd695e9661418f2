"""Cards whose edits Slack refuses for good do not eat the workspace's edit budget.

Through the real Bolt app: jobs created with `/finetune create`, moved in the emulator; the stand-in
refuses every card edit with blocks in one channel (`invalid_blocks`, HTTP 200), as Slack does for a card
it will never take.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.sandbox.emulator.control import EmulatorControl
from tests.support.background import AppRig

HEALTHY = "C_ML"
BROKEN = "C_BROKEN"
BROKEN_CARDS = 8


@pytest.fixture(autouse=True)
async def frozen_emulator(emulator_control: EmulatorControl) -> None:
    await emulator_control.set_speed(0)


def _edits(rig: AppRig, channel: str, *, ok: bool | None = None) -> list[dict[str, object]]:
    return [
        call.args
        for call in rig.slack.calls_to("chat.update")
        if call.args.get("channel") == channel and (ok is None or call.ok == ok)
    ]


async def test_a_card_refused_for_good_is_edited_once_as_text_then_left_until_its_job_changes(
    app_rig: AppRig,
) -> None:
    rig, control = app_rig, app_rig.bot.control
    broken = [
        (await rig.bot.create_job(channel=BROKEN, extra=f"suffix=broken{n}"))[0] for n in range(BROKEN_CARDS)
    ]
    healthy, _ = await rig.bot.create_job(channel=HEALTHY, extra="suffix=healthy")
    rig.slack.refuse("invalid_blocks", method="chat.update", channel=BROKEN, with_blocks=True)

    for job_id in broken:
        await control.set_job(job_id, status="running")
    # Every broken card: one refused edit, then one plain-text edit that Slack takes.
    await rig.slack.wait_for(lambda: len(_edits(rig, BROKEN, ok=True)) == BROKEN_CARDS)
    assert all(args.get("blocks") in ("[]", []) for args in _edits(rig, BROKEN, ok=True))

    # The healthy card keeps being edited, change after change, while the broken ones are left alone.
    for step, status in ((1, "running"), (2, "running"), (3, "cancelled")):
        await control.set_job(healthy, status=status, step=step)
        await rig.slack.wait_for(_edited_at_least(rig, step))
    assert len(_edits(rig, BROKEN)) == 2 * BROKEN_CARDS

    # A broken card's job changes again: its card is tried again (and again falls back to text).
    await control.set_job(broken[0], status="cancelled")
    await rig.slack.wait_for(lambda: len(_edits(rig, BROKEN, ok=True)) == BROKEN_CARDS + 1)
    assert len(_edits(rig, BROKEN)) == 2 * BROKEN_CARDS + 2
    latest = rig.slack.message(BROKEN, str(_edits(rig, BROKEN)[-1]["ts"]))
    assert latest is not None
    assert latest.blocks == []
    assert "ancel" in latest.text


def _edited_at_least(rig: AppRig, count: int) -> Callable[[], bool]:
    return lambda: len(_edits(rig, HEALTHY, ok=True)) >= count
