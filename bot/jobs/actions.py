"""What a person can ask TuneOps to do, by one name each.

The values are what the permission table, the audit log and the notifier's thread notes record, and the
card buttons' action ids are built from them, so they never change once released.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal


class Action(StrEnum):
    HELP = "help"
    LIST = "list"
    STATUS = "status"
    EVENTS = "events"
    CHECKPOINTS = "checkpoints"
    CHART = "chart"
    REFRESH = "refresh"
    CREATE = "create"
    OPEN_FORM = "open_form"
    WATCH = "watch"
    UNWATCH = "unwatch"
    PAUSE = "pause"
    RESUME = "resume"
    CANCEL = "cancel"
    SUBSCRIBE = "subscribe"
    SUBSCRIPTIONS = "subscriptions"
    UNSUBSCRIBE = "unsubscribe"
    SETTINGS = "settings"
    SAVE_SETTINGS = "save_settings"
    AUDIT = "audit"
    AUDIT_ALL = "audit_all"
    DIGEST = "digest"
    QUIET = "quiet"
    # `/finetune upload` (the form) and its `Upload & start` button: check a file, then upload it.
    UPLOAD = "upload"
    # After training (Azure deployments, trying a model): see bot/jobs/deploy.py.
    DEPLOY = "deploy"
    DEPLOY_CHECKPOINT = "deploy_checkpoint"
    DEPLOYMENTS = "deployments"
    UNDEPLOY = "undeploy"
    TRY = "try"


# The three actions that ask the fine-tuning API to change a job.
ControlAction = Literal[Action.PAUSE, Action.RESUME, Action.CANCEL]
CONTROL_ACTIONS: frozenset[ControlAction] = frozenset({Action.PAUSE, Action.RESUME, Action.CANCEL})


def control_action(action: Action) -> ControlAction | None:
    """`action` as a control action, or None when it is not one."""
    match action:
        case Action.PAUSE | Action.RESUME | Action.CANCEL:
            return action
        case _:
            return None
