"""`tuneops sandbox` wires the emulator's webhooks to the bot: a job's end reaches the bot signed with the
secret the bot was given, and is told in the job's thread although the next poll is far away."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.sandbox.command import Sandbox, banner, start_sandbox
from bot.sandbox.emulator.control import EmulatorControl
from bot.sandbox.emulator.state import DEMO_TRAINING_FILE
from tests.support.background import note_transition

CREATE = f"create model=gpt-4o-mini-2024-07-18 training_file={DEMO_TRAINING_FILE} suffix=sandboxed"


@pytest.fixture
async def sandbox(clean_env: pytest.MonkeyPatch) -> AsyncIterator[Sandbox]:
    # A long poll interval: only the webhook can tell the end within the test.
    running = await start_sandbox(port=0, speed=0.0, use_real_api=False, poll_interval=600.0, seed=0)
    try:
        yield running
    finally:
        await running.stop(grace=5)


async def test_the_sandbox_tells_a_job_end_by_the_emulator_webhook(sandbox: Sandbox) -> None:
    assert sandbox.emulator is not None
    assert "/webhooks/fine-tuning" in banner(sandbox)
    slack = sandbox.slack
    sent = await slack.sender.slash(CREATE, user="U_ALICE", channel="C_SANDBOX")
    assert sent.status == 200
    (card,) = await slack.wait_for(lambda: slack.messages("C_SANDBOX"))
    assert card.metadata is not None
    job_id = str(card.metadata["event_payload"]["job_id"])

    async with EmulatorControl(sandbox.emulator.url) as control:
        await control.set_job(job_id, status="succeeded")
        await slack.wait_for(
            lambda: [
                t
                for t in (note_transition(m) for m in slack.thread("C_SANDBOX", card.ts))
                if t and t.endswith(":succeeded")
            ]
        )
        deliveries = await control.webhook_deliveries()
    assert [(d["job_id"], d["delivered"]) for d in deliveries] == [(job_id, True)]
