"""After training: deploy a job's model (or a checkpoint) on Azure, list and delete deployments, try a model.

Deploying asks Azure's management plane for the deployment, answers at once, and follows its
`provisioningState` in a task of its own until it settles; then the job's thread is told ("Deployed as
`name`", or why not). The permission is the one Cancel has (`Action.DEPLOY` in the rule table): for a job
id the middleware asks it before the ack; for a checkpoint, and for the deployment `undeploy` names, the job
is known only once the API has been asked, so this service asks the same rule itself then.

Deployments are not stored: Azure's list is the truth (a restart only stops the thread hearing about a
deployment still provisioning; `deployments` shows where it stands).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass

from bot.finetune.entra import MANAGEMENT_SCOPE, EntraTokens, default_credential
from bot.finetune.errors import APIStatusError, FineTuneError
from bot.finetune.management import SKUS, AzureAccount, Deployment, DeploymentsClient
from bot.finetune.models import FineTuningJob
from bot.jobs.actions import Action
from bot.jobs.actor import Actor
from bot.jobs.after_training import DeployModel, TryModel
from bot.jobs.audit import AuditLog
from bot.jobs.checks import RequestChecks
from bot.services import Services

log = logging.getLogger(__name__)

FOLLOW_FIRST_DELAY = 1.0
FOLLOW_MAX_DELAY = 15.0
FOLLOW_GIVE_UP_AFTER = 3600.0
# Azure removes a fine-tuned deployment after 15 days without calls, and bills every hour until then.
IDLE_WARNING_DAYS = 7
MAX_CHECKPOINT_JOBS = 20


# ---- outcomes ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NotAvailable:
    """Deploying (or trying on Azure) cannot be done here; `reason` in plain words."""

    reason: str


@dataclass(frozen=True)
class Refused:
    """The rule table said no (audited)."""

    reason: str


@dataclass(frozen=True)
class DeployAsked:
    name: str
    model: str
    job_id: str
    state: str
    sku: str
    capacity: int
    in_thread: bool  # the thread will hear when it settles


@dataclass(frozen=True)
class DeployRefusedByAzure:
    job_id: str
    name: str
    error: APIStatusError


@dataclass(frozen=True)
class DeploymentsShown:
    deployments: list[Deployment]
    account: str
    now: float


@dataclass(frozen=True)
class UndeployAsked:
    """`undeploy <name>` before the confirm: what would be deleted (None: there is no such deployment)."""

    name: str
    deployment: Deployment | None


@dataclass(frozen=True)
class Undeployed:
    name: str
    existed: bool


@dataclass(frozen=True)
class TryAnswers:
    job_id: str
    prompt: str
    tuned_model: str
    base_model: str
    tuned: str | FineTuneError
    base: str | FineTuneError
    in_thread: bool


DeployOutcome = NotAvailable | Refused | DeployAsked | DeployRefusedByAzure


def is_fine_tuned(model: str) -> bool:
    """A fine-tuned model or checkpoint (Azure `base.ft-…`, `ftchkpt-…`; OpenAI `ft:…`)."""
    return ".ft-" in model or model.startswith(("ftchkpt-", "ft:"))


def default_name(target: str) -> str:
    """`tuneops-<the id's last 12 characters>`: readable, unique enough, within Azure's 64."""
    tail = re.sub(r"[^A-Za-z0-9]", "", target.split("-", 1)[-1])[-12:]
    return f"tuneops-{tail or 'model'}"


def created_at(deployment: Deployment) -> float | None:
    """When the deployment was made, from ARM's `systemData.createdAt` (ISO 8601, or unix seconds)."""
    value = deployment.system_data.created_at if deployment.system_data else None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return None
    return None


class DeployService:
    """`on_settled(channel, card_ts, deployment, problem)` is set by the Slack side (this room draws no
    messages): it tells the job's thread how a deployment ended."""

    def __init__(self, services: Services, checks: RequestChecks) -> None:
        self._services = services
        self._checks = checks
        self._audit = AuditLog(services.store, services.clock)
        self._deployments: DeploymentsClient | None = None
        self._following: set[asyncio.Task[None]] = set()
        self.on_settled: Callable[[str, str, Deployment | None, str | None], object] | None = None

    @property
    def command(self) -> str:
        return self._services.settings.command

    # ---- the account --------------------------------------------------------------------------------

    def _account(self) -> AzureAccount | None:
        settings = self._services.settings
        if not (
            settings.azure_subscription_id
            and settings.azure_resource_group
            and settings.azure_openai_resource
        ):
            return None
        return AzureAccount(
            settings.azure_subscription_id,
            settings.azure_resource_group,
            settings.azure_openai_resource,
            settings.azure_management_url,
        )

    def _unavailable(self) -> NotAvailable | None:
        if self._services.provider != "azure":
            return NotAvailable(
                "Deployments are for Azure AI Foundry. On OpenAI a fine-tuned model answers as soon as its job "
                f"succeeds: call it by its name (`{self.command} status <job-id>` shows it)."
            )
        if self._account() is None:
            return NotAvailable(
                "Deploying needs the Azure account: set AZURE_SUBSCRIPTION_ID, AZURE_RESOURCE_GROUP and "
                "AZURE_OPENAI_RESOURCE (the resource's name) where TuneOps runs."
            )
        return None

    def _client(self) -> DeploymentsClient:
        if self._deployments is None:
            account = self._account()
            assert account is not None
            data_tokens = self._services.api.provider.tokens
            tokens = (
                data_tokens.for_scope(MANAGEMENT_SCOPE)
                if data_tokens is not None
                else EntraTokens(default_credential(), MANAGEMENT_SCOPE)
            )
            self._deployments = DeploymentsClient(account, tokens)
        return self._deployments

    async def aclose(self) -> None:
        for task in list(self._following):
            task.cancel()
        if self._deployments is not None:
            await self._deployments.aclose()

    # ---- deploy -------------------------------------------------------------------------------------

    async def deploy(self, request: DeployModel, actor: Actor) -> DeployOutcome:
        unavailable = self._unavailable()
        if unavailable is not None:
            return unavailable
        if request.is_checkpoint:
            job_id = await self._checkpoint_job(request.target, actor)
            if job_id is None:
                return NotAvailable(
                    f"I found no checkpoint `{request.target}` among the jobs this channel follows. "
                    f"`{self.command} checkpoints <job-id>` lists a job's checkpoints."
                )
            decision = await self._checks.authorize(Action.DEPLOY, job_id, actor)
            if not decision.allowed:
                await self._checks.record_refusal(Action.DEPLOY, job_id, actor, decision.reason)
                return Refused(decision.reason or "You may not deploy this job's checkpoints.")
            model = request.target
        else:
            job_id = request.target
            job = await self._services.api.retrieve_job(job_id)
            if job.status != "succeeded" or not job.fine_tuned_model:
                return NotAvailable(
                    f"`{job_id}` is {job.status}: only a succeeded job has a model to deploy. A paused or "
                    f"finished job's checkpoints can be deployed: `{self.command} checkpoints {job_id}`."
                )
            model = job.fine_tuned_model
        name = request.name or default_name(request.target)
        sku = SKUS[request.sku]
        async with self._audit.around(Action.DEPLOY, actor, job_id) as note:
            try:
                deployment = await self._client().put(name, model=model, sku=sku, capacity=request.capacity)
            except APIStatusError as error:
                note.result = f"refused by Azure: {error.message} ({error.code or error.status_code})"
                return DeployRefusedByAzure(job_id, name, error)
            note.result = f"deploying {model} as {name} ({deployment.state})"
        in_thread = await self._thread_of(job_id, actor) is not None
        self._follow(name, job_id, actor, deployment)
        return DeployAsked(name, model, job_id, deployment.state, sku, request.capacity, in_thread)

    async def _checkpoint_job(self, checkpoint_id: str, actor: Actor) -> str | None:
        """The job, among those this channel follows, that made `checkpoint_id`."""
        for tracked in await self._services.store.channel_jobs(actor.channel, limit=MAX_CHECKPOINT_JOBS):
            page = await self._services.api.list_checkpoints(tracked.job_id, limit=10)
            if any(checkpoint.id == checkpoint_id for checkpoint in page.data):
                return tracked.job_id
        return None

    def _follow(self, name: str, job_id: str, actor: Actor, first: Deployment) -> None:
        task = asyncio.ensure_future(self._until_settled(name, job_id, actor, first))
        self._following.add(task)
        task.add_done_callback(self._following.discard)

    async def _until_settled(
        self, name: str, job_id: str, actor: Actor, deployment: Deployment | None
    ) -> None:
        delay = FOLLOW_FIRST_DELAY
        waited = 0.0
        problem: str | None = None
        while deployment is None or not deployment.settled:
            if waited >= FOLLOW_GIVE_UP_AFTER:
                problem = "still not ready after an hour; `deployments` shows where it stands"
                break
            await asyncio.sleep(delay)
            waited += delay
            delay = min(delay * 2, FOLLOW_MAX_DELAY)
            try:
                deployment = await self._client().get(name)
            except FineTuneError as error:
                log.warning("could not read deployment %s: %s", name, error)
                continue
            if deployment is None:
                problem = "it was deleted before it was ready"
                break
        result = problem or (deployment.state if deployment else "gone")
        if deployment is not None and deployment.state == "Failed":
            result = f"failed: {deployment.failure or 'no reason given'}"
        await self._audit.write(
            Action.DEPLOY, actor, job_id, allowed=True, result=f"deployment {name}: {result}"
        )
        thread = await self._thread_of(job_id, actor)
        if thread is not None and self.on_settled is not None:
            channel, ts = thread
            outcome = self.on_settled(channel, ts, deployment, problem)
            if asyncio.iscoroutine(outcome):
                await outcome

    async def _thread_of(self, job_id: str, actor: Actor) -> tuple[str, str] | None:
        """The job's card in the asking channel (else in its own channel): where its thread is."""
        store = self._services.store
        watch = await store.get_watch(job_id, actor.channel)
        if watch is None or watch.card_ts is None:
            tracked = await store.get_job(job_id)
            watch = await store.get_watch(job_id, tracked.owner_channel) if tracked else None
        if watch is None or watch.card_ts is None:
            return None
        return watch.channel, watch.card_ts

    # ---- deployments, undeploy ------------------------------------------------------------------------

    async def deployments(self) -> DeploymentsShown | NotAvailable:
        unavailable = self._unavailable()
        if unavailable is not None:
            return unavailable
        found = [d for d in await self._client().list() if is_fine_tuned(d.model)]
        return DeploymentsShown(found, self._client().account.account, self._services.clock())

    async def ask_undeploy(self, name: str) -> UndeployAsked | NotAvailable:
        unavailable = self._unavailable()
        if unavailable is not None:
            return unavailable
        return UndeployAsked(name, await self._client().get(name))

    async def undeploy(self, name: str, actor: Actor) -> Undeployed | Refused | NotAvailable:
        """Delete a deployment (after the confirm). Admins, or whoever may deploy the job that made its model."""
        unavailable = self._unavailable()
        if unavailable is not None:
            return unavailable
        deployment = await self._client().get(name)
        if deployment is None:
            return Undeployed(name, existed=False)
        job_id = await self._job_of_model(deployment.model, actor)
        decision = await self._checks.authorize(Action.DEPLOY, job_id, actor)
        if not decision.allowed:
            await self._checks.record_refusal(Action.UNDEPLOY, job_id, actor, decision.reason)
            return Refused(decision.reason or "You may not delete this deployment.")
        async with self._audit.around(Action.UNDEPLOY, actor, job_id) as note:
            existed = await self._client().delete(name)
            note.result = (
                f"deleted deployment {name} ({deployment.model})" if existed else f"{name} was already gone"
            )
        return Undeployed(name, existed)

    async def _job_of_model(self, model: str, actor: Actor) -> str | None:
        """The job this channel follows whose fine-tuned model (or checkpoint) `model` is."""
        if model.startswith("ftchkpt-"):
            return await self._checkpoint_job(model, actor)
        for tracked in await self._services.store.channel_jobs(actor.channel, limit=MAX_CHECKPOINT_JOBS):
            if tracked.snapshot.get("fine_tuned_model") == model:
                return tracked.job_id
        return None

    # ---- try ----------------------------------------------------------------------------------------

    async def try_model(self, request: TryModel, actor: Actor) -> TryAnswers | NotAvailable:
        api = self._services.api
        job = await api.retrieve_job(request.job_id)
        if job.status != "succeeded" or not job.fine_tuned_model:
            return NotAvailable(f"`{job.id}` is {job.status}: only a succeeded job has a model to try.")
        tuned_target = await self._tuned_target(job)
        if isinstance(tuned_target, NotAvailable):
            return tuned_target
        async with self._audit.around(Action.TRY, actor, job.id) as note:
            tuned, base = await asyncio.gather(
                self._answer(tuned_target, request.prompt), self._answer(job.model, request.prompt)
            )
            note.result = (
                "answered by both models"
                if isinstance(tuned, str) and isinstance(base, str)
                else ("not every model answered")
            )
        thread = await self._thread_of(job.id, actor)
        return TryAnswers(
            job.id, request.prompt, job.fine_tuned_model, job.model, tuned, base, thread is not None
        )

    async def _tuned_target(self, job: FineTuningJob) -> str | NotAvailable:
        """What to call for the fine-tuned model: itself on OpenAI, its deployment's name on Azure."""
        assert job.fine_tuned_model is not None
        if self._services.provider != "azure":
            return job.fine_tuned_model
        unavailable = self._unavailable()
        if unavailable is not None:
            return unavailable
        ready = [
            d
            for d in await self._client().list()
            if d.model == job.fine_tuned_model and d.state == "Succeeded"
        ]
        if not ready:
            return NotAvailable(
                f"`{job.id}`'s model is not deployed yet: on Azure a model answers only once deployed. "
                f"`{self.command} deploy {job.id}` deploys it (the Deploy button on its card does too)."
            )
        return ready[0].name

    async def _answer(self, model: str, prompt: str) -> str | FineTuneError:
        try:
            return await self._services.api.chat(model, prompt)
        except FineTuneError as error:
            return error

    async def thread_of(self, job_id: str, actor: Actor) -> tuple[str, str] | None:
        """(channel, card ts) of the job's card: where its thread is, for the notes about it."""
        return await self._thread_of(job_id, actor)
