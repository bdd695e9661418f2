"""The job card: the right buttons for every state, and the facts a person needs in its text."""

from __future__ import annotations

from typing import Any

import pytest

from bot.finetune.models import FineTuningJob
from bot.jobs.records import Origin, Progress, TrackedJob
from bot.views.actions import ACTION_CANCEL, ACTION_PAUSE, ACTION_REFRESH, ACTION_RESUME
from bot.views.card import card_for, render_card
from tests.support.views import assert_valid_message, buttons, message_text

NOW = 1_700_000_000.0
CREATED = 1_699_996_400  # an hour before NOW


def job(status: str, **extra: Any) -> FineTuningJob:
    fields: dict[str, Any] = {
        "id": "ftjob-abc123",
        "created_at": CREATED,
        "status": status,
        "model": "gpt-4o-mini-2024-07-18",
        "user_provided_suffix": "support-bot",
        "training_file": "file-train1",
    }
    fields.update(extra)
    return FineTuningJob.model_validate(fields)


def labels(status: str, **extra: Any) -> list[str]:
    message = render_card(job(status, **extra), Progress(), creator="U123", now=NOW)
    assert_valid_message(message)
    return [button["text"]["text"] for button in buttons(message)]


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("validating_files", ["Cancel", "Refresh"]),
        ("queued", ["Cancel", "Refresh"]),
        ("pending", ["Cancel", "Refresh"]),
        ("running", ["Pause", "Cancel", "Refresh"]),
        ("paused", ["Resume", "Cancel", "Refresh"]),
        ("pausing", ["Cancel", "Refresh"]),
        ("some_new_state", ["Cancel", "Refresh"]),
        ("succeeded", ["Refresh"]),
        ("failed", ["Refresh"]),
        ("cancelled", ["Refresh"]),
    ],
)
def test_buttons_follow_the_state(status: str, expected: list[str]) -> None:
    assert labels(status) == expected


def test_buttons_carry_the_job_id_and_their_action_ids() -> None:
    message = render_card(job("running"), Progress(), creator="U123", now=NOW)
    by_label = {button["text"]["text"]: button for button in buttons(message)}
    assert by_label["Pause"]["action_id"] == ACTION_PAUSE == "job_pause"
    assert by_label["Cancel"]["action_id"] == ACTION_CANCEL == "job_cancel"
    assert by_label["Refresh"]["action_id"] == ACTION_REFRESH == "job_refresh"
    assert all(button["value"] == "ftjob-abc123" for button in by_label.values())
    paused = render_card(job("paused"), Progress(), creator="U123", now=NOW)
    assert buttons(paused)[0]["action_id"] == ACTION_RESUME == "job_resume"
    actions = [block for block in message.blocks if block["type"] == "actions"]
    assert "ftjob-abc123" in actions[0]["block_id"]


def test_cancel_asks_for_confirmation_in_danger_style() -> None:
    message = render_card(job("queued"), Progress(), creator="U123", now=NOW)
    cancel = next(button for button in buttons(message) if button["text"]["text"] == "Cancel")
    assert cancel["style"] == "danger"
    confirm = cancel["confirm"]
    assert confirm["style"] == "danger"
    assert confirm["title"]["text"] == "Cancel this job?"
    assert "ftjob-abc123" in confirm["text"]["text"]
    assert confirm["confirm"]["text"] == "Cancel job"
    assert confirm["deny"]["text"] == "Keep the job"  # paused and queued jobs are not running


def test_running_card_shows_progress_losses_finish_and_people() -> None:
    progress = Progress(
        step=52, total_steps=100, train_loss=0.41234, valid_loss=0.39871, estimated_finish=int(NOW) + 720
    )
    message = render_card(job("running"), progress, creator="U123", now=NOW)
    assert_valid_message(message)
    text = message_text(message)
    for fact in (
        "ftjob-abc123",
        "▶️",
        "Running",
        "▓▓▓▓▓░░░░░ 52%",
        "step 52/100",
        "train loss 0.4123",
        "valid loss 0.3987",
        "in ~12 min",
        f"<!date^{int(NOW) + 720}^",
        "2023-11-14 22:25 UTC",  # the fallback of the date token
        "gpt-4o-mini-2024-07-18",
        "support-bot",
        "<@U123>",
    ):
        assert fact in text, fact
    assert "ftjob-abc123" in message.text and "Running" in message.text


def test_progress_is_left_out_when_unknown() -> None:
    text = message_text(render_card(job("queued"), Progress(), creator=None, now=NOW))
    assert "%" not in text and "step" not in text and "Estimated finish" not in text
    assert "Queued" in text
    assert "someone outside Slack" in text


def test_succeeded_card_gives_model_tokens_and_duration() -> None:
    done = job(
        "succeeded",
        fine_tuned_model="ft:gpt-4o-mini-2024-07-18:acme:support-bot:9xYz",
        trained_tokens=1_234_567,
        finished_at=CREATED + 3900,
    )
    message = render_card(done, Progress(step=100, total_steps=100), creator="U123", now=NOW)
    assert_valid_message(message)
    text = message_text(message)
    assert "`ft:gpt-4o-mini-2024-07-18:acme:support-bot:9xYz`" in text
    assert "1,234,567" in text
    assert "1 h 5 min" in text
    assert "✅" in text and "Succeeded" in text
    assert "ft:gpt-4o-mini-2024-07-18:acme:support-bot:9xYz" in message.text
    assert "Estimated finish" not in text


def test_failed_card_gives_error_code_and_message_escaped() -> None:
    failed = job(
        "failed",
        error={"code": "invalid_training_file", "message": "Line 3: expected <messages> & roles"},
        finished_at=CREATED + 60,
    )
    message = render_card(failed, Progress(), creator="U123", now=NOW)
    assert_valid_message(message)
    text = message_text(message)
    assert "`invalid_training_file`" in text
    assert "Line 3: expected &lt;messages&gt; &amp; roles" in text
    assert "❌" in text and "Failed" in text


def test_cancelled_card_says_when() -> None:
    message = render_card(job("cancelled", finished_at=CREATED + 120), Progress(), creator="U1", now=NOW)
    text = message_text(message)
    assert "Cancelled" in text and f"<!date^{CREATED + 120}^" in text
    assert "🚫" in text


def test_paused_card_keeps_its_progress() -> None:
    message = render_card(job("paused"), Progress(step=30, total_steps=100), creator="U1", now=NOW)
    text = message_text(message)
    assert "⏸️" in text and "Paused" in text and "▓▓▓░░░░░░░ 30%" in text


def test_unknown_status_is_shown_as_it_came() -> None:
    message = render_card(job("some_new_state"), Progress(), creator="U1", now=NOW)
    assert_valid_message(message)
    text = message_text(message)
    assert "some_new_state" in text and "❔" in text
    assert "some_new_state" in message.text


def test_every_known_status_has_its_own_emoji_and_words() -> None:
    headers = {}
    for status in ("validating_files", "queued", "running", "paused", "succeeded", "failed", "cancelled"):
        message = render_card(job(status), Progress(), creator="U1", now=NOW)
        headers[status] = message.blocks[0]["text"]["text"].split()[0]
    assert len(set(headers.values())) == len(headers)
    assert "❔" not in headers.values()


def test_huge_error_message_is_cut_to_the_section_limit() -> None:
    failed = job("failed", error={"code": "server_error", "message": "x" * 10_000})
    message = render_card(failed, Progress(), creator="U1", now=NOW)
    assert_valid_message(message)
    assert any(block.get("text", {}).get("text", "").endswith("…") for block in message.blocks)
    assert [button["text"]["text"] for button in buttons(message)] == ["Refresh"]


def tracked(snapshot: dict[str, object], **extra: Any) -> TrackedJob:
    fields: dict[str, Any] = {
        "job_id": "ftjob-tracked1",
        "provider": "openai",
        "owner_channel": "C1",
        "creator": "U77",
        "origin": Origin.COMMAND,
        "status": "running",
        "status_seq": 2,
        "model": "gpt-4o-mini-2024-07-18",
        "suffix": "nightly",
        "last_event_id": None,
        "last_event_at": None,
        "progress": Progress(step=10, total_steps=40),
        "version": 3,
        "next_poll_at": NOW,
        "stuck_noted": False,
        "snapshot": snapshot,
        "created_at": NOW - 600,
        "updated_at": NOW,
    }
    fields.update(extra)
    return TrackedJob(**fields)


def test_card_for_reads_the_snapshot() -> None:
    snapshot = job("paused").model_dump()
    message = card_for(tracked(snapshot), NOW)
    assert_valid_message(message)
    assert [button["text"]["text"] for button in buttons(message)] == ["Resume", "Cancel", "Refresh"]
    text = message_text(message)
    assert "ftjob-abc123" in text and "<@U77>" in text and "step 10/40" in text


@pytest.mark.parametrize("snapshot", [{}, {"id": "ftjob-tracked1", "status": 7}])
def test_card_for_falls_back_to_the_tracked_fields(snapshot: dict[str, object]) -> None:
    message = card_for(tracked(snapshot), NOW)
    assert_valid_message(message)
    text = message_text(message)
    assert "ftjob-tracked1" in text and "nightly" in text and "gpt-4o-mini-2024-07-18" in text
    assert [button["text"]["text"] for button in buttons(message)] == ["Pause", "Cancel", "Refresh"]


def test_an_estimate_in_the_past_is_called_due() -> None:
    progress = Progress(step=90, total_steps=100, estimated_finish=int(NOW) - 600)
    text = message_text(render_card(job("running"), progress, creator="U1", now=NOW))
    assert "Estimated finish was due ~10 min ago" in text
