"""A create as a durable intent: recorded before the API call, tagged on the job, finished exactly once.

The intent id travels in the job's metadata (`tuneops_intent`), so when the process dies or the database
fails between the API's answer and the tracking, a later watcher cycle (or the next start) finds the job
in the API's list by that tag and does the rest: track, card, audit. Nothing billed goes untracked.
"""

from __future__ import annotations

import dataclasses
import logging
import secrets

from bot.finetune.spec import MAX_METADATA_PAIRS, JobSpec

log = logging.getLogger(__name__)

INTENT_METADATA_KEY = "tuneops_intent"
# An open intent whose job never shows up in the list this long after is closed: no job came of it.
GIVE_UP_AFTER = 24 * 3600.0


class DatabaseFailing(Exception):
    """Storage failed; `str(self)` says in plain words what happened (at the API, too, when it answered)."""


def new_intent_id() -> str:
    return "ti_" + secrets.token_hex(8)


def with_intent(spec: JobSpec, intent_id: str) -> JobSpec:
    """The spec tagged with the intent id; the tag goes first, typed-in pairs make room for it."""
    metadata = {key: value for key, value in spec.metadata.items() if key != INTENT_METADATA_KEY}
    kept = dict(list(metadata.items())[: MAX_METADATA_PAIRS - 1])
    return dataclasses.replace(spec, metadata={INTENT_METADATA_KEY: intent_id, **kept})


def not_recorded(done: str, error: BaseException) -> DatabaseFailing:
    return DatabaseFailing(f"{done}, but I could not record it: the database is failing ({error}).")


def no_record(error: BaseException) -> DatabaseFailing:
    return DatabaseFailing(
        f"The database is failing ({error}), so I did not start the job (nothing was sent to the "
        "fine-tuning API). Please tell whoever runs TuneOps."
    )
