"""Tracked jobs, watches, a channel's jobs and job cards, on a real database file."""

from __future__ import annotations

import pytest

from bot.jobs.records import Origin, OutboxState, TrackedJob
from storage.errors import JobNotTrackedError
from storage.sqlite import SqliteStore
from tests.support.storage import new_job, seen


async def test_tracking_a_job_makes_its_channel_the_owner_watch(store: SqliteStore) -> None:
    snapshot: dict[str, object] = {"id": "ftjob-1", "status": "queued", "hyperparameters": {"n_epochs": 3}}
    job, created = await store.track_job(new_job(snapshot=snapshot), now=100.0)

    assert created
    assert job.job_id == "ftjob-1"
    assert (job.owner_channel, job.creator, job.origin) == ("C-OWNER", "U-CREATOR", Origin.COMMAND)
    assert (job.status, job.status_seq, job.version) == ("queued", 0, 1)
    assert job.snapshot == snapshot
    assert job.next_poll_at == 100.0  # due for its first poll right away
    assert not job.stuck_noted
    assert await store.get_job("ftjob-1") == job

    [owner] = await store.watches("ftjob-1")
    assert (owner.channel, owner.is_owner, owner.added_by, owner.card_ts) == (
        "C-OWNER",
        True,
        "U-CREATOR",
        None,
    )


async def test_tracking_again_changes_nothing(store: SqliteStore) -> None:
    first, _ = await store.track_job(new_job(), now=1.0)
    again, created = await store.track_job(
        new_job(channel="C-OTHER", creator="U-OTHER", status="running", origin=Origin.WATCH), now=2.0
    )
    assert not created
    assert again == first
    assert [w.channel for w in await store.watches("ftjob-1")] == ["C-OWNER"]


async def test_an_unknown_job_is_none(store: SqliteStore) -> None:
    assert await store.get_job("ftjob-nope") is None
    assert await store.watches("ftjob-nope") == []
    assert await store.get_watch("ftjob-nope", "C-OWNER") is None


async def test_watching_and_unwatching(store: SqliteStore) -> None:
    await store.track_job(new_job(), now=1.0)
    assert await store.add_watch("ftjob-1", "C-B", user="U-B", now=3.0)
    assert await store.add_watch("ftjob-1", "C-A", user="U-A", now=4.0)
    assert not await store.add_watch("ftjob-1", "C-B", user="U-X", now=5.0)

    assert [(w.channel, w.is_owner) for w in await store.watches("ftjob-1")] == [
        ("C-OWNER", True),
        ("C-B", False),
        ("C-A", False),
    ]
    watch = await store.get_watch("ftjob-1", "C-B")
    assert watch is not None
    assert (watch.added_by, watch.created_at) == ("U-B", 3.0)  # the repeat did not overwrite it

    assert await store.remove_watch("ftjob-1", "C-B")
    assert not await store.remove_watch("ftjob-1", "C-B")
    assert await store.get_watch("ftjob-1", "C-B") is None
    assert [w.channel for w in await store.watches("ftjob-1")] == ["C-OWNER", "C-A"]


async def test_watching_an_untracked_job_is_an_error(store: SqliteStore) -> None:
    with pytest.raises(JobNotTrackedError, match="ftjob-ghost"):
        await store.add_watch("ftjob-ghost", "C-A", user="U-A", now=1.0)


async def test_unwatching_drops_that_channels_pending_notes_only(store: SqliteStore) -> None:
    await store.track_job(new_job(), now=1.0)
    await store.add_watch("ftjob-1", "C-B", user="U-B", now=1.0)
    await store.record_observation("ftjob-1", seen("running"), now=2.0, next_poll_at=30.0)
    delivered = await store.claim_due_outbox(now=3.0, limit=10, lease=30.0)
    for item in delivered:
        await store.mark_sent(item.id, ts=f"ts-{item.id}", now=4.0)
    await store.record_observation("ftjob-1", seen("paused"), now=5.0, next_poll_at=30.0)

    assert await store.remove_watch("ftjob-1", "C-B")
    assert (await store.outbox_stats(now=6.0)).pending == 1  # only the owner's "paused" note is left
    [left] = await store.claim_due_outbox(now=6.0, limit=10, lease=30.0)
    assert (left.channel, left.transition) == ("C-OWNER", "2:paused")

    # A channel that stops watching gets nothing more.
    await store.record_observation("ftjob-1", seen("running"), now=7.0, next_poll_at=30.0)
    assert {item.channel for item in await store.claim_due_outbox(now=100.0, limit=10, lease=1.0)} == {
        "C-OWNER"
    }


async def test_watching_clears_an_unreachable_mark(store: SqliteStore) -> None:
    await store.track_job(new_job(), now=1.0)
    await store.mark_channel_unreachable("C-B", reason="channel_not_found", now=1.0)
    assert await store.channel_unreachable("C-B") == "channel_not_found"
    await store.add_watch("ftjob-1", "C-B", user="U-B", now=2.0)
    assert await store.channel_unreachable("C-B") is None

    await store.mark_channel_unreachable("C-NEW", reason="not_in_channel", now=1.0)
    await store.track_job(new_job("ftjob-2", channel="C-NEW"), now=3.0)
    assert await store.channel_unreachable("C-NEW") is None


async def test_a_channels_jobs_newest_first_with_filters_and_pages(store: SqliteStore) -> None:
    await store.track_job(new_job("ftjob-a", creator="U-1"), now=1.0)
    await store.track_job(new_job("ftjob-b", creator="U-2"), now=2.0)
    await store.track_job(new_job("ftjob-c", creator="U-1"), now=3.0)
    await store.track_job(new_job("ftjob-elsewhere", channel="C-ELSE", creator="U-1"), now=4.0)
    await store.add_watch("ftjob-elsewhere", "C-OWNER", user="U-3", now=5.0)
    await store.record_observation("ftjob-b", seen("succeeded"), now=6.0, next_poll_at=7.0)

    def ids(jobs: list[TrackedJob]) -> list[str]:
        return [job.job_id for job in jobs]

    assert ids(await store.channel_jobs("C-OWNER")) == ["ftjob-elsewhere", "ftjob-c", "ftjob-b", "ftjob-a"]
    assert ids(await store.channel_jobs("C-OWNER", active_only=True)) == [
        "ftjob-elsewhere",
        "ftjob-c",
        "ftjob-a",
    ]
    assert ids(await store.channel_jobs("C-OWNER", creator="U-1")) == [
        "ftjob-elsewhere",
        "ftjob-c",
        "ftjob-a",
    ]
    assert ids(await store.channel_jobs("C-OWNER", creator="U-2", active_only=True)) == []
    assert ids(await store.channel_jobs("C-OWNER", limit=2)) == ["ftjob-elsewhere", "ftjob-c"]
    assert ids(await store.channel_jobs("C-OWNER", limit=2, offset=2)) == ["ftjob-b", "ftjob-a"]
    assert ids(await store.channel_jobs("C-ELSE")) == ["ftjob-elsewhere"]
    assert await store.channel_jobs("C-NOBODY") == []


async def test_cards_are_refreshed_after_a_change_and_not_too_often(store: SqliteStore) -> None:
    job, _ = await store.track_job(new_job(), now=0.0)
    await store.add_watch("ftjob-1", "C-B", user="U-B", now=0.0)
    assert await store.cards_to_refresh(now=100.0, min_interval=5.0, limit=10) == []  # no card posted yet

    await store.set_card("ftjob-1", "C-OWNER", ts="111.1", version=job.version, now=10.0)
    await store.set_card("ftjob-1", "C-B", ts="222.2", version=job.version, now=11.0)
    watch = await store.get_watch("ftjob-1", "C-OWNER")
    assert watch is not None
    assert (watch.card_ts, watch.card_version, watch.card_updated_at) == ("111.1", job.version, 10.0)
    assert await store.cards_to_refresh(now=100.0, min_interval=5.0, limit=10) == []  # up to date

    await store.record_observation(
        "ftjob-1", seen("queued", step=5, total_steps=100), now=12.0, next_poll_at=40.0
    )
    assert await store.cards_to_refresh(now=13.0, min_interval=5.0, limit=10) == []  # edited moments ago
    due = await store.cards_to_refresh(now=15.5, min_interval=5.0, limit=10)
    assert [(c.watch.channel, c.job.progress.step) for c in due] == [("C-OWNER", 5)]
    due = await store.cards_to_refresh(now=20.0, min_interval=5.0, limit=10)
    assert [c.watch.channel for c in due] == ["C-OWNER", "C-B"]  # least recently edited first
    assert [c.watch.channel for c in await store.cards_to_refresh(now=20.0, min_interval=5.0, limit=1)] == [
        "C-OWNER"
    ]

    changed = await store.get_job("ftjob-1")
    assert changed is not None
    await store.set_card("ftjob-1", "C-OWNER", ts="111.1", version=changed.version, now=21.0)
    await store.mark_channel_unreachable("C-B", reason="is_archived", now=21.0)
    assert await store.cards_to_refresh(now=100.0, min_interval=5.0, limit=10) == []

    # A card redrawn from an older version than the job's stays on the list.
    await store.set_card("ftjob-1", "C-OWNER", ts="111.1", version=changed.version - 1, now=22.0)
    assert [c.watch.channel for c in await store.cards_to_refresh(now=100.0, min_interval=5.0, limit=10)] == [
        "C-OWNER"
    ]


async def test_setting_a_card_for_a_channel_that_does_not_watch_does_nothing(store: SqliteStore) -> None:
    await store.track_job(new_job(), now=0.0)
    await store.set_card("ftjob-1", "C-STRANGER", ts="1.0", version=1, now=1.0)
    assert await store.get_watch("ftjob-1", "C-STRANGER") is None


async def test_a_job_with_nothing_new_does_not_need_its_card_redrawn(store: SqliteStore) -> None:
    job, _ = await store.track_job(new_job(), now=0.0)
    await store.set_card("ftjob-1", "C-OWNER", ts="1.0", version=job.version, now=1.0)
    await store.record_observation("ftjob-1", seen("running", step=1), now=2.0, next_poll_at=3.0)
    changed = await store.get_job("ftjob-1")
    assert changed is not None
    await store.set_card("ftjob-1", "C-OWNER", ts="1.0", version=changed.version, now=3.0)
    await store.record_observation("ftjob-1", seen("running", step=1), now=4.0, next_poll_at=5.0)
    same = await store.get_job("ftjob-1")
    assert same is not None
    assert same.version == changed.version
    assert await store.cards_to_refresh(now=100.0, min_interval=0.0, limit=10) == []
    assert (await store.outbox_stats(now=100.0)).pending == 1
    assert [i.state for i in await store.claim_due_outbox(now=100.0, limit=10, lease=1)] == [
        OutboxState.PENDING
    ]
