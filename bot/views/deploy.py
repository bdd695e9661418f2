"""Words and blocks for deploying, listing and deleting Azure deployments, and for trying a model."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.finetune.entra import MANAGEMENT_SCOPE
from bot.finetune.errors import APIStatusError, FineTuneError
from bot.finetune.management import Deployment
from bot.jobs.deploy import (
    IDLE_WARNING_DAYS,
    DeployAsked,
    DeploymentsShown,
    DeployRefusedByAzure,
    NotAvailable,
    Refused,
    TryAnswers,
    UndeployAsked,
    Undeployed,
    created_at,
)
from bot.mrkdwn import code, escape
from bot.views.errors import error_message, refusal_message
from bot.views.format import relative, truncate
from bot.views.message import SlackMessage, fit

ACTION_UNDEPLOY = "deployment_undeploy"
ANSWER_LIMIT = 1900  # a section field holds 2,000 characters


def _text(text: str) -> SlackMessage:
    return fit(text, [SectionBlock(text=MarkdownTextObject(text=text))])


# ---- deploy ------------------------------------------------------------------------------------------


def not_available_message(outcome: NotAvailable) -> SlackMessage:
    return error_message(outcome.reason)


def deploy_answer(outcome: DeployAsked | DeployRefusedByAzure | NotAvailable | Refused) -> SlackMessage:
    if isinstance(outcome, NotAvailable):
        return not_available_message(outcome)
    if isinstance(outcome, Refused):
        return refusal_message(outcome.reason)
    if isinstance(outcome, DeployRefusedByAzure):
        return deploy_refused_message(outcome)
    where = (
        "I'll say in the job's thread when it is ready."
        if outcome.in_thread
        else ("`deployments` shows when it is ready.")
    )
    return _text(
        f"🚀 Deploying {code(outcome.model)} as {code(outcome.name)} ({outcome.sku} × {outcome.capacity}): "
        f"Azure says {code(outcome.state)}. {where}"
    )


def _refusal_words(error: APIStatusError) -> str:
    code_said = (error.code or "").lower()
    if error.status_code == 401:
        return (
            f"Azure refused TuneOps' Microsoft Entra ID token for deployments ({MANAGEMENT_SCOPE}). Check the "
            "identity TuneOps signs in with, and AZURE_MANAGEMENT_URL."
        )
    if error.status_code == 403:
        return (
            "TuneOps' identity may not create deployments on this resource: grant it "
            '"Cognitive Services Contributor" (or Owner) on the Azure OpenAI / AI Foundry resource.'
        )
    if "quota" in code_said or error.status_code == 409:
        return (
            "The resource has no room for another deployment (five deployments of fine-tuned models by "
            "default, and the SKU's quota): delete one with `undeploy <name>`, or ask Azure for more quota."
        )
    if error.status_code == 404:
        return (
            "Azure doesn't know that resource: check AZURE_SUBSCRIPTION_ID, AZURE_RESOURCE_GROUP and "
            "AZURE_OPENAI_RESOURCE."
        )
    if "model" in code_said:
        return "Azure won't deploy that model: it must be a succeeded job's model or one of its checkpoints."
    return "Azure refused the deployment."


def deploy_refused_message(outcome: DeployRefusedByAzure) -> SlackMessage:
    error = outcome.error
    said = f"{error.message} ({error.code or f'HTTP {error.status_code}'})"
    return error_message(
        f"I couldn't deploy {code(outcome.job_id)} as {code(outcome.name)}. {_refusal_words(error)}",
        detail=said,
    )


def deploy_settled_note(name: str, deployment: Deployment | None, problem: str | None) -> SlackMessage:
    """The job's thread hears how its deployment ended."""
    if deployment is not None and deployment.state == "Succeeded":
        return _text(
            f"🚀 Deployed as {code(name)} ({code(deployment.model)}, {deployment.sku.name} × "
            f"{deployment.sku.capacity or 1}). Azure bills it by the hour while it stays deployed."
        )
    reason = problem or (deployment.failure if deployment else None) or "Azure gave no reason"
    state = deployment.state if deployment else "gone"
    return error_message(f"The deployment {code(name)} did not become ready ({state}).", detail=reason)


# ---- deployments, undeploy -----------------------------------------------------------------------------


def deployments_message(shown: DeploymentsShown) -> SlackMessage:
    if not shown.deployments:
        return _text(f"No fine-tuned model is deployed on {code(shown.account)}.")
    lines = [f"*Deployments of fine-tuned models on {code(shown.account)}*"]
    idle = 0
    for deployment in shown.deployments:
        made = created_at(deployment)
        age = f", deployed {relative(made, shown.now)}" if made is not None else ""
        line = (
            f"• {code(deployment.name)}: {code(deployment.model)} — {deployment.state} "
            f"({deployment.sku.name} × {deployment.sku.capacity or 1}{age})"
        )
        if made is not None and shown.now - made >= IDLE_WARNING_DAYS * 86400:
            line += " ⚠️"
            idle += 1
        lines.append(line)
    blocks: list[SectionBlock | ContextBlock] = [SectionBlock(text=MarkdownTextObject(text="\n".join(lines)))]
    if idle:
        warning = (
            f"⚠️ {idle} deployment{'s have' if idle != 1 else ' has'} been up for {IDLE_WARNING_DAYS} days or "
            "more. Azure bills hosting every hour, and deletes a fine-tuned deployment after 15 days without "
            "calls: `undeploy <name>` one that is not used."
        )
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=warning)]))
    return fit("\n".join(lines), blocks)


def undeploy_confirm_message(asked: UndeployAsked) -> SlackMessage:
    if asked.deployment is None:
        return error_message(f"There is no deployment {code(asked.name)}: `deployments` lists them.")
    deployment = asked.deployment
    text = f"Delete the deployment {code(deployment.name)} ({code(deployment.model)}, {deployment.state})?"
    button = ButtonElement(
        text="Delete deployment",
        action_id=ACTION_UNDEPLOY,
        value=truncate(deployment.name, 200),
        style="danger",
        confirm=ConfirmObject(
            title="Delete this deployment?",
            text=MarkdownTextObject(
                text=f"{code(truncate(deployment.name, 100))} stops answering at once; the model itself stays."
            ),
            confirm="Delete",
            deny="Keep it",
            style="danger",
        ),
    )
    return fit(text, [SectionBlock(text=MarkdownTextObject(text=text)), ActionsBlock(elements=[button])])


def undeployed_message(outcome: Undeployed | Refused | NotAvailable) -> SlackMessage:
    if isinstance(outcome, NotAvailable):
        return not_available_message(outcome)
    if isinstance(outcome, Refused):
        return refusal_message(outcome.reason)
    if not outcome.existed:
        return _text(f"There was no deployment {code(outcome.name)} any more: nothing to delete.")
    return _text(f"🗑️ Deleted the deployment {code(outcome.name)}; it no longer answers or costs anything.")


# ---- try -----------------------------------------------------------------------------------------------


def _column(title: str, model: str, answer: str | FineTuneError) -> MarkdownTextObject:
    if isinstance(answer, FineTuneError):
        body = f"⚠️ no answer: {escape(str(answer))}"
    else:
        body = escape(answer) or "_(an empty answer)_"
    return MarkdownTextObject(text=truncate(f"*{title}* {code(model)}\n{body}", ANSWER_LIMIT))


def try_message(answers: TryAnswers) -> SlackMessage:
    """Both answers side by side: the fine-tuned model on the left, its base model on the right."""
    prompt = truncate(escape(answers.prompt), 2500)
    blocks = [
        SectionBlock(text=MarkdownTextObject(text=f"🧪 *Try* {code(answers.job_id)}: “{prompt}”")),
        SectionBlock(
            fields=[
                _column("Fine-tuned", answers.tuned_model, answers.tuned),
                _column("Base", answers.base_model, answers.base),
            ]
        ),
    ]
    fallback = f"Try {answers.job_id}: fine-tuned and base model answers to “{answers.prompt}”"
    return fit(fallback, blocks)


def try_posted_answer(answers: TryAnswers) -> SlackMessage:
    return _text(f"🧪 Both answers are in {code(answers.job_id)}'s thread.")
