"""Whatever the API sends (odd statuses, huge or hostile strings, inconsistent progress), every view
still produces a message Slack accepts."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.finetune.models import FineTuningJob
from bot.jobs.records import Progress
from bot.views.card import render_card
from bot.views.lists import api_job_list
from bot.views.notes import status_note, stuck_note
from tests.support.views import assert_valid_message, buttons

statuses = st.one_of(
    st.sampled_from(["validating_files", "queued", "running", "paused", "succeeded", "failed", "cancelled"]),
    st.text(min_size=1, max_size=300),
)
strings = st.one_of(st.none(), st.text(max_size=5000), st.just("<!channel> & `x` <@U1>"))
timestamps = st.integers(min_value=0, max_value=4_000_000_000)


@st.composite
def jobs(draw: st.DrawFn) -> FineTuningJob:
    return FineTuningJob.model_validate(
        {
            "id": draw(st.text(min_size=1, max_size=400)),
            "created_at": draw(timestamps),
            "status": draw(statuses),
            "model": draw(st.text(max_size=3000)),
            "user_provided_suffix": draw(strings),
            "fine_tuned_model": draw(strings),
            "finished_at": draw(st.one_of(st.none(), timestamps)),
            "trained_tokens": draw(st.one_of(st.none(), st.integers(min_value=0, max_value=10**12))),
            "error": {"code": draw(strings), "message": draw(strings)},
            "estimated_finish": draw(st.one_of(st.none(), timestamps)),
        }
    )


progresses = st.builds(
    Progress,
    step=st.one_of(st.none(), st.integers(min_value=-5, max_value=10**7)),
    total_steps=st.one_of(st.none(), st.integers(min_value=-5, max_value=10**7)),
    train_loss=st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True)),
    valid_loss=st.one_of(st.none(), st.floats(min_value=-1e30, max_value=1e30)),
    estimated_finish=st.one_of(st.none(), timestamps),
)


@settings(max_examples=150, deadline=None)
@given(job=jobs(), progress=progresses, creator=st.one_of(st.none(), st.text(min_size=1, max_size=30)))
def test_card_is_always_valid(job: FineTuningJob, progress: Progress, creator: str | None) -> None:
    message = render_card(job, progress, creator=creator, now=1_700_000_000)
    assert_valid_message(message)
    labels = [button["text"]["text"] for button in buttons(message)]
    assert labels[-1] == "Refresh"
    assert ("Cancel" in labels) is (job.status not in ("succeeded", "failed", "cancelled"))


@settings(max_examples=100, deadline=None)
@given(job=jobs(), progress=progresses, previous=statuses, actor=st.one_of(st.none(), st.just("U2")))
def test_notes_are_always_valid(
    job: FineTuningJob, progress: Progress, previous: str, actor: str | None
) -> None:
    note = status_note(
        job, previous=previous, current=job.status, creator="U1", actor=actor, progress=progress
    )
    assert_valid_message(note)
    assert_valid_message(stuck_note(job, quiet_for=3600))


@settings(max_examples=30, deadline=None)
@given(many=st.lists(jobs(), max_size=70))
def test_lists_are_always_valid(many: list[FineTuningJob]) -> None:
    assert_valid_message(api_job_list(many, title="All jobs", next_value="cursor"))
