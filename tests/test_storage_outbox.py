"""The notification outbox: claiming with leases, per-thread order, delivery outcomes, unreachable channels."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from bot.jobs.records import OutboxState
from storage.sqlite import SqliteStore
from tests.support.storage import new_job, seen


async def _job_with_notes(store: SqliteStore, job_id: str, statuses: list[str], *, now: float) -> None:
    await store.track_job(new_job(job_id), now=now)
    for status in statuses:
        await store.record_observation(job_id, seen(status), now=now, next_poll_at=now + 30)


async def test_due_rows_are_claimed_oldest_first_and_leased(store: SqliteStore) -> None:
    await _job_with_notes(store, "ftjob-a", ["running"], now=1.0)
    await _job_with_notes(store, "ftjob-b", ["running"], now=2.0)
    await _job_with_notes(store, "ftjob-c", ["running"], now=3.0)

    assert await store.claim_due_outbox(now=0.5, limit=10, lease=30.0) == []  # nothing due yet
    first = await store.claim_due_outbox(now=10.0, limit=2, lease=30.0)
    assert [(i.job_id, i.attempts, i.next_attempt_at) for i in first] == [
        ("ftjob-a", 1, 40.0),
        ("ftjob-b", 1, 40.0),
    ]
    rest = await store.claim_due_outbox(now=11.0, limit=10, lease=30.0)
    assert [i.job_id for i in rest] == ["ftjob-c"]
    assert await store.claim_due_outbox(now=39.0, limit=10, lease=30.0) == []  # all leased

    # A lease that ran out (the notifier died mid-delivery) makes the row due again.
    again = await store.claim_due_outbox(now=40.0, limit=10, lease=30.0)
    assert [(i.job_id, i.attempts) for i in again] == [("ftjob-a", 2), ("ftjob-b", 2)]


async def test_a_jobs_notes_in_a_channel_go_out_in_order(store: SqliteStore) -> None:
    await _job_with_notes(store, "ftjob-1", ["running", "paused", "running"], now=1.0)
    await store.add_watch("ftjob-1", "C-B", user="U-B", now=2.0)
    await store.record_observation("ftjob-1", seen("succeeded"), now=3.0, next_poll_at=4.0)

    batch = await store.claim_due_outbox(now=5.0, limit=10, lease=30.0)
    assert [(i.channel, i.transition) for i in batch] == [("C-OWNER", "1:running"), ("C-B", "4:succeeded")]

    # The owner's first note fails for now: its later notes wait behind it, the other channel does not.
    await store.mark_retry(batch[0].id, error="ratelimited", next_attempt_at=60.0)
    await store.mark_sent(batch[1].id, ts="200.1", now=6.0)
    # Only the other channel's next row (the end's loss curve, queued after its note) comes out.
    [chart] = await store.claim_due_outbox(now=7.0, limit=10, lease=30.0)
    assert (chart.channel, chart.transition, chart.kind) == ("C-B", "chart:4", "chart")
    await store.mark_sent(chart.id, ts="F123", now=7.0)
    assert await store.claim_due_outbox(now=7.0, limit=10, lease=30.0) == []

    retried = await store.claim_due_outbox(now=60.0, limit=10, lease=30.0)
    assert [(i.transition, i.attempts, i.last_error) for i in retried] == [("1:running", 2, "ratelimited")]
    await store.mark_sent(retried[0].id, ts="100.1", now=61.0)

    order = []
    while batch := await store.claim_due_outbox(now=62.0, limit=10, lease=30.0):
        assert len(batch) == 1
        order.append(batch[0].transition)
        await store.mark_sent(batch[0].id, ts=f"ts-{batch[0].id}", now=62.0)
    assert order == ["2:paused", "3:running", "4:succeeded", "chart:4"]


async def test_a_given_up_row_lets_the_next_one_through(store: SqliteStore) -> None:
    await _job_with_notes(store, "ftjob-1", ["running", "succeeded"], now=1.0)
    [first] = await store.claim_due_outbox(now=2.0, limit=10, lease=30.0)
    await store.mark_given_up(first.id, error="msg_too_long", now=3.0)
    [second] = await store.claim_due_outbox(now=3.0, limit=10, lease=30.0)
    assert second.transition == "2:succeeded"
    stats = await store.outbox_stats(now=3.0)
    assert (stats.pending, stats.given_up) == (2, 1)  # the success note and the end's loss curve


async def test_sent_rows_keep_their_first_ts_and_are_not_claimed_again(
    store: SqliteStore, store_path: Path
) -> None:
    await _job_with_notes(store, "ftjob-1", ["running"], now=1.0)
    [item] = await store.claim_due_outbox(now=2.0, limit=10, lease=30.0)
    await store.mark_sent(item.id, ts="1700000000.000100", now=3.0)
    await store.mark_sent(item.id, ts="1700000000.999999", now=4.0)
    await store.mark_retry(item.id, error="late", next_attempt_at=5.0)
    await store.mark_given_up(item.id, error="late", now=5.0)
    assert await store.claim_due_outbox(now=1000.0, limit=10, lease=30.0) == []

    with sqlite3.connect(store_path) as db:
        row = db.execute(
            "SELECT state, slack_ts, sent_at, last_error FROM outbox WHERE id = ?", (item.id,)
        ).fetchone()
    assert row == (OutboxState.SENT.value, "1700000000.000100", 3.0, None)


async def test_an_unreachable_channel_holds_its_notes_until_its_next_try_or_until_cleared(
    store: SqliteStore,
) -> None:
    await _job_with_notes(store, "ftjob-1", [], now=1.0)
    await store.add_watch("ftjob-1", "C-B", user="U-B", now=1.0)
    await store.record_observation("ftjob-1", seen("running"), now=2.0, next_poll_at=3.0)
    await store.record_observation("ftjob-1", seen("paused"), now=2.0, next_poll_at=3.0)

    assert await store.mark_channel_unreachable("C-B", reason="not_in_channel", now=4.0, retry_at=50.0) == 2
    assert await store.mark_channel_unreachable("C-B", reason="is_archived", now=5.0, retry_at=60.0) == 2
    assert await store.channel_unreachable("C-B") == "is_archived"
    mark = await store.unreachable_channel("C-B")
    assert mark is not None and (mark.failures, mark.retry_at, mark.told) == (2, 60.0, False)
    assert await store.channel_unreachable("C-OWNER") is None
    assert await store.claim_unreachable_notice("C-B")
    assert not await store.claim_unreachable_notice("C-B")  # told once per mark

    change = await store.record_observation("ftjob-1", seen("succeeded"), now=6.0, next_poll_at=7.0)
    assert change is not None
    assert len(change.outbox_ids) == 2  # queued for both; the unreachable channel's waits for its try
    claimed = await store.claim_due_outbox(now=10.0, limit=10, lease=30.0)
    assert {i.channel for i in claimed} == {"C-OWNER"}
    stats = await store.outbox_stats(now=10.0)
    # Three notes for each channel, and the end's loss curve for each.
    assert (stats.pending, stats.given_up) == (8, 0)

    assert await store.clear_channel_unreachable("C-B", now=11.0)
    assert not await store.clear_channel_unreachable("C-B", now=11.0)
    released = await store.claim_due_outbox(now=11.0, limit=10, lease=30.0)
    assert [(i.channel, i.transition) for i in released] == [("C-B", "1:running")]


async def test_outbox_stats_report_depth_age_and_failures(store: SqliteStore) -> None:
    empty = await store.outbox_stats(now=5.0)
    assert (empty.pending, empty.oldest_pending_age, empty.given_up) == (0, None, 0)
    await _job_with_notes(store, "ftjob-a", ["running"], now=10.0)
    await _job_with_notes(store, "ftjob-b", ["running"], now=25.0)
    stats = await store.outbox_stats(now=40.0)
    assert (stats.pending, stats.oldest_pending_age, stats.given_up) == (2, 30.0, 0)


async def test_two_claimers_never_lease_the_same_row(store: SqliteStore, store_path: Path) -> None:
    for n in range(30):
        await _job_with_notes(store, f"ftjob-{n}", ["running"], now=1.0)
    other = await SqliteStore.open(store_path)  # another process's connection to the same file
    try:
        claims = await asyncio.gather(
            *(
                (store if turn % 2 else other).claim_due_outbox(now=2.0, limit=4, lease=60.0)
                for turn in range(10)
            )
        )
    finally:
        await other.close()
    ids = [item.id for batch in claims for item in batch]
    assert len(ids) == 30
    assert len(set(ids)) == 30


async def test_the_database_refuses_a_duplicate_transition(store: SqliteStore, store_path: Path) -> None:
    await _job_with_notes(store, "ftjob-1", ["running"], now=1.0)
    with sqlite3.connect(store_path) as db, pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
        db.execute(
            "INSERT INTO outbox (job_id, channel, transition, kind, next_attempt_at, created_at) "
            "VALUES ('ftjob-1', 'C-OWNER', '1:running', 'status', 0, 0)"
        )


async def test_a_success_note_waits_for_the_final_read_for_a_while_at_most(store: SqliteStore) -> None:
    # A Refresh recorded "succeeded" at 10.0 (not a final read): the note waits for the final losses.
    await _job_with_notes(store, "ftjob-ok", ["running"], now=1.0)
    await _job_with_notes(store, "ftjob-slow", ["running"], now=1.0)
    await _job_with_notes(store, "ftjob-stop", ["running"], now=1.0)
    for note in await store.claim_due_outbox(now=2.0, limit=10, lease=30.0):
        await store.mark_sent(note.id, ts="1.1", now=2.0)
    for job_id in ("ftjob-ok", "ftjob-slow"):
        await store.record_observation(job_id, seen("succeeded"), now=10.0, next_poll_at=40.0)
    await store.record_observation("ftjob-stop", seen("cancelled"), now=10.0, next_poll_at=40.0)

    # A cancel note has no figures to wait for; a claim that asks for no wait gets everything.
    first = await store.claim_due_outbox(now=11.0, limit=10, lease=30.0, final_read_wait=30.0)
    assert [(i.job_id, i.transition) for i in first] == [("ftjob-stop", "2:cancelled")]
    assert await store.claim_due_outbox(now=12.0, limit=10, lease=0.0, final_read_wait=30.0) == []

    # The final read of one job is recorded: its note goes at once, with the figures stored.
    final = seen("succeeded", final_read=True, train_loss=0.25)
    await store.record_observation("ftjob-ok", final, now=13.0, next_poll_at=43.0)
    released = await store.claim_due_outbox(now=13.0, limit=10, lease=0.0, final_read_wait=30.0)
    assert [(i.job_id, i.transition) for i in released] == [("ftjob-ok", "2:succeeded")]
    await store.mark_sent(released[0].id, ts="2.2", now=13.0)

    # The released note's loss curve follows it (the cancelled job's waits behind its claimed note).
    [chart] = await store.claim_due_outbox(now=39.9, limit=10, lease=0.0, final_read_wait=30.0)
    assert (chart.job_id, chart.transition) == ("ftjob-ok", "chart:2")
    await store.mark_sent(chart.id, ts="F1", now=39.9)
    # The other one's final read never comes (an API outage): its note goes without the figures, 30 s on.
    assert await store.claim_due_outbox(now=39.9, limit=10, lease=0.0, final_read_wait=30.0) == []
    late = await store.claim_due_outbox(now=40.0, limit=10, lease=0.0, final_read_wait=30.0)
    assert [(i.job_id, i.transition) for i in late] == [("ftjob-slow", "2:succeeded")]


async def test_a_success_note_is_not_held_without_a_wait_or_once_the_final_read_was_given_up(
    store: SqliteStore,
) -> None:
    await _job_with_notes(store, "ftjob-1", ["running"], now=1.0)
    await _job_with_notes(store, "ftjob-2", ["running"], now=1.0)
    for note in await store.claim_due_outbox(now=2.0, limit=10, lease=30.0):
        await store.mark_sent(note.id, ts="1.1", now=2.0)
    for job_id in ("ftjob-1", "ftjob-2"):
        await store.record_observation(job_id, seen("succeeded"), now=10.0, next_poll_at=40.0)

    # The API no longer has ftjob-2: its final read is given up, and its note goes now.
    assert await store.give_up_final_read("ftjob-2")
    given_up = await store.claim_due_outbox(now=11.0, limit=10, lease=30.0, final_read_wait=30.0)
    assert [i.job_id for i in given_up] == ["ftjob-2"]
    # A claim that asks for no wait (the default) holds nothing back.
    plain = await store.claim_due_outbox(now=11.0, limit=10, lease=30.0)
    assert [i.job_id for i in plain] == ["ftjob-1"]


async def test_the_takeover_returns_rows_in_flight_not_rows_waiting_out_a_retry_or_done(
    store: SqliteStore,
) -> None:
    for job_id in ("ftjob-flying", "ftjob-again", "ftjob-waiting", "ftjob-sent", "ftjob-dropped"):
        await _job_with_notes(store, job_id, ["running"], now=1.0)
    await _job_with_notes(store, "ftjob-new", ["running"], now=4.5)
    claimed = {item.job_id: item for item in await store.claim_due_outbox(now=2.0, limit=10, lease=30.0)}
    assert "ftjob-new" not in claimed
    await store.mark_retry(claimed["ftjob-waiting"].id, error="ratelimited", next_attempt_at=50.0)
    await store.mark_retry(claimed["ftjob-again"].id, error="timeout", next_attempt_at=4.0)
    await store.mark_sent(claimed["ftjob-sent"].id, ts="100.1", now=3.0)
    await store.mark_given_up(claimed["ftjob-dropped"].id, error="msg_too_long", now=3.0)
    # The row that failed once is in flight again when the process stops.
    [again] = await store.claim_due_outbox(now=4.0, limit=10, lease=30.0)
    assert again.job_id == "ftjob-again"

    taken = await store.claim_in_flight(now=5.0, limit=10, lease=60.0)
    assert [(i.job_id, i.attempts, i.next_attempt_at) for i in taken] == [
        ("ftjob-flying", 2, 65.0),
        ("ftjob-again", 3, 65.0),
    ]
    # Leased anew: the ordinary claim leaves them alone; the waiting row keeps its retry time.
    assert [i.job_id for i in await store.claim_due_outbox(now=34.0, limit=10, lease=30.0)] == ["ftjob-new"]
    assert [i.job_id for i in await store.claim_due_outbox(now=50.0, limit=10, lease=30.0)] == [
        "ftjob-waiting"
    ]


async def test_the_takeover_keeps_a_jobs_notes_in_order(store: SqliteStore, store_path: Path) -> None:
    await _job_with_notes(store, "ftjob-1", ["running", "paused"], now=1.0)
    [first] = await store.claim_due_outbox(now=2.0, limit=10, lease=30.0)
    await store.mark_retry(first.id, error="ratelimited", next_attempt_at=50.0)
    # A later note marked in flight behind a waiting one (the notifier never does this; storage must still
    # not hand it out first).
    with sqlite3.connect(store_path) as db:
        db.execute("UPDATE outbox SET claimed_at = 3.0 WHERE transition = '2:paused'")
    assert await store.claim_in_flight(now=5.0, limit=10, lease=30.0) == []

    # With the earlier note in flight too, both are taken over, in order; a limit of one takes the first.
    with sqlite3.connect(store_path) as db:
        db.execute("UPDATE outbox SET claimed_at = 3.0 WHERE transition = '1:running'")
    assert [i.transition for i in await store.claim_in_flight(now=5.0, limit=1, lease=30.0)] == ["1:running"]
    taken = await store.claim_in_flight(now=6.0, limit=10, lease=30.0)
    assert [i.transition for i in taken] == ["1:running", "2:paused"]
