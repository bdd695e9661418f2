"""The emulator's clock and pure job timeline (no server needed)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.sandbox.emulator.clock import EmulatorClock
from bot.sandbox.emulator.lifecycle import Anchor, Plan, Timing, project, results_csv

TIMING = Timing()
ORDER = ["validating_files", "queued", "running", "succeeded", "failed"]


def _plan(**changes: object) -> Plan:
    values: dict[str, object] = {
        "total_steps": 100,
        "n_epochs": 3,
        "seed": 5,
        "has_validation": True,
        "fine_tuned_model": "ft:m:org::abc",
    }
    values.update(changes)
    return Plan(**values)  # type: ignore[arg-type]


class _FakeMonotonic:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_clock_scales_real_time_and_keeps_the_past_when_speed_changes() -> None:
    real = _FakeMonotonic()
    clock = EmulatorClock(10.0, monotonic=real)
    real.now += 2
    assert clock.now() == pytest.approx(20)
    clock.set_speed(1.0)
    assert clock.now() == pytest.approx(20)
    real.now += 3
    assert clock.now() == pytest.approx(23)
    assert clock.advance(7) == pytest.approx(30)
    clock.set_speed(0)
    real.now += 1000
    assert clock.now() == pytest.approx(30)
    with pytest.raises(ValueError, match="forward"):
        clock.advance(-1)
    # 20 emulated seconds at 10× took 2 real ones; the 10 after them ran at 1×.
    assert clock.unix_time(30) - clock.unix_time(0) == pytest.approx(2 + 10)


def test_timestamps_follow_the_real_calendar_and_never_change() -> None:
    real = _FakeMonotonic()
    clock = EmulatorClock(10.0, monotonic=real)
    created = clock.unix_time(0)
    real.now += 60  # a sandbox minute: ten emulated ones
    assert clock.unix_time(clock.now()) - created == pytest.approx(60)
    eta = clock.unix_time(clock.now() + 600)  # ten emulated minutes from now: one real minute
    assert eta - created == pytest.approx(120)
    clock.set_speed(1.0)
    assert clock.unix_time(0) == created
    assert clock.unix_time(600) - created == pytest.approx(60)


@pytest.mark.parametrize(
    ("total", "epochs", "expected"),
    [(100, 3, (33, 67, 100)), (100, 1, (100,)), (100, 2, (50, 100)), (100, 10, (80, 90, 100)), (2, 10, (2,))],
)
def test_checkpoints_are_the_ends_of_the_last_three_epochs(
    total: int, epochs: int, expected: tuple[int, ...]
) -> None:
    assert _plan(total_steps=total, n_epochs=epochs).checkpoint_steps() == expected


def test_a_job_resumed_past_its_failure_step_succeeds() -> None:
    plan = _plan(fail_at_step=40)
    seen = project(plan, Anchor(0.0, "running", 60), 10_000, TIMING)
    assert seen.status == "succeeded"
    failing = project(plan, Anchor(0.0, "running", 10), 10_000, TIMING)
    assert (failing.status, failing.step) == ("failed", 40)


def test_frozen_states_stay_as_they_are() -> None:
    for status in ("paused", "cancelled", "pending", "succeeded"):
        seen = project(_plan(), Anchor(5.0, status, 17, finished_at=6.0), 1e9, TIMING)
        assert (seen.status, seen.step, seen.finished_at, seen.happenings) == (status, 17, 6.0, ())


def test_status_without_events_matches_status_with_events() -> None:
    plan = _plan(fail_at_step=55)
    for now in range(0, 700, 7):
        full = project(plan, Anchor(0.0, "validating_files"), now, TIMING)
        quick = project(plan, Anchor(0.0, "validating_files"), now, TIMING, with_events=False)
        assert full.status == quick.status and full.step == quick.step
        assert (full.estimated_finish, full.finished_at) == (quick.estimated_finish, quick.finished_at)


@settings(max_examples=60, deadline=None)
@given(
    times=st.lists(st.floats(min_value=0, max_value=1000, allow_nan=False), min_size=2, max_size=12),
    fail_at=st.one_of(st.none(), st.integers(min_value=1, max_value=99)),
    seed=st.integers(min_value=0, max_value=2**31 - 1),
)
def test_time_only_moves_a_job_forward(times: list[float], fail_at: int | None, seed: int) -> None:
    plan = _plan(fail_at_step=fail_at, seed=seed)
    previous_rank, previous_step = 0, 0
    for now in sorted(times):
        seen = project(plan, Anchor(0.0, "validating_files"), now, TIMING)
        rank = ORDER.index(seen.status)
        assert rank >= previous_rank and seen.step >= previous_step
        assert seen.status != ("succeeded" if fail_at else "failed")
        at = [h.at for h in seen.happenings]
        assert at == sorted(at) and all(t <= now for t in at)
        previous_rank, previous_step = min(rank, 3), seen.step


def test_results_csv_has_one_row_per_step_and_provider_columns() -> None:
    plan = _plan(total_steps=12)
    openai_rows = results_csv(plan, azure=False).decode().splitlines()
    assert openai_rows[0] == "step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy"
    assert len(openai_rows) == 13
    azure_rows = results_csv(plan, azure=True).decode().splitlines()
    assert azure_rows[0].startswith("step,train_loss,train_mean_token_accuracy,valid_loss,")
    assert [row.split(",")[0] for row in azure_rows[1:]] == [str(n) for n in range(1, 13)]
