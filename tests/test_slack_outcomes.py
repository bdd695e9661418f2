"""The job service's outcomes, asked for directly (real API emulator, Slack stand-in and SQLite): what each
operation did, as data, without reading it back out of Block Kit."""

from __future__ import annotations

from bot.finetune.spec import JobSpec
from bot.jobs.actions import Action
from bot.jobs.actor import Actor
from bot.jobs.grammar import ListJobs
from bot.jobs.outcomes import ActionDone, CardNotPosted, Followed, Started, Unfollowed
from bot.jobs.permissions import Policy
from bot.jobs.records import Origin
from bot.jobs.service import JobService
from bot.sandbox.emulator.state import DEMO_TRAINING_FILE
from tests.support.runtime import BASE_MODEL, BotRig

ALICE = Actor(user="U_ALICE", channel="C_ML")
SPEC = JobSpec(model=BASE_MODEL, training_file=DEMO_TRAINING_FILE, suffix="outcome")


def service(bot: BotRig) -> JobService:
    return JobService(bot.services, Policy(command=bot.services.settings.command))


async def test_create_reports_the_tracked_job_and_its_posted_card(bot: BotRig) -> None:
    jobs = service(bot)
    started = await jobs.create(SPEC, ALICE, origin=Origin.COMMAND)
    assert isinstance(started, Started)
    assert started.card_not_posted is None and started.channel is None
    assert started.tracked.owner_channel == "C_ML" and started.tracked.creator == "U_ALICE"
    watch = await bot.store.get_watch(started.tracked.job_id, "C_ML")
    assert watch is not None and watch.card_ts is not None


async def test_a_form_create_names_its_channel_and_says_why_the_card_is_missing(bot: BotRig) -> None:
    bot.slack.set_channel_state("C_PRIVATE", "not_in_channel")
    started = await service(bot).create(SPEC, Actor("U_ALICE", "C_PRIVATE"), origin=Origin.FORM)
    assert isinstance(started, Started)
    assert started.channel == "C_PRIVATE"
    assert started.card_not_posted == CardNotPosted("not_in_channel", unreachable=True)


async def test_watch_then_watch_again_then_unwatch(bot: BotRig) -> None:
    jobs = service(bot)
    job_id, _ = await bot.create_job()
    other = Actor("U_BOB", "C_OTHER")
    first = await jobs.watch(job_id, other)
    assert first == Followed(first.tracked, already=False)
    assert first.tracked.job_id == job_id and first.tracked.owner_channel == "C_ML"
    again = await jobs.watch(job_id, other)
    assert again.already and again.card_not_posted is None
    assert await jobs.unwatch(job_id, other) == Unfollowed(job_id, was_following=True)
    assert await jobs.unwatch(job_id, other) == Unfollowed(job_id, was_following=False)


async def test_pause_reports_the_apis_answer_and_the_edited_card(bot: BotRig) -> None:
    jobs = service(bot)
    job_id, _ = await bot.running_job()
    done = await jobs.act(Action.PAUSE, job_id, ALICE)
    assert isinstance(done, ActionDone)
    assert done.action is Action.PAUSE and done.card_updated
    assert done.job.id == job_id and done.job.status in ("pausing", "paused")
    assert done.tracked is not None and done.tracked.status == done.job.status
    refreshed = await jobs.refresh(job_id, ALICE, update_card=False)
    assert refreshed.action is Action.REFRESH and not refreshed.card_updated


async def test_reads_report_what_the_api_said(bot: BotRig) -> None:
    jobs = service(bot)
    job_id, _ = await bot.create_job()
    status = await jobs.status(job_id, ALICE)
    assert status.job.id == job_id and status.tracked is not None
    events = await jobs.events(job_id, 5, ALICE)
    assert events.job_id == job_id and 0 < len(events.events) <= 5
    checkpoints = await jobs.checkpoints(job_id, ALICE)
    assert checkpoints.job_id == job_id and list(checkpoints.checkpoints) == []
    page = await jobs.list_jobs(ListJobs(), ALICE)
    assert [job.job_id for job in page.tracked] == [job_id] and not page.from_api
    assert page.following is None and page.summary == "this channel, page 1: 1 job"
    account = await jobs.list_jobs(ListJobs(scope="all", mine=True), ALICE)
    assert [job.id for job in account.from_api] == [job_id] and account.creators == {job_id: "U_ALICE"}


async def test_each_operation_is_audited_under_its_action(bot: BotRig) -> None:
    jobs = service(bot)
    job_id, _ = await bot.create_job()
    before = len(await bot.store.audit_for_job(job_id))
    status_seen = (await jobs.status(job_id, ALICE)).job.status
    await jobs.unwatch(job_id, Actor("U_BOB", "C_NOWHERE"))
    entries = await bot.store.audit_for_job(job_id)  # newest first
    assert len(entries) == before + 2
    assert [entry.action for entry in entries[:2]] == ["unwatch", "status"]
    assert entries[0].result == "was not watching"
    assert entries[1].result == status_seen
