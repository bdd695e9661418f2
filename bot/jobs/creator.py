"""Who started a job, carried in the job's own metadata.

Jobs started from Slack carry the creator's Slack user id, so `list all mine` can ask the API for them, and
a job adopted with `watch` after its tracking was lost (a new database, another install) still knows who
may pause, resume and cancel it.

Jobs started elsewhere (a pipeline, a notebook) name their person themselves: `slack_user=U…` (a Slack
user id) or `owner=<email>` (looked up in the workspace by email). That person then counts as the job's
creator: mentioned on its outcomes, allowed to pause, resume and cancel it. A job naming nobody stays
admin-only.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Awaitable, Callable

from bot.finetune.models import FineTuningJob
from bot.finetune.spec import MAX_METADATA_PAIRS, JobSpec

CREATOR_METADATA_KEY = "tuneops_creator"
SLACK_USER_METADATA_KEY = "slack_user"
OWNER_METADATA_KEY = "owner"
# Loose on purpose: Slack decides whether the address is a member's; this only keeps junk from being asked.
EMAIL = re.compile(r"^[^@\s<>]{1,64}@[^@\s<>]{1,255}$")
SLACK_USER_ID = re.compile(r"^[UW][A-Z0-9_]{1,30}$")


def with_creator(spec: JobSpec, user: str) -> JobSpec:
    """The spec with the creator's Slack id in its metadata (replacing one typed in), when there is room."""
    metadata = {key: value for key, value in spec.metadata.items() if key != CREATOR_METADATA_KEY}
    if len(metadata) >= MAX_METADATA_PAIRS:
        return dataclasses.replace(spec, metadata=metadata)
    return dataclasses.replace(spec, metadata={**metadata, CREATOR_METADATA_KEY: user})


def creator_from_metadata(job: FineTuningJob) -> str | None:
    """The Slack user id the job's metadata names: TuneOps' own tag first, then `slack_user`."""
    metadata = job.metadata or {}
    for key in (CREATOR_METADATA_KEY, SLACK_USER_METADATA_KEY):
        creator = metadata.get(key, "").strip()
        if creator and SLACK_USER_ID.match(creator):
            return creator
    return None


def owner_email(job: FineTuningJob) -> str | None:
    owner = (job.metadata or {}).get(OWNER_METADATA_KEY, "").strip()
    return owner if EMAIL.match(owner) else None


async def creator_of(job: FineTuningJob, by_email: Callable[[str], Awaitable[str | None]]) -> str | None:
    """Who started the job: a Slack id in its metadata, or the member whose email `owner` gives."""
    creator = creator_from_metadata(job)
    if creator is not None:
        return creator
    email = owner_email(job)
    return await by_email(email) if email is not None else None
