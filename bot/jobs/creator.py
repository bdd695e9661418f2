"""Who started a job, carried in the job's own metadata.

Jobs started from Slack carry the creator's Slack user id, so `list all mine` can ask the API for them, and
a job adopted with `watch` after its tracking was lost (a new database, another install) still knows who
may pause, resume and cancel it.
"""

from __future__ import annotations

import dataclasses
import re

from bot.finetune.models import FineTuningJob
from bot.finetune.spec import MAX_METADATA_PAIRS, JobSpec

CREATOR_METADATA_KEY = "tuneops_creator"
SLACK_USER_ID = re.compile(r"^[UW][A-Z0-9_]{1,30}$")


def with_creator(spec: JobSpec, user: str) -> JobSpec:
    """The spec with the creator's Slack id in its metadata (replacing one typed in), when there is room."""
    metadata = {key: value for key, value in spec.metadata.items() if key != CREATOR_METADATA_KEY}
    if len(metadata) >= MAX_METADATA_PAIRS:
        return dataclasses.replace(spec, metadata=metadata)
    return dataclasses.replace(spec, metadata={**metadata, CREATOR_METADATA_KEY: user})


def creator_from_metadata(job: FineTuningJob) -> str | None:
    creator = (job.metadata or {}).get(CREATOR_METADATA_KEY)
    return creator if creator and SLACK_USER_ID.match(creator) else None
