"""Drills: Slack throttling and failing for a while; the fine-tuning API failing for a while.

After each, every job's thread must hold exactly one reply per recorded status change, in order, ending
with the job's final status, and nothing else (no reply about the outage itself).
"""

from __future__ import annotations

import pytest

from bot.sandbox.emulator.control import EmulatorControl
from storage.sqlite import SqliteStore
from tests.support.background import Rig, RigFactory

CHANNELS = ("C_ONE", "C_TWO", "C_THREE")
FINALS = ("succeeded", "failed", "cancelled")
OUTAGE_CYCLES = 40  # watcher cycles watched during the API outage (about a second when the CPU is free)


@pytest.fixture(autouse=True)
async def frozen_emulator(emulator_control: EmulatorControl) -> None:
    await emulator_control.set_speed(0)


async def _start_jobs(rig: Rig, count: int) -> list[tuple[str, str]]:
    jobs = []
    for n in range(count):
        channel = CHANNELS[n % len(CHANNELS)]
        jobs.append((await rig.start_job(channel, f"U_{n}", suffix=f"drill-{n}"), channel))
    return jobs


async def _finish(rig: Rig, jobs: list[tuple[str, str]], *, seen_running: bool = True) -> None:
    """Move every job to running (seen by the watcher, when asked) and then to one of the three outcomes."""
    await rig.control.advance(30)
    if seen_running:
        await rig.until_async(lambda: _all_in(rig, jobs, "running"))
    for n, (job_id, _) in enumerate(jobs):
        final = FINALS[n % len(FINALS)]
        if final == "failed":
            await rig.control.set_job(
                job_id, status="failed", error={"code": "server_error", "message": "boom"}
            )
        else:
            await rig.control.set_job(job_id, status=final)


async def _faults(rig: Rig) -> int:
    return int((await rig.control.stats())["faults_injected"])


async def _faults_since(rig: Rig, before: int) -> bool:
    return await _faults(rig) > before


async def _all_in(rig: Rig, jobs: list[tuple[str, str]], status: str) -> bool:
    tracked = [await rig.store.get_job(job_id) for job_id, _ in jobs]
    return all(job is not None and job.status == status for job in tracked)


async def _all_delivered(rig: Rig, jobs: list[tuple[str, str]]) -> bool:
    for job_id, _ in jobs:
        tracked = await rig.store.get_job(job_id)
        if tracked is None or tracked.status not in FINALS:
            return False
    stats = await rig.store.outbox_stats(now=rig.services.clock())
    return stats.pending == 0


async def _assert_told_once_in_order(rig: Rig, store: SqliteStore, jobs: list[tuple[str, str]]) -> int:
    replies = 0
    for n, (job_id, channel) in enumerate(jobs):
        tracked = await store.get_job(job_id)
        assert tracked is not None
        seqs = [int(t.partition(":")[0]) for t in rig.transitions(job_id, channel)]
        assert seqs == list(range(1, tracked.status_seq + 1)), (job_id, rig.transitions(job_id, channel))
        assert rig.statuses(job_id, channel)[-1] == FINALS[n % len(FINALS)]
        replies += len(seqs)
    # Nothing but cards and these replies reached the channels.
    for channel in CHANNELS:
        thread_replies = sum(len(rig.notes(job_id, c)) for job_id, c in jobs if c == channel)
        every_reply = [m for m in rig.slack.workspace.all_messages(channel) if m.is_reply]
        # Besides the notes, each finished job's loss curve, uploaded once.
        charts = [str(m.files[0]["name"]) for m in every_reply if m.files]
        assert len(set(charts)) == len(charts)
        assert len(every_reply) == thread_replies + len(charts)
        assert len([m for m in rig.slack.messages(channel) if not m.is_reply]) == sum(
            1 for _, c in jobs if c == channel
        )
    return replies


async def test_slack_throttling_and_failing_for_a_while_delays_but_loses_and_repeats_nothing(
    make_rig: RigFactory,
) -> None:
    # A scaled-down Slack: 4 posts a second per channel, enforced with 429 like Slack; the notifier paces
    # itself at that rate.
    rig = await make_rig(per_channel_interval=0.25)
    rig.slack.set_pacing(rate=4.0, burst=3, enforce=True)
    jobs = await _start_jobs(rig, 9)
    rig.slack.reset_records()
    rig.slack.fail_next(8, status=429, retry_after=1, method="chat.postMessage")
    rig.slack.fail_next(8, status=503, method="chat.postMessage")
    rig.slack.fail_next(4, status=500, method="chat.postMessage")

    await _finish(rig, jobs)
    await rig.until_async(lambda: _all_delivered(rig, jobs), within=30)

    failures = [c.status for c in rig.slack.calls_to("chat.postMessage") if c.status != 200]
    assert failures.count(429) >= 8 and failures.count(503) == 8 and failures.count(500) == 4
    replies = await _assert_told_once_in_order(rig, rig.store, jobs)
    assert replies == 9 * 2  # running, then the outcome: each told once
    assert not [v for v in rig.slack.pacing_violations if v.posts_in_last_second > 4]


async def test_the_api_failing_for_a_while_is_caught_up_without_noise(make_rig: RigFactory) -> None:
    rig = await make_rig()
    watcher = rig.background.watcher
    jobs = await _start_jobs(rig, 9)
    await rig.control.set_faults(status=500, rate=1.0)  # every API request fails
    before = await _faults(rig)
    posts_before = len(rig.slack.calls_to("chat.postMessage"))

    await _finish(rig, jobs, seen_running=False)  # the jobs move on while the bot cannot see them
    # The watcher met the outage: then it is watched for a number of its cycles, however long they take.
    await rig.until_async(lambda: _faults_since(rig, before), within=30)
    faults_from, cycles_from = await _faults(rig), watcher.cycles
    await rig.until(lambda: watcher.cycles >= cycles_from + OUTAGE_CYCLES, within=60)
    during, cycles = await _faults(rig) - faults_from, watcher.cycles - cycles_from
    assert len(rig.slack.calls_to("chat.postMessage")) == posts_before  # nothing said about the outage
    # It backed off instead of hammering: a poller without backoff fails at least one read every cycle
    # (the list read of the nine jobs); this one waits seconds between tries while its cycles tick on.
    assert during <= cycles // 4, (during, cycles)

    await rig.control.clear_faults()
    await rig.until_async(lambda: _all_delivered(rig, jobs), within=30)
    replies = await _assert_told_once_in_order(rig, rig.store, jobs)
    assert replies == 9  # it saw each job only after it had finished: one reply, the outcome
