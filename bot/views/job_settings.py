"""Every setting of a job, compactly, for its card and `status`; and the job's page in the provider's dashboard.

What the job was given (a number of epochs, a seed, a validation file, `meta.*` pairs) is shown by name and
value on one line; settings left to the API's choice (`auto`, or not reported) are folded into one short
"auto: …" list rather than a line each. TuneOps's own bookkeeping keys in the metadata are not shown.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject, SectionBlock

from bot.finetune.models import FineTuningJob
from bot.mrkdwn import code, escape
from bot.views.format import truncate

# Metadata keys TuneOps writes itself (the create intent, the creator): bookkeeping, not settings.
OWN_METADATA_PREFIX = "tuneops_"
MAX_SETTINGS_TEXT = 2900  # a section's text is at most 3000 characters
# (hyperparameter, how the card names it); beta only exists for DPO.
HYPERPARAMETERS: tuple[tuple[str, str], ...] = (
    ("n_epochs", "epochs"),
    ("batch_size", "batch size"),
    ("learning_rate_multiplier", "LR multiplier"),
)
DPO_HYPERPARAMETERS: tuple[tuple[str, str], ...] = (("beta", "beta"),)
OPENAI_DASHBOARD = "https://platform.openai.com/finetune/{job_id}"
AZURE_DASHBOARD = "https://ai.azure.com/resource/fine-tuning"


def hyperparameter(job: FineTuningJob, name: str) -> Any:
    """A hyperparameter as the API reported it: under `method.<type>` first, the legacy top level else."""
    inner = (job.method or {}).get(job.method_type)
    if isinstance(inner, dict):
        hyper = inner.get("hyperparameters")
        if isinstance(hyper, dict) and hyper.get(name) is not None:
            return hyper[name]
    if job.hyperparameters is not None:
        return getattr(job.hyperparameters, name, None)
    return None


def _shown(value: Any) -> str:
    return code(truncate(str(value), 60))


def settings_text(job: FineTuningJob) -> str:
    """`*Settings* supervised · epochs `3` · seed `42`` and further lines for files, metadata and auto."""
    chosen = [escape(job.method_type)]
    auto: list[str] = []
    names = HYPERPARAMETERS + (DPO_HYPERPARAMETERS if job.method_type == "dpo" else ())
    for key, label in names:
        value = hyperparameter(job, key)
        if value is None or value == "auto":
            auto.append(label)
        else:
            chosen.append(f"{label} {_shown(value)}")
    if job.seed is not None:
        chosen.append(f"seed {_shown(job.seed)}")
    lines = ["*Settings* " + " · ".join(chosen)]
    if job.validation_file:
        lines.append(f"Validation file {code(truncate(job.validation_file, 100))}")
    pairs = [
        f"{code(truncate(key, 64))}={code(truncate(value, 100))}"
        for key, value in (job.metadata or {}).items()
        if not key.startswith(OWN_METADATA_PREFIX)
    ]
    if pairs:
        lines.append("Metadata " + " · ".join(pairs))
    if auto:
        lines.append(f"_auto: {', '.join(auto)}_")
    return truncate("\n".join(lines), MAX_SETTINGS_TEXT)


def dashboard_url(provider: str, job_id: str) -> str:
    """The job in the provider's web dashboard: OpenAI links the job itself; Azure AI Foundry's portal
    lists the resource's jobs on its fine-tuning page (its links need the resource's ids)."""
    if provider == "azure":
        return AZURE_DASHBOARD
    return OPENAI_DASHBOARD.format(job_id=quote(job_id, safe=""))


def dashboard_link(provider: str | None, job_id: str) -> str | None:
    if not provider:
        return None
    name = "Azure AI Foundry" if provider == "azure" else "the OpenAI dashboard"
    return f"<{dashboard_url(provider, job_id)}|Open in {name}>"


def settings_blocks(job: FineTuningJob, provider: str | None) -> list[Block]:
    """The card's settings section and, when the provider is known, the dashboard link under it."""
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=settings_text(job)))]
    link = dashboard_link(provider, job.id)
    if link:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=f"🔗 {link}")]))
    return blocks
