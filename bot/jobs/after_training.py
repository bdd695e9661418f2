"""The commands about a job's model once trained: deploy it on Azure, list and delete deployments, try it.

Plain data, parsed by `bot.jobs.deploy_grammar` and carried out by `bot.jobs.deploy.DeployService`.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.jobs.actions import Action

CHECKPOINT_PREFIX = "ftchkpt-"
DEFAULT_SKU = "standard"
DEFAULT_CAPACITY = 1


@dataclass(frozen=True)
class DeployModel:
    """`deploy <job-id|ftchkpt-…> [name=] [sku=] [capacity=]`; `name` None: one made from the id."""

    target: str
    name: str | None = None
    sku: str = DEFAULT_SKU
    capacity: int = DEFAULT_CAPACITY

    @property
    def is_checkpoint(self) -> bool:
        return self.target.startswith(CHECKPOINT_PREFIX)

    @property
    def job_id(self) -> str | None:
        """The job, when the target names one (a checkpoint's job is found by the deploy service)."""
        return None if self.is_checkpoint else self.target

    @property
    def action(self) -> Action:
        return Action.DEPLOY_CHECKPOINT if self.is_checkpoint else Action.DEPLOY


@dataclass(frozen=True)
class ListDeployments:
    action: Action = Action.DEPLOYMENTS


@dataclass(frozen=True)
class Undeploy:
    """`undeploy <name>`: answered with the deployment and a confirm button; `confirmed` once clicked."""

    name: str
    confirmed: bool = False
    action: Action = Action.UNDEPLOY


@dataclass(frozen=True)
class TryModel:
    job_id: str
    prompt: str
    action: Action = Action.TRY


AfterTrainingCommand = DeployModel | ListDeployments | Undeploy | TryModel
AFTER_TRAINING_COMMANDS = (DeployModel, ListDeployments, Undeploy, TryModel)
