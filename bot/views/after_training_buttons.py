"""The Deploy and Try buttons on a succeeded job's card (their listeners: handlers/after_training.py)."""

from __future__ import annotations

from slack_sdk.models.blocks import ButtonElement

from bot.finetune.models import FineTuningJob
from bot.jobs.actions import Action
from bot.views.actions import button_action_id

ACTION_DEPLOY = button_action_id(Action.DEPLOY)
ACTION_TRY = button_action_id(Action.TRY)


def after_training_buttons(job: FineTuningJob) -> list[ButtonElement]:
    """Try on a succeeded job; Deploy too when it was trained on Azure (its model is named `base.ft-…`;
    OpenAI's are `ft:…` and answer without a deployment)."""
    model = job.fine_tuned_model
    if job.status != "succeeded" or not model:
        return []
    buttons = []
    if not model.startswith("ft:"):
        buttons.append(ButtonElement(text="Deploy", action_id=ACTION_DEPLOY, value=job.id, style="primary"))
    buttons.append(ButtonElement(text="Try", action_id=ACTION_TRY, value=job.id))
    return buttons
