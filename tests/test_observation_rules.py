"""The rules of what recording a read of a job changes and which notes it gives, on plain records."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.finetune.models import TERMINAL_STATUSES
from bot.jobs.observation_rules import (
    Note,
    StoredJob,
    apply_observation,
    final_read_due_when_tracked,
    is_older_read,
    merge_progress,
    stuck_note,
)
from bot.jobs.records import Observation, Origin, Progress, TrackedJob


def _stored(
    status: str = "running",
    *,
    seq: int = 1,
    read_at: float | None = 10.0,
    final_read_due: bool = False,
    stuck_noted: bool = False,
    progress: Progress | None = None,
    last_event_id: str | None = None,
    last_event_at: float | None = None,
    snapshot: dict[str, object] | None = None,
) -> StoredJob:
    job = TrackedJob(
        job_id="ftjob-1",
        provider="openai",
        owner_channel="C-OWNER",
        creator="U-CREATOR",
        origin=Origin.COMMAND,
        status=status,
        status_seq=seq,
        model="gpt-4o-mini-2024-07-18",
        suffix=None,
        last_event_id=last_event_id,
        last_event_at=last_event_at,
        progress=progress or Progress(),
        version=3,
        next_poll_at=0.0,
        stuck_noted=stuck_noted,
        snapshot=snapshot if snapshot is not None else {"status": status},
        created_at=0.0,
        updated_at=0.0,
    )
    return StoredJob(job=job, read_at=read_at, final_read_due=final_read_due)


def _read(
    status: str,
    *,
    read_at: float = 20.0,
    final_read: bool = False,
    progress: Progress | None = None,
    details: dict[str, object] | None = None,
    last_event_id: str | None = None,
    last_event_at: float | None = None,
    snapshot: dict[str, object] | None = None,
) -> Observation:
    return Observation(
        status=status,
        progress=progress or Progress(),
        snapshot=snapshot if snapshot is not None else {"status": status},
        last_event_id=last_event_id,
        last_event_at=last_event_at,
        details=details or {},
        read_at=read_at,
        final_read=final_read,
    )


# --- which read is newer -------------------------------------------------------------------------
def test_a_read_sent_before_the_applied_one_is_older() -> None:
    assert is_older_read(5.0, 10.0, now=11.0)
    assert not is_older_read(10.0, 10.0, now=11.0)  # a tie is not older: applied in recording order
    assert not is_older_read(15.0, 10.0, now=16.0)


def test_any_read_is_new_when_none_was_applied() -> None:
    assert not is_older_read(0.0, None, now=1.0)


def test_an_applied_stamp_from_the_future_is_not_trusted() -> None:
    # The clock went back: the stored stamp (100) is later than now (50), so the read (40) is taken.
    assert not is_older_read(40.0, 100.0, now=50.0)


# --- recording a read ----------------------------------------------------------------------------
def test_an_older_read_of_another_status_changes_nothing() -> None:
    assert (
        apply_observation(_stored("paused"), _read("running", read_at=5.0), now=30.0, next_poll_at=60.0)
        is None
    )


def test_an_older_read_of_the_recorded_finished_status_is_applied_without_moving_the_stamp_back() -> None:
    stored = _stored("succeeded", final_read_due=True, progress=Progress(step=90))
    final = _read("succeeded", read_at=5.0, final_read=True, progress=Progress(step=100, train_loss=0.25))
    update = apply_observation(stored, final, now=30.0, next_poll_at=60.0)
    assert update is not None
    assert update.read_at == 10.0
    assert update.progress == Progress(step=100, train_loss=0.25)
    assert not update.final_read_due
    assert update.note is None and update.status_seq == 1
    assert update.shown_changed


def test_an_older_read_of_another_finished_status_is_dropped() -> None:
    stored = _stored("cancelled")
    assert apply_observation(stored, _read("succeeded", read_at=5.0), now=30.0, next_poll_at=60.0) is None


def test_a_status_change_bumps_the_sequence_and_gives_one_note_whose_keys_details_cannot_override() -> None:
    read = _read("paused", details={"actor": "U-A", "current": "running", "seq": 99})
    update = apply_observation(_stored("running", seq=2), read, now=30.0, next_poll_at=60.0)
    assert update is not None
    assert (update.status, update.status_seq, update.read_at, update.next_poll_at) == (
        "paused",
        3,
        20.0,
        60.0,
    )
    assert update.note == Note(
        transition="3:paused",
        kind="status",
        payload={"actor": "U-A", "previous": "running", "current": "paused", "seq": 3},
    )
    assert update.shown_changed


def test_the_same_status_gives_no_note_and_only_a_shown_change_moves_the_version() -> None:
    same = apply_observation(_stored("running"), _read("running"), now=30.0, next_poll_at=60.0)
    assert same is not None and same.note is None and same.status_seq == 1
    assert not same.shown_changed
    new_snapshot = _read("running", snapshot={"status": "running", "trained_tokens": 5})
    redrawn = apply_observation(_stored("running"), new_snapshot, now=30.0, next_poll_at=60.0)
    assert redrawn is not None and redrawn.shown_changed and redrawn.note is None


def test_progress_fields_not_seen_keep_their_stored_value() -> None:
    stored = Progress(step=5, total_steps=100, train_loss=1.5, valid_loss=1.7, estimated_finish=900)
    assert merge_progress(stored, Progress(step=6, valid_loss=1.6)) == Progress(
        step=6, total_steps=100, train_loss=1.5, valid_loss=1.6, estimated_finish=900
    )
    update = apply_observation(
        _stored(progress=stored), _read("running", progress=Progress(step=6)), now=30.0, next_poll_at=60.0
    )
    assert update is not None and update.progress == replace(stored, step=6) and update.shown_changed


def test_the_event_moves_only_when_a_new_event_id_is_seen() -> None:
    stored = _stored(last_event_id="ev-1", last_event_at=12.0)
    same = apply_observation(
        stored, _read("running", last_event_id="ev-1", last_event_at=25.0), now=30.0, next_poll_at=60.0
    )
    assert same is not None and (same.last_event_id, same.last_event_at) == ("ev-1", 12.0)
    unread = apply_observation(stored, _read("running"), now=30.0, next_poll_at=60.0)
    assert unread is not None and (unread.last_event_id, unread.last_event_at) == ("ev-1", 12.0)
    new = apply_observation(
        stored, _read("running", last_event_id="ev-2", last_event_at=25.0), now=30.0, next_poll_at=60.0
    )
    assert new is not None and (new.last_event_id, new.last_event_at) == ("ev-2", 25.0)
    untimed = apply_observation(stored, _read("running", last_event_id="ev-2"), now=30.0, next_poll_at=60.0)
    assert untimed is not None and untimed.last_event_at == 30.0  # first seen now


# --- the final read --------------------------------------------------------------------------------
@pytest.mark.parametrize("status", sorted(TERMINAL_STATUSES))
def test_a_job_seen_finished_by_another_read_stays_due_for_the_final_read_at_once(status: str) -> None:
    update = apply_observation(_stored("running"), _read(status), now=30.0, next_poll_at=600.0)
    assert update is not None and update.final_read_due
    assert update.next_poll_at == 30.0  # read at the watcher's next cycle, not at the policy's time


def test_the_final_read_ends_the_polling() -> None:
    update = apply_observation(
        _stored("running"), _read("failed", final_read=True), now=30.0, next_poll_at=600.0
    )
    assert update is not None and not update.final_read_due and update.next_poll_at == 600.0


def test_a_due_final_read_stays_due_until_the_final_read_itself() -> None:
    stored = _stored("succeeded", final_read_due=True)
    refreshed = apply_observation(stored, _read("succeeded"), now=30.0, next_poll_at=600.0)
    assert refreshed is not None and refreshed.final_read_due
    # Recorded finished with no final read due (given up, or read already): a Refresh leaves it so.
    done = apply_observation(
        replace(stored, final_read_due=False), _read("succeeded"), now=30.0, next_poll_at=600.0
    )
    assert done is not None and not done.final_read_due


def test_an_active_status_never_awaits_a_final_read() -> None:
    update = apply_observation(
        _stored("succeeded", final_read_due=True), _read("running"), now=30.0, next_poll_at=60.0
    )
    assert update is not None and not update.final_read_due and update.next_poll_at == 60.0


def test_a_job_tracked_finished_is_due_once_for_its_last_figures() -> None:
    assert all(final_read_due_when_tracked(status) for status in TERMINAL_STATUSES)
    assert not final_read_due_when_tracked("running")
    assert not final_read_due_when_tracked("paused")


# --- looks stuck -----------------------------------------------------------------------------------
def test_a_stuck_note_is_given_once_per_status_sequence() -> None:
    note = stuck_note(_stored("running", seq=4, last_event_at=12.0), now=30.0, read_at=20.0)
    assert note == Note(
        transition="stuck:4", kind="stuck", payload={"status": "running", "seq": 4, "last_event_at": 12.0}
    )
    assert stuck_note(_stored("running", seq=4, stuck_noted=True), now=30.0, read_at=20.0) is None


def test_no_stuck_note_on_a_read_older_than_the_one_recorded() -> None:
    assert stuck_note(_stored("running", read_at=25.0), now=30.0, read_at=20.0) is None
    assert stuck_note(_stored("running", read_at=25.0), now=30.0) is not None  # no read given: not judged
