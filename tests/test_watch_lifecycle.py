"""A job followed through its life by the watcher and told to its channel by the notifier.

The emulator's clock is frozen (`speed 0`) and moved by hand, so each status change is seen on its own.
"""

from __future__ import annotations

import pytest

from tests.support.background import Rig

CHANNEL = "C_TEAM"


@pytest.fixture(autouse=True)
async def frozen_emulator(watch_rig: Rig) -> None:
    await watch_rig.control.set_speed(0)


async def test_a_job_through_its_whole_life_gets_one_reply_per_change_and_a_live_card(watch_rig: Rig) -> None:
    rig = watch_rig
    job_id = await rig.start_job(CHANNEL, "U_ALICE", validation=True)

    await rig.control.advance(10)  # files validated → queued
    await rig.until(lambda: rig.statuses(job_id, CHANNEL) == ["queued"])
    await rig.until(lambda: "Queued" in rig.card(job_id, CHANNEL).text or rig.card(job_id, CHANNEL).edited)

    await rig.control.advance(20)  # → running
    await rig.until(lambda: rig.statuses(job_id, CHANNEL) == ["queued", "running"])

    await rig.control.advance(6 * 50)  # half way
    await rig.until(
        lambda: (
            "50" in str(rig.card(job_id, CHANNEL).blocks) and "100" in str(rig.card(job_id, CHANNEL).blocks)
        )
    )

    await rig.control.advance(6 * 60)  # → succeeded
    await rig.until(lambda: rig.statuses(job_id, CHANNEL) == ["queued", "running", "succeeded"])
    await rig.until(
        lambda: (
            "Refresh" in str(rig.card(job_id, CHANNEL).blocks)
            and "Pause" not in str(rig.card(job_id, CHANNEL).blocks)
        )
    )

    notes = rig.notes(job_id, CHANNEL)
    # Only the outcome is broadcast to the channel, and it names the creator, the model and the figures.
    assert [note.reply_broadcast for note in notes] == [False, False, True]
    final = notes[-1].text
    assert "<@U_ALICE>" in final
    job = await rig.services.api.retrieve_job(job_id)
    assert job.fine_tuned_model and job.fine_tuned_model in final
    assert "trained tokens" in final.lower()
    assert "loss" in final.lower()
    # The channel itself shows the card and the one broadcast; everything else stays in the thread.
    top_level = rig.slack.messages(CHANNEL)
    assert [m.ts for m in top_level] == [rig.cards[(job_id, CHANNEL)], notes[-1].ts]
    # The card was edited in place (never re-posted) and now shows the outcome.
    card = rig.card(job_id, CHANNEL)
    assert card.edited
    assert "Succeeded" in str(card.blocks) or "succeeded" in str(card.blocks)


async def test_a_failure_mentions_the_creator_and_carries_the_error(watch_rig: Rig) -> None:
    rig = watch_rig
    job_id = await rig.start_job(CHANNEL, "U_CAROL")
    await rig.control.advance(30)  # validated and queued between two polls: the thread hears "running"
    await rig.until(lambda: rig.statuses(job_id, CHANNEL) == ["running"])

    await rig.control.set_job(
        job_id,
        status="failed",
        error={"code": "invalid_n_examples", "message": "Training file has 3 examples."},
    )
    await rig.until(lambda: rig.statuses(job_id, CHANNEL)[-1:] == ["failed"])

    failure = rig.notes(job_id, CHANNEL)[-1]
    assert failure.reply_broadcast
    assert "<@U_CAROL>" in failure.text
    assert "invalid_n_examples" in failure.text
    assert "Training file has 3 examples." in failure.text


async def test_a_job_watched_from_two_channels_is_told_in_both(watch_rig: Rig) -> None:
    rig = watch_rig
    job_id = await rig.start_job("C_OWNER", "U_ALICE")
    await rig.watch_from(job_id, "C_WATCHER")

    await rig.control.advance(30)
    await rig.control.set_job(job_id, status="cancelled")
    await rig.until(
        lambda: all(rig.statuses(job_id, c)[-1:] == ["cancelled"] for c in ("C_OWNER", "C_WATCHER"))
    )

    # Both channels got the same story, each once, each under its own card.
    assert rig.statuses(job_id, "C_OWNER") == rig.statuses(job_id, "C_WATCHER")
    assert len(set(rig.transitions(job_id, "C_OWNER"))) == len(rig.transitions(job_id, "C_OWNER"))
    assert all("<@U_ALICE>" in rig.notes(job_id, c)[-1].text for c in ("C_OWNER", "C_WATCHER"))
