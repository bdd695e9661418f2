"""Which checkpoint to use and when a run overfits, from the figures a job reports (pure rules)."""

from __future__ import annotations

from bot.charts.advice import advise
from bot.charts.curves import curves_from
from bot.finetune.models import Checkpoint, JobEvent
from bot.finetune.results import parse_results


def _checkpoint(step: int, valid: float, train: float) -> Checkpoint:
    return Checkpoint(
        id=f"ftckpt-{step}",
        created_at=0,
        step_number=step,
        fine_tuned_model_checkpoint=f"ft:gpt-4o-mini-2024-07-18:org::abc:ckpt-step-{step}",
        metrics={"step": step, "full_valid_loss": valid, "train_loss": train},
    )


def _metrics(step: int, **data: float) -> JobEvent:
    return JobEvent(id=f"ev-{step}", created_at=step, type="metrics", data={"step": step, **data})


def test_the_checkpoint_with_the_lowest_validation_loss_is_named_by_its_model_id() -> None:
    checkpoints = [_checkpoint(10, 0.9, 1.0), _checkpoint(20, 0.6, 0.7), _checkpoint(30, 0.7, 0.5)]
    advice = advise(curves_from(None, [], checkpoints))
    assert advice.best is not None and advice.best.step == 20
    assert advice.best.model.endswith(":ckpt-step-20")
    assert advice.last is not None and advice.last.step == 30


def test_validation_rising_while_training_falls_is_overfitting() -> None:
    events = [_metrics(s, train_loss=2.0 - s / 100) for s in range(1, 121)]
    events += [_metrics(s, full_valid_loss=v) for s, v in ((40, 1.0), (80, 1.2), (120, 1.5))]
    advice = advise(curves_from(None, events))
    assert advice.overfitting
    assert [value for _, value in advice.rising] == [1.0, 1.2, 1.5]


def test_validation_rising_with_training_is_not_called_overfitting() -> None:
    events = [_metrics(s, train_loss=1.0 + s / 100) for s in range(1, 121)]
    events += [_metrics(s, full_valid_loss=v) for s, v in ((40, 1.0), (80, 1.2), (120, 1.5))]
    assert not advise(curves_from(None, events)).overfitting


def test_noise_and_too_few_evaluations_are_not_overfitting() -> None:
    train = [_metrics(s, train_loss=2.0 - s / 100) for s in range(1, 121)]
    wobble = [_metrics(s, valid_loss=v) for s, v in ((30, 1.0), (60, 0.98), (90, 0.99), (120, 0.995))]
    assert not advise(curves_from(None, train + wobble)).overfitting  # rose by under 5 %
    two = [_metrics(s, full_valid_loss=v) for s, v in ((60, 1.0), (120, 1.5))]
    assert not advise(curves_from(None, train + two)).overfitting


def test_the_results_file_wins_and_events_fill_the_steps_it_lacks() -> None:
    results = parse_results(
        "step,train_loss,train_mean_token_accuracy,valid_loss,validation_mean_token_accuracy\n"
        "1,2.0,0.5,,\n2,1.5,0.6,1.7,0.55\n"
    )  # Azure's column names
    events = [_metrics(2, train_loss=9.9), _metrics(3, train_loss=1.2)]
    curves = curves_from(results, events)
    assert curves.train_loss == ((1, 2.0), (2, 1.5), (3, 1.2))
    assert curves.valid_loss == ((2, 1.7),)
    assert curves.train_accuracy == ((1, 0.5), (2, 0.6))
    assert curves.valid_accuracy == ((2, 0.55),)
    assert curves.has_losses and not curves_from(None, []).has_losses
