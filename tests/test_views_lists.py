"""Lists of jobs, events and checkpoints, help and error replies: readable and within Block Kit's limits."""

from __future__ import annotations

from typing import Any

from bot.finetune.models import Checkpoint, FineTuningJob, JobEvent
from bot.jobs.grammar import CommandError
from bot.jobs.records import Origin, Progress, TrackedJob
from bot.views.actions import ACTION_NEXT_PAGE
from bot.views.checkpoints import checkpoints_message
from bot.views.errors import (
    api_error_message,
    command_error_message,
    error_message,
    refusal_message,
    unexpected_error_message,
)
from bot.views.events import events_message
from bot.views.help import help_message, usage_text
from bot.views.lists import api_job_list, job_list, tracked_job_list
from tests.support.views import assert_valid_message, buttons, message_text

BASE = 1_700_000_000


def api_job(index: int, status: str = "running", **extra: Any) -> FineTuningJob:
    fields: dict[str, Any] = {
        "id": f"ftjob-{index:04d}",
        "created_at": BASE + index,
        "status": status,
        "model": "gpt-4o-mini",
        "user_provided_suffix": f"run-{index}",
    }
    fields.update(extra)
    return FineTuningJob.model_validate(fields)


def tracked(index: int, status: str = "running", creator: str | None = "U1") -> TrackedJob:
    snapshot = api_job(index, status).model_dump()
    return TrackedJob(
        job_id=f"ftjob-{index:04d}",
        provider="openai",
        owner_channel="C1",
        creator=creator,
        origin=Origin.COMMAND,
        status=status,
        status_seq=1,
        model="gpt-4o-mini",
        suffix=f"run-{index}",
        last_event_id=None,
        last_event_at=None,
        progress=Progress(step=25, total_steps=100),
        version=1,
        next_poll_at=0,
        stuck_noted=False,
        snapshot=snapshot,
        created_at=BASE + index,
        updated_at=BASE + index,
    )


def sections(message: Any) -> list[str]:
    return [block["text"]["text"] for block in message.blocks if block["type"] == "section"]


def test_channel_list_is_newest_first_with_progress_and_creator() -> None:
    message = tracked_job_list([tracked(1), tracked(3, "succeeded"), tracked(2, creator=None)], title="Jobs")
    assert_valid_message(message)
    rows = sections(message)
    assert [row.split("`")[1] for row in rows] == ["ftjob-0003", "ftjob-0002", "ftjob-0001"]
    assert "▓▓░░░░░░░░ 25%" in rows[2] and "step 25/100" in rows[2]
    assert "<@U1>" in rows[2] and "run-1" in rows[2]
    assert "%" not in rows[0]  # finished jobs show no progress bar
    assert buttons(message) == []


def test_sixty_jobs_stay_within_fifty_blocks_and_keep_the_next_button() -> None:
    message = tracked_job_list([tracked(i) for i in range(60)], title="Jobs", next_value="channel:60")
    assert_valid_message(message)
    assert len(message.blocks) <= 50
    assert "more" in message_text(message)
    [next_button] = buttons(message)
    assert next_button["action_id"] == ACTION_NEXT_PAGE and next_button["value"] == "channel:60"
    assert next_button["text"]["text"] == "Next page"


def test_api_list_pages_with_a_cursor_and_names_known_creators() -> None:
    jobs = [api_job(i) for i in range(5)]
    message = api_job_list(
        jobs, title="All jobs", page=2, next_value="ftjob-0000", creators={"ftjob-0004": "U5"}
    )
    assert_valid_message(message)
    assert "page 2" in message.blocks[0]["text"]["text"]
    assert buttons(message)[0]["value"] == "ftjob-0000"
    assert "<@U5>" in sections(message)[0]


def test_job_list_accepts_either_kind_and_hides_the_button_without_more() -> None:
    message = job_list([tracked(1), api_job(2)], title="Mixed", has_more=False, next_value="x")
    assert_valid_message(message)
    assert buttons(message) == []
    with_more = job_list([api_job(2)], title="Mixed", has_more=True, next_value="x")
    assert buttons(with_more)[0]["value"] == "x"


def test_empty_list_says_so_in_plain_words() -> None:
    message = tracked_job_list([], title="Jobs in this channel")
    assert_valid_message(message)
    assert "No jobs here yet" in message_text(message)
    assert "/finetune create" in message_text(message)


def test_events_show_time_level_and_metrics_oldest_first() -> None:
    events = [
        JobEvent(id="e3", created_at=BASE + 30, level="error", message="Something broke & <stopped>"),
        JobEvent(
            id="e2",
            created_at=BASE + 20,
            level="info",
            message="Step 5/100: training loss=0.50",
            type="metrics",
            data={"step": 5, "total_steps": 100, "train_loss": 0.5, "valid_loss": 0.61},
        ),
        JobEvent(id="e1", created_at=BASE + 10, level="warn", message="File has duplicates"),
    ]
    message = events_message("ftjob-abc", events)
    assert_valid_message(message)
    text = "\n".join(sections(message))
    assert text.index("duplicates") < text.index("step 5/100") < text.index("broke")
    assert "⚠️" in text and "🛑" in text and "📈 step 5/100 · train loss 0.5000 · valid loss 0.6100" in text
    assert "&amp; &lt;stopped&gt;" in text
    assert f"<!date^{BASE + 10}^" in text


def test_many_long_events_stay_within_limits() -> None:
    events = [JobEvent(id=f"e{i}", created_at=BASE + i, message="m" * 5000) for i in range(50)]
    message = events_message("ftjob-abc", events)
    assert_valid_message(message)


def test_no_events_yet() -> None:
    assert "no events yet" in message_text(events_message("ftjob-abc", []))


def test_checkpoints_show_step_name_and_figures_newest_first() -> None:
    checkpoints = [
        Checkpoint(
            id="c1",
            created_at=BASE,
            step_number=100,
            fine_tuned_model_checkpoint="ft:gpt-4o-mini:acme::abc:ckpt-step-100",
            metrics={"train_loss": 0.3, "valid_loss": 0.35, "full_valid_mean_token_accuracy": 0.931},
        ),
        Checkpoint(
            id="c2",
            created_at=BASE + 100,
            step_number=200,
            fine_tuned_model_checkpoint="ft:gpt-4o-mini:acme::abc:ckpt-step-200",
            metrics=None,
        ),
    ]
    message = checkpoints_message("ftjob-abc", checkpoints)
    assert_valid_message(message)
    text = "\n".join(sections(message))
    assert text.index("step 200") < text.index("step 100")
    assert "`ft:gpt-4o-mini:acme::abc:ckpt-step-100`" in text
    assert "train loss 0.3000" in text and "valid loss 0.3500" in text and "93.1%" in text
    empty = message_text(checkpoints_message("ftjob-abc", []))
    assert "no checkpoints for `ftjob-abc` yet" in empty
    assert "only once the job has finished" in empty  # Azure lists them only then


def test_usage_names_every_subcommand_with_the_configured_command() -> None:
    text = usage_text("/ft")
    for form in (
        "/ft help",
        "/ft create model=<base> training_file=<file-id>",
        "/ft create`",
        "/ft list [active|all] [mine]",
        "/ft status <job-id>",
        "/ft pause <job-id>",
        "/ft resume <job-id>",
        "/ft cancel <job-id>",
        "/ft events <job-id> [n]",
        "/ft checkpoints <job-id>",
        "/ft watch <job-id>",
        "/ft unwatch <job-id>",
        "meta.<key>=<value>",
    ):
        assert form in text, form
    assert "E.g." in text
    assert_valid_message(help_message("/ft"))


def test_error_replies() -> None:
    with_usage = command_error_message(CommandError("I don't know `x`.", usage=True), command="/ft")
    assert_valid_message(with_usage)
    assert "I don't know `x`." in with_usage.text and "/ft status <job-id>" in message_text(with_usage)
    without = command_error_message(CommandError("`pause` needs a job id"), command="/ft")
    assert "/ft status <job-id>" not in message_text(without)
    api = api_error_message("cancel", "ftjob-1", "Job is already <done> & dusted")
    assert_valid_message(api)
    assert "Job is already &lt;done&gt; &amp; dusted" in message_text(api)
    assert "🔒 Only" in refusal_message("Only <@U1> can cancel it.").text
    assert "ref-123" in unexpected_error_message("ref-123").text
    assert_valid_message(error_message("x" * 10_000, detail="y" * 10_000))


def test_help_on_one_subcommand_shows_only_its_forms() -> None:
    text = usage_text("/finetune", "create")
    assert "/finetune create model=<base>" in text and "/finetune create`" in text
    assert "/finetune pause" not in text
    assert "/finetune pause" in usage_text("/finetune", "no-such-topic")
    assert_valid_message(help_message("/finetune", "events"))
