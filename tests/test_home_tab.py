"""The app's Home tab through the real app: published when a person opens it (with and without jobs),
with the buttons they may use, acting from there, and kept current as their jobs change (debounced)."""

from __future__ import annotations

import dataclasses
import itertools
import re
import time
from typing import Any

from bot.home.publisher import HomeUpkeep
from bot.jobs.actions import Action
from bot.jobs.records import NewJob, Origin
from bot.sandbox.standin.home import click_in_home, open_home
from bot.views.home import home_action_id
from tests.support.runtime import BotRig, button_labels, texts_of

FINE_TUNED = "ft:gpt-4o-mini-2024-07-18:org:rig:home1"


async def home_of(bot: BotRig, user: str, *, publishes: int = 1) -> dict[str, Any]:
    """`user`'s Home view once it has been published `publishes` times."""
    home = bot.slack.workspace.home
    await bot.slack.wait_for(lambda: home.publishes.get(user, 0) >= publishes)
    view = home.view(user)
    assert view is not None
    return view


def job_buttons(view: dict[str, Any], job_id: str) -> list[str]:
    """The labels of the buttons under `job_id` on the Home tab."""
    blocks = [b for b in view["blocks"] if b.get("block_id") == f"home:{job_id}"]
    assert blocks, f"{job_id} is not on the Home tab"
    return button_labels({"blocks": blocks})


async def test_a_person_without_jobs_is_told_how_to_start_one(bot: BotRig) -> None:
    sent = await open_home(bot.slack, "U_CAROL")
    assert sent.status == 200
    view = await home_of(bot, "U_CAROL")
    assert view["type"] == "home"
    assert "Start one with `/finetune create`" in texts_of([view])
    [call] = bot.slack.calls_to("views.publish")
    assert call.ok and call.args["user_id"] == "U_CAROL"


async def test_the_home_tab_shows_own_jobs_then_channel_jobs_with_the_buttons_one_may_use(
    bot: BotRig,
) -> None:
    running, _ = await bot.running_job(user="U_ALICE", channel="C_ML")
    finished, _ = await bot.create_job(user="U_ALICE", channel="C_ML", extra="suffix=done")
    await bot.control.set_job(finished, status="succeeded")
    await bot.control.set_job_fields(finished, {"fine_tuned_model": FINE_TUNED, "trained_tokens": 2_000_000})
    bobs, _ = await bot.running_job(user="U_BOB", channel="C_GENERAL")
    hidden, _ = await bot.running_job(user="U_CAROL", channel="C_SECRET")
    bot.slack.workspace.home.set_members("C_SECRET", ["U_CAROL"])  # Alice is not in that channel
    for job_id in (running, finished, bobs, hidden):
        await bot.answer(await bot.slack.sender.slash(f"status {job_id}"))

    await open_home(bot.slack, "U_ALICE")
    view = await home_of(bot, "U_ALICE")
    text = texts_of([view])
    # Her own jobs: running first, then the finished one with its model and cost; then her channels' jobs.
    assert text.index(running) < text.index(finished) < text.index(bobs)
    assert FINE_TUNED in text and "cost $6.00" in text  # 2M tokens of gpt-4o-mini at $3 per 1M
    assert hidden not in text
    # Her running job: everything; Bob's: only Refresh (only he or an admin may stop it); finished: Refresh.
    assert job_buttons(view, running) == ["Pause", "Cancel", "Refresh"]
    assert job_buttons(view, bobs) == ["Refresh"]
    assert job_buttons(view, finished) == ["Refresh"]


async def test_an_admin_gets_the_buttons_on_other_peoples_jobs(start_bot: Any) -> None:
    bot: BotRig = await start_bot(TUNEOPS_ADMINS="U_CAROL")
    bobs, _ = await bot.running_job(user="U_BOB", channel="C_ML")
    await bot.answer(await bot.slack.sender.slash(f"status {bobs}"))
    await open_home(bot.slack, "U_CAROL")
    assert job_buttons(await home_of(bot, "U_CAROL"), bobs) == ["Pause", "Cancel", "Refresh"]


async def test_pause_from_the_home_tab_pauses_the_job_and_redraws_the_tab(bot: BotRig) -> None:
    job_id, card = await bot.running_job(user="U_ALICE", channel="C_ML", step=4)
    await bot.answer(await bot.slack.sender.slash(f"status {job_id}"))
    await open_home(bot.slack, "U_ALICE")
    await home_of(bot, "U_ALICE")

    sent = await click_in_home(bot.slack, home_action_id(Action.PAUSE), user="U_ALICE")
    assert sent.status == 200
    view = await home_of(bot, "U_ALICE", publishes=2)
    assert await bot.job_status_in_emulator(job_id) in ("pausing", "paused")
    assert "Pause" not in job_buttons(view, job_id)
    audit = await bot.audit(job_id, 2)
    assert [(a.action, a.user, a.channel, a.allowed) for a in audit][-1] == ("pause", "U_ALICE", "C_ML", True)
    # The job's card in its channel shows it too.
    await bot.slack.wait_for(lambda: "Pause" not in button_labels(bot.slack.message("C_ML", card.ts)))


async def test_a_refused_click_on_the_home_tab_changes_nothing(bot: BotRig) -> None:
    bobs, _ = await bot.running_job(user="U_BOB", channel="C_ML")
    await bot.answer(await bot.slack.sender.slash(f"status {bobs}"))
    await open_home(bot.slack, "U_BOB")
    await home_of(bot, "U_BOB")
    # Alice presses a Pause she was never shown (an old tab, a forged payload): refused and audited.
    bot.slack.workspace.home.views["U_ALICE"] = bot.slack.workspace.home.views["U_BOB"]
    sent = await click_in_home(bot.slack, home_action_id(Action.PAUSE), user="U_ALICE")
    assert sent.status == 200
    audit = await bot.audit(bobs, 3)  # create, status, and the refused pause
    assert [(a.action, a.user, a.allowed) for a in audit][-1] == ("pause", "U_ALICE", False)
    assert await bot.job_status_in_emulator(bobs) == "running"
    refusal = await bot.slack.wait_for(lambda: bot.slack.ephemerals("U_ALICE"))
    assert "Only <@U_BOB>" in refusal[-1].text


async def test_the_home_tab_follows_changes_to_ones_jobs_at_most_once_per_interval(bot: BotRig) -> None:
    job_id, _ = await bot.create_job(user="U_ALICE", channel="C_ML")
    await open_home(bot.slack, "U_ALICE")
    first = await home_of(bot, "U_ALICE")
    opened_at = time.time()
    assert "Validating files ·" in texts_of([first])
    upkeep_at = {"now": opened_at}
    upkeep = HomeUpkeep(dataclasses.replace(bot.services, clock=lambda: upkeep_at["now"]), min_interval=10)

    await bot.control.set_job(job_id, status="running", step=2)
    await bot.answer(await bot.slack.sender.slash(f"status {job_id}"))  # records the change
    upkeep_at["now"] = time.time() + 1  # within 10 s of the last publish: held back
    assert await upkeep.run_once() == 0
    assert bot.slack.workspace.home.publishes["U_ALICE"] == 1
    upkeep_at["now"] = opened_at + 11  # the interval has passed: published once, with the change
    assert await upkeep.run_once() == 1
    view = await home_of(bot, "U_ALICE", publishes=2)
    assert "Running ·" in texts_of([view]) and "Validating files" not in texts_of([view])
    assert await upkeep.run_once() == 0  # nothing changed since
    # Someone else's job changing does not touch Alice's tab.
    bobs, _ = await bot.create_job(user="U_BOB", channel="C_GENERAL")
    await bot.control.set_job(bobs, status="running", step=1)
    await bot.answer(await bot.slack.sender.slash(f"status {bobs}"))
    upkeep_at["now"] = opened_at + 30
    assert await upkeep.run_once() == 0
    assert bot.slack.workspace.home.publishes["U_ALICE"] == 2


async def test_a_person_with_many_jobs_gets_whole_jobs_and_a_count_of_the_rest(bot: BotRig) -> None:
    now = time.time()
    for n in range(40):
        job_id = f"ftjob-many{n:03d}"
        await bot.store.track_job(
            NewJob(
                job_id=job_id,
                provider="openai",
                owner_channel="C_ML",
                creator="U_CAROL",
                origin=Origin.COMMAND,
                status="running",
                model="gpt-4o-mini-2024-07-18",
                snapshot={"id": job_id, "status": "running", "model": "gpt-4o-mini-2024-07-18"},
            ),
            now=now + n,
        )
    await open_home(bot.slack, "U_CAROL")
    view = await home_of(bot, "U_CAROL")
    blocks = view["blocks"]
    assert len(blocks) <= 50
    shown = 0
    for before, block in itertools.pairwise(blocks):
        if block["type"] == "actions":
            job_id = block["block_id"].removeprefix("home:")
            assert job_id in texts_of([{"blocks": [before]}])  # each job's buttons right under its text
            shown += 1
    assert 10 <= shown < 40
    assert re.search(r"…and \d+ more jobs", texts_of([{"blocks": blocks[-1:]}]))
