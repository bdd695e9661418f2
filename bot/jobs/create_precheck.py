"""What the API can tell about a create before it is sent: does the model exist, do the files?

The create form asks this before its ack, so a model or file id that does not exist is shown under its
field and the modal stays open with everything typed. Slack closes a modal whose submission is not
answered within 3 seconds, so the questions are asked at once and given `PRECHECK_SECONDS` in all; a
question not answered by then, or answered with anything but "no such thing", is left to the create
itself (which quotes the API's words, and offers the form again).
"""

from __future__ import annotations

import asyncio
import logging

from bot.finetune.client import FineTuneClient
from bot.finetune.errors import APIStatusError, FineTuneError
from bot.finetune.spec import JobSpec

log = logging.getLogger(__name__)

PRECHECK_SECONDS = 1.2
FINE_TUNE_PURPOSES = frozenset({"fine-tune"})


async def _model_problem(api: FineTuneClient, model: str) -> str | None:
    try:
        await api.retrieve_model(model)
    except APIStatusError as error:
        if error.status_code == 404:
            return f"The fine-tuning API says: {error.message}"
    return None


async def _file_problem(api: FineTuneClient, file_id: str) -> str | None:
    try:
        found = await api.retrieve_file(file_id)
    except APIStatusError as error:
        if error.status_code == 404:
            return f"The fine-tuning API says: {error.message}"
        return None
    if found.purpose and found.purpose not in FINE_TUNE_PURPOSES:
        return f"{file_id} was uploaded for '{found.purpose}'; fine-tuning needs a file uploaded for 'fine-tune'."
    return None


async def problems_before_create(
    api: FineTuneClient, spec: JobSpec, *, within: float = PRECHECK_SECONDS
) -> dict[str, str]:
    """`{spec field: plain words}` for a model or file the API says does not exist; {} when all is well,
    or when the API did not say in time."""
    questions: dict[str, asyncio.Task[str | None]] = {
        "model": asyncio.ensure_future(_model_problem(api, spec.model)),
        "training_file": asyncio.ensure_future(_file_problem(api, spec.training_file)),
    }
    if spec.validation_file:
        questions["validation_file"] = asyncio.ensure_future(_file_problem(api, spec.validation_file))
    done, late = await asyncio.wait(questions.values(), timeout=within)
    for task in late:
        task.cancel()
    if late:
        log.info(
            "create pre-check: %d question(s) not answered in %.1fs; the create will tell", len(late), within
        )
    problems: dict[str, str] = {}
    for field, task in questions.items():
        if task not in done or task.cancelled():
            continue
        error = task.exception()
        if error is not None:
            if not isinstance(error, FineTuneError):
                raise error
            continue  # unreachable or odd: the create itself will say
        answer = task.result()
        if answer:
            problems[field] = answer
    return problems
