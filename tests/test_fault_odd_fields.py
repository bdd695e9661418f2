"""A job the API describes with odd fields is still followed: its notes go out like any other job's.

The real Bolt app over HTTP, the emulator sending the job with an error given as text, a metadata value
that is a number, `n_epochs: 3.5`, integrations as bare names and no `created_at`, and the Slack stand-in.
"""

from __future__ import annotations

import pytest

from bot.sandbox.emulator.control import EmulatorControl
from tests.support.background import AppRig

CHANNEL = "C_ML"


@pytest.fixture(autouse=True)
async def frozen_emulator(emulator_control: EmulatorControl) -> None:
    await emulator_control.set_speed(0)


async def test_a_job_with_odd_fields_still_gets_its_notes(app_rig: AppRig) -> None:
    rig, control = app_rig, app_rig.bot.control
    job_id, card = await rig.bot.create_job(user="U_CAROL", channel=CHANNEL, extra="suffix=odd")
    odd = {
        "error": "Out of quota for this organization",
        "metadata": {"team": 7},
        "hyperparameters": {"n_epochs": 3.5},
        "integrations": ["wandb"],
    }
    await control.set_job_fields(job_id, odd, drop=["created_at"])

    def statuses() -> list[str]:
        return [t.partition(":")[2] for t in rig.transitions(CHANNEL, card.ts)]

    await control.advance(30)
    await rig.slack.wait_for(lambda: statuses()[-1:] == ["running"])
    await control.set_job(job_id, status="failed")
    await rig.slack.wait_for(lambda: statuses()[-1:] == ["failed"])

    failure = rig.notes(CHANNEL, card.ts)[-1]
    assert "Out of quota for this organization" in failure.text
    assert "<@U_CAROL>" in failure.text
    assert statuses().count("failed") == 1
