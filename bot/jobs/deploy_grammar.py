"""`deploy`, `deployments`, `undeploy` and `try` text → their commands (see `bot.jobs.after_training`)."""

from __future__ import annotations

import re

from bot.finetune.management import SKUS
from bot.jobs.after_training import (
    CHECKPOINT_PREFIX,
    DEFAULT_CAPACITY,
    DEFAULT_SKU,
    AfterTrainingCommand,
    DeployModel,
    ListDeployments,
    TryModel,
    Undeploy,
)
from bot.jobs.grammar import EXAMPLE_JOB_ID, CommandError, looks_like_job_id
from bot.jobs.words import is_int, shown

AFTER_TRAINING_VERBS = ("deploy", "deployments", "undeploy", "try")
# Azure deployment names: letters, digits, `-`, `_` and `.`, 2 to 64 of them, starting with a letter or digit.
DEPLOYMENT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,63}$")
CHECKPOINT_ID = re.compile(r"^ftchkpt-[A-Za-z0-9_-]{1,128}$")
MAX_CAPACITY = 1000
MAX_PROMPT = 4000


def parse_after_training(verb: str, args: list[str], *, command: str) -> AfterTrainingCommand:
    if verb == "deployments":
        if args:
            raise CommandError(
                f"`deployments` takes nothing; I don't know what to do with {shown(' '.join(args))}."
            )
        return ListDeployments()
    if verb == "undeploy":
        if len(args) != 1 or not DEPLOYMENT_NAME.match(args[0].strip("`")):
            raise CommandError(
                f"`undeploy` needs one deployment name, e.g. `{command} undeploy tuneops-abc123`."
            )
        return Undeploy(args[0].strip("`"))
    if verb == "try":
        return _try(args, command=command)
    return _deploy(args, command=command)


def _try(args: list[str], *, command: str) -> TryModel:
    example = f"`{command} try {EXAMPLE_JOB_ID} What is our refund policy?`"
    if not args or not looks_like_job_id(args[0].strip("`")):
        raise CommandError(f"`try` needs a job id and then a prompt, e.g. {example}.")
    prompt = " ".join(args[1:]).strip()
    if not prompt:
        raise CommandError(f"`try` needs a prompt after the job id, e.g. {example}.")
    if len(prompt) > MAX_PROMPT:
        raise CommandError(f"The prompt is {len(prompt)} characters long; keep it under {MAX_PROMPT}.")
    return TryModel(args[0].strip("`"), prompt)


def _deploy(args: list[str], *, command: str) -> DeployModel:
    example = f"`{command} deploy {EXAMPLE_JOB_ID} name=support-bot sku=standard capacity=1`"
    target = args[0].strip("`") if args else ""
    if not (looks_like_job_id(target) or CHECKPOINT_ID.match(target)):
        what = f"{shown(args[0])} is neither" if args else "`deploy` needs"
        raise CommandError(
            f"{what} a job id (`ftjob-…`) or a checkpoint id (`{CHECKPOINT_PREFIX}…`), e.g. {example}."
        )
    values: dict[str, str] = {}
    problems: list[str] = []
    for arg in args[1:]:
        key, equals, value = arg.partition("=")
        key = key.lower()
        if not equals or key not in ("name", "sku", "capacity"):
            problems.append(f"I don't know {shown(arg)}: `deploy` takes `name=`, `sku=` and `capacity=`.")
        elif key in values:
            problems.append(f"`{key}` is given twice.")
        else:
            values[key] = value
    name = values.get("name")
    if name is not None and not DEPLOYMENT_NAME.match(name):
        problems.append(
            f"The deployment name {shown(name)} must be 2–64 letters, digits, `-`, `_` or `.`, starting with "
            "a letter or digit."
        )
    sku = values.get("sku", DEFAULT_SKU).lower()
    if sku not in SKUS:
        problems.append(f"`sku` is one of {', '.join(f'`{s}`' for s in SKUS)}, not {shown(sku)}.")
    capacity = values.get("capacity", str(DEFAULT_CAPACITY))
    if not is_int(capacity) or not 1 <= int(capacity) <= MAX_CAPACITY:
        problems.append(f"`capacity` is a whole number from 1 to {MAX_CAPACITY}, not {shown(capacity)}.")
    if problems:
        raise CommandError(" ".join(problems) + f" E.g. {example}.")
    return DeployModel(target, name=name, sku=sku, capacity=int(capacity))
