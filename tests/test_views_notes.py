"""Thread replies and broadcasts: one line that says what changed, who did it, and who should know."""

from __future__ import annotations

from typing import Any

import pytest

from bot.finetune.models import FineTuningJob
from bot.jobs.records import Progress
from bot.views.notes import should_broadcast, status_note, stuck_note
from tests.support.views import assert_valid_message, message_text

CREATED = 1_700_000_000


def job(status: str, **extra: Any) -> FineTuningJob:
    fields: dict[str, Any] = {
        "id": "ftjob-note1",
        "created_at": CREATED,
        "status": status,
        "model": "gpt-4o-mini",
    }
    fields.update(extra)
    return FineTuningJob.model_validate(fields)


@pytest.mark.parametrize("status", ["succeeded", "failed", "cancelled", "paused"])
def test_broadcast_statuses_mention_the_creator(status: str) -> None:
    assert should_broadcast(status)
    note = status_note(
        job(status), previous="running", current=status, creator="UCREATOR", actor=None, progress=Progress()
    )
    assert_valid_message(note)
    assert "<@UCREATOR>" in note.text  # the fallback text is what notifies people
    assert "ftjob-note1" in note.text


@pytest.mark.parametrize("status", ["running", "queued", "validating_files", "pausing", "whatever_next"])
def test_other_statuses_are_not_broadcast_and_mention_nobody(status: str) -> None:
    assert not should_broadcast(status)
    note = status_note(
        job(status), previous="queued", current=status, creator="UCREATOR", actor=None, progress=Progress()
    )
    assert_valid_message(note)
    assert "<@UCREATOR>" not in message_text(note)


def test_running_note_says_training_started_with_its_step() -> None:
    note = status_note(
        job("running"),
        previous="queued",
        current="running",
        creator="U1",
        actor=None,
        progress=Progress(step=0, total_steps=100),
    )
    assert note.text == "▶️ Running — started training (step 0/100)"


def test_resumed_after_pause_reads_differently() -> None:
    note = status_note(
        job("running"), previous="paused", current="running", creator="U1", actor=None, progress=Progress()
    )
    assert "resumed" in note.text and "started training" not in note.text


def test_actor_is_named() -> None:
    note = status_note(
        job("paused"), previous="running", current="paused", creator="U1", actor="U2", progress=Progress()
    )
    assert note.text.startswith("⏸️ Paused by <@U2>")
    assert "<@U1>" in note.text
    resumed = status_note(
        job("running"), previous="paused", current="running", creator="U1", actor="U2", progress=Progress()
    )
    assert resumed.text.startswith("▶️ Resumed by <@U2>")
    cancelled = status_note(
        job("cancelled"),
        previous="running",
        current="cancelled",
        creator="U1",
        actor="U1",
        progress=Progress(),
    )
    assert cancelled.text.startswith("🚫 Cancelled by <@U1>")


def test_success_carries_model_tokens_duration_and_final_losses() -> None:
    done = job(
        "succeeded",
        fine_tuned_model="ft:gpt-4o-mini:acme::xyz",
        trained_tokens=98_765,
        finished_at=CREATED + 45 * 60,
    )
    note = status_note(
        done,
        previous="running",
        current="succeeded",
        creator="U1",
        actor=None,
        progress=Progress(train_loss=0.1234, valid_loss=0.2345),
    )
    for fact in ("`ft:gpt-4o-mini:acme::xyz`", "98,765", "45 min", "0.1234", "0.2345", "<@U1>", "✅"):
        assert fact in note.text, fact


def test_failure_carries_error_code_and_message() -> None:
    failed = job("failed", error={"code": "invalid_file_format", "message": "Line 7 is not JSON <oops>"})
    note = status_note(
        failed, previous="running", current="failed", creator="U9", actor=None, progress=Progress()
    )
    assert "`invalid_file_format`" in note.text
    assert "Line 7 is not JSON &lt;oops&gt;" in note.text
    assert "<@U9>" in note.text and "❌" in note.text


def test_failure_with_a_huge_message_stays_within_limits() -> None:
    failed = job("failed", error={"code": "x", "message": "y" * 10_000})
    note = status_note(
        failed, previous="running", current="failed", creator="U9", actor=None, progress=Progress()
    )
    assert_valid_message(note)


def test_adopted_job_without_creator_still_says_which_job() -> None:
    note = status_note(
        job("succeeded"),
        previous="running",
        current="succeeded",
        creator=None,
        actor=None,
        progress=Progress(),
    )
    assert "<@" not in note.text and "ftjob-note1" in note.text


def test_unknown_status_is_named_as_it_came() -> None:
    note = status_note(
        job("rebalancing"),
        previous="running",
        current="rebalancing",
        creator="U1",
        actor=None,
        progress=Progress(),
    )
    assert "rebalancing" in note.text and "❔" in note.text


def test_stuck_note_says_how_long_it_has_been_quiet() -> None:
    note = stuck_note(job("running"), quiet_for=47 * 60)
    assert_valid_message(note)
    assert "ftjob-note1" in note.text and "47 min" in note.text and "stuck" in note.text


def test_resume_answered_with_queued_names_who_resumed_and_the_next_run_reads_as_resumed() -> None:
    queued = status_note(
        job("queued"), previous="paused", current="queued", creator="U1", actor="U2", progress=Progress()
    )
    assert "Resumed by <@U2> — waiting for capacity" in queued.text
    running = status_note(
        job("running"),
        previous="queued",
        current="running",
        creator="U1",
        actor=None,
        progress=Progress(step=40, total_steps=100),
    )
    assert "resumed" in running.text
    assert "started training" not in running.text
