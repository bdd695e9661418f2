"""Identifiers the views put on interactive elements; handlers register listeners for the same names.

A job card's button is named after the action it asks for (`job_pause` asks for `pause`).
"""

from __future__ import annotations

from bot.jobs.actions import Action

BUTTON_ACTIONS = (Action.PAUSE, Action.RESUME, Action.CANCEL, Action.REFRESH)


def button_action_id(action: Action) -> str:
    return f"job_{action}"


ACTION_PAUSE = button_action_id(Action.PAUSE)
ACTION_RESUME = button_action_id(Action.RESUME)
ACTION_CANCEL = button_action_id(Action.CANCEL)
ACTION_REFRESH = button_action_id(Action.REFRESH)
# After training (Deploy, Try): their listeners are in handlers/after_training.py.
AFTER_TRAINING_BUTTONS = (Action.DEPLOY, Action.TRY)
# The action each job button's action id asks for.
BUTTON_VERBS: dict[str, Action] = {
    button_action_id(action): action for action in (*BUTTON_ACTIONS, *AFTER_TRAINING_BUTTONS)
}

# "Next page" under a job list asks for the next page of the same `list`.
ACTION_NEXT_PAGE = "jobs_next_page"
CREATE_CALLBACK_ID = "create_job"
# "Fix and retry" under a refused create form's note reopens the form as it was typed.
ACTION_FIX_AND_RETRY = "create_fix_and_retry"
