"""A huge field in the API's answer is not stored whole: the job is followed, its copies stay small.

The real Bolt app over HTTP with the emulator and the Slack stand-in. The emulator answers a job with a
5 MB text in its metadata and a 5 MB error message; the job's notes still go out (the error's start is
quoted), and the job's snapshot and every outbox payload in the SQLite file stay within the size caps.
"""

from __future__ import annotations

import sqlite3

import pytest

from bot.jobs.size_caps import MAX_STORED, capped
from bot.sandbox.emulator.control import EmulatorControl
from tests.support.background import AppRig

CHANNEL = "C_ML"
HUGE = 5_000_000


@pytest.fixture(autouse=True)
async def frozen_emulator(emulator_control: EmulatorControl) -> None:
    await emulator_control.set_speed(0)


async def test_a_huge_api_field_is_cut_before_it_is_stored(app_rig: AppRig) -> None:
    rig, control = app_rig, app_rig.bot.control
    job_id, card = await rig.bot.create_job(user="U_CAROL", channel=CHANNEL, extra="suffix=huge")
    # A second channel follows the job: each channel's outbox row carries its own copy of the job.
    sent = await rig.slack.sender.slash(f"watch {job_id}", user="U_CAROL", channel="C_OTHER")
    assert sent.status == 200, sent

    def statuses() -> list[str]:
        return [t.partition(":")[2] for t in rig.transitions(CHANNEL, card.ts)]

    await control.set_job_fields(job_id, {"metadata": {"notes": "n" * HUGE}})
    await control.advance(30)
    await rig.slack.wait_for(lambda: statuses()[-1:] == ["running"])
    await control.set_job(job_id, status="failed", error={"code": "bad", "message": "Broken: " + "e" * HUGE})
    await rig.slack.wait_for(lambda: statuses()[-1:] == ["failed"], timeout=30)

    failure = rig.notes(CHANNEL, card.ts)[-1]
    assert "Broken: eee" in failure.text
    with sqlite3.connect(rig.bot.services.settings.db_path) as db:
        (snapshot,) = db.execute("SELECT length(snapshot) FROM jobs WHERE job_id = ?", (job_id,)).fetchone()
        payloads = [
            n for (n,) in db.execute("SELECT length(payload) FROM outbox WHERE job_id = ?", (job_id,))
        ]
    assert snapshot <= MAX_STORED
    assert len(payloads) >= 4  # running and failed, in both channels
    assert max(payloads) <= MAX_STORED


def test_the_caps_keep_ordinary_objects_as_they_are_and_say_what_they_cut() -> None:
    ordinary = {"id": "ftjob-1", "hyperparameters": {"n_epochs": 3}, "result_files": ["file-1"]}
    assert capped(ordinary) == ordinary
    cut = capped({"text": "x" * 10_000, "many": list(range(1_000)), "wide": {str(i): i for i in range(500)}})
    assert str(cut["text"]).endswith("… [6000 more characters]")
    many = cut["many"]
    assert isinstance(many, list) and many[-1] == "… [800 more items]"
    wide = cut["wide"]
    assert isinstance(wide, dict) and wide["…"] == "[300 more fields]"
