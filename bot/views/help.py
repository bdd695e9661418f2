"""The usage text: every form of the command, one line of explanation and an example for each."""

from __future__ import annotations

from slack_sdk.models.blocks import HeaderBlock, MarkdownTextObject, PlainTextObject, SectionBlock

from bot.views.message import SlackMessage, fit

SECTION_CHARS = 2800

_ENTRIES: tuple[tuple[str, str, str | None], ...] = (
    ("help", "show this help", None),
    (
        "create model=<base> training_file=<file-id> [validation_file=<file-id>] [suffix=<text>] "
        "[seed=<n>] [epochs=<n|auto>] [batch_size=<n|auto>] [lr_multiplier=<x|auto>] "
        "[method=supervised|dpo] [beta=<x|auto>] [meta.<key>=<value> …]",
        "start a job; this channel owns it and gets its card. Quote values with spaces",
        'create model=gpt-4o-mini-2024-07-18 training_file=file-abc123 suffix="support bot" epochs=3',
    ),
    ("create", "open a form to fill in instead", None),
    (
        "upload",
        "attach a training file: TuneOps checks it, counts its tokens and estimates the cost, then "
        "Upload & start uploads it and opens the create form (sharing a .jsonl file in a channel I am in "
        "also gets it checked)",
        None,
    ),
    (
        "list [active|all] [mine]",
        "this channel's jobs; `active` only the unfinished ones; `all` every job of the account; "
        "`mine` only the ones you started",
        "list active mine",
    ),
    ("status <job-id>", "show you the job's current card (only you see it)", "status ftjob-abc123"),
    ("pause <job-id>", "pause a running job (its creator or an admin)", "pause ftjob-abc123"),
    ("resume <job-id>", "resume a paused job (its creator or an admin)", "resume ftjob-abc123"),
    ("cancel <job-id>", "stop a job for good (its creator or an admin)", "cancel ftjob-abc123"),
    ("events <job-id> [n]", "the latest n events, 10 unless you say (at most 50)", "events ftjob-abc123 20"),
    ("checkpoints <job-id>", "the checkpoints the job saved, with their losses", "checkpoints ftjob-abc123"),
    (
        "chart <job-id>",
        "post the loss curve in the thread of the job's card here (in the channel if it has none)",
        "chart ftjob-abc123",
    ),
    (
        "watch <job-id>",
        "follow a job started elsewhere (the dashboard, another channel) in this channel",
        "watch ftjob-abc123",
    ),
    ("unwatch <job-id>", "stop following a job in this channel", "unwatch ftjob-abc123"),
    (
        "subscribe [all] [suffix=<prefix>] [model=<base>] [meta.<key>=<value> …] [only=<status>,…]",
        "follow every new job that matches, wherever it is started (a pipeline, a notebook); "
        "`only` narrows which changes are told",
        "subscribe meta.team=search only=failed,succeeded",
    ),
    ("subscriptions", "this channel's subscriptions and settings", None),
    ("unsubscribe <n|all>", "remove a subscription (numbered by `subscriptions`)", "unsubscribe 1"),
    ("settings", "choose what this channel is told: thread, broadcasts, mentions, direct messages", None),
    (
        "audit [job-id] [n]",
        "the last entries of the audit log for this channel or a job; `audit all` every channel's (admins)",
        "audit ftjob-abc123 20",
    ),
    (
        "digest <HH:MM> [timezone] | digest off",
        "a daily summary for this channel at that local time: failures first, what finished (models, "
        "durations, cost) and what runs now; `digest` alone shows the setting",
        "digest 09:00 Europe/Paris",
    ),
    (
        "quiet <HH:MM>-<HH:MM> [timezone] | quiet off",
        "quiet hours here: routine changes wait and come as one summary when they end; failures still "
        "go out at once",
        "quiet 22:00-07:00 Europe/Paris",
    ),
    (
        "deploy <job-id|ftchkpt-…> [name=<deployment>] [sku=standard|globalstandard|developer] [capacity=<n>]",
        "Azure: deploy a succeeded job's model or a checkpoint; the job's thread hears when it is ready "
        "(its creator or an admin)",
        "deploy ftjob-abc123 name=support-bot",
    ),
    ("deployments", "Azure: the fine-tuned models deployed, and which have been up long (hourly cost)", None),
    ("undeploy <name>", "Azure: delete a deployment, after a confirm", "undeploy support-bot"),
    (
        "try <job-id> <prompt>",
        "ask the fine-tuned model and its base model; both answers side by side in the job's thread",
        "try ftjob-abc123 What is our refund policy?",
    ),
)


def usage_text(command: str = "/finetune", topic: str | None = None) -> str:
    """The whole grammar, or only the forms of one subcommand when `topic` names one (`help create`)."""
    entries = [entry for entry in _ENTRIES if topic and entry[0].split()[0] == topic.lower()] or list(
        _ENTRIES
    )
    lines = [f"*How to use `{command}`*"]
    for grammar, meaning, example in entries:
        line = f"• `{command} {grammar}` — {meaning}."
        lines.append(f"{line} E.g. `{command} {example}`" if example else line)
    lines.append("Buttons on a job card do the same: Pause, Resume, Cancel and Refresh.")
    lines.append("The app's Home tab shows your jobs and your channels' active ones, with their buttons.")
    return "\n".join(lines)


def help_message(command: str = "/finetune", topic: str | None = None) -> SlackMessage:
    blocks: list[HeaderBlock | SectionBlock] = [
        HeaderBlock(text=PlainTextObject(text="TuneOps: fine-tuning jobs from Slack"))
    ]
    # A section holds 3000 characters: the whole usage takes several, split between lines.
    chunk: list[str] = []
    for line in usage_text(command, topic).split("\n"):
        if chunk and sum(len(part) + 1 for part in chunk) + len(line) > SECTION_CHARS:
            blocks.append(SectionBlock(text=MarkdownTextObject(text="\n".join(chunk))))
            chunk = []
        chunk.append(line)
    blocks.append(SectionBlock(text=MarkdownTextObject(text="\n".join(chunk))))
    return fit(f"How to use {command}", blocks)
