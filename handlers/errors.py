"""The one error boundary: every exception a listener or middleware raises becomes a private answer.

Typed errors (bad input, a refusal, the API's own error, an unreachable API) are explained in plain words;
anything else gets a short reference id in the reply and the full trace in the log under that id. A request
that fails before its ack is still acknowledged with HTTP 200 (the answer follows through response_url or
`chat.postEphemeral`), so Slack never shows the person a bare "dispatch_failed".
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.error import BoltUnhandledRequestError
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError

from bot.finetune.errors import APIConnectionError, APIStatusError, FineTuneError, InvalidJobSpecError
from bot.finetune.retry import DAILY_LIMIT_CODE
from bot.finetune.wind_down import is_wind_down_refusal
from bot.jobs.actions import CONTROL_ACTIONS, Action
from bot.jobs.actor import Actor
from bot.jobs.grammar import DEFAULT_COMMAND, CommandError
from bot.jobs.intents import DatabaseFailing
from bot.jobs.service import JobService
from bot.mrkdwn import code
from bot.ops.metrics import SLACK_REQUESTS
from bot.views import SlackMessage
from bot.views.errors import (
    api_error_message,
    api_unreachable_message,
    check_state_hint,
    command_error_message,
    error_message,
    invalid_spec_message,
    maybe_done_message,
    maybe_started_message,
    refusal_message,
    unexpected_error_message,
)
from bot.views.wind_down import wind_down_message
from handlers.context import Intent, actor_of, intent_of, request_kind, request_log_context
from handlers.followups import FollowUps, answer_privately
from storage.errors import JobNotTrackedError

log = logging.getLogger("tuneops.errors")

# How the API error names what was being done: "The fine-tuning API refused/failed to <verb> `ftjob-…`".
_API_VERBS: dict[Action, str] = {
    Action.CREATE: "start the job",
    Action.STATUS: "show",
    Action.WATCH: "find",
    Action.EVENTS: "list the events of",
    Action.CHECKPOINTS: "list the checkpoints of",
    Action.LIST: "list the jobs",
}


class PermissionRefused(Exception):
    """The policy said no; `reason` is already in plain words for the person and the audit log. The error
    boundary writes the refusal of `intent` to the audit log after the ack, never before it."""

    def __init__(self, reason: str, intent: Intent | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.intent = intent


def new_reference() -> str:
    """A short id to quote to whoever runs TuneOps, e.g. `E-3F9A1C`."""
    return "E-" + secrets.token_hex(3).upper()


@dataclass(frozen=True)
class Explanation:
    message: SlackMessage  # the private answer
    outcome: str  # the label the request is counted under in SLACK_REQUESTS
    reference: str | None = None  # for unexpected errors: quoted in the answer and the log


def explain(error: BaseException, *, intent: Intent | None, command: str) -> Explanation:
    """The private answer for `error`."""
    message, outcome = _answer(error, intent=intent, command=command)
    if outcome != "unexpected":
        return Explanation(message, outcome)
    reference = new_reference()
    return Explanation(unexpected_error_message(reference), outcome, reference)


def _answer(error: BaseException, *, intent: Intent | None, command: str) -> tuple[SlackMessage, str]:
    if isinstance(error, CommandError):
        return command_error_message(error, command=command), "bad_input"
    if isinstance(error, PermissionRefused):
        return refusal_message(error.reason), "refused"
    if isinstance(error, InvalidJobSpecError):
        return invalid_spec_message(error.problems), "bad_input"
    if isinstance(error, APIStatusError):
        return _api_status_answer(error, intent, command=command), "api_error"
    if isinstance(error, APIConnectionError):
        return _no_answer(error, intent, command=command), "api_unreachable"
    if isinstance(error, FineTuneError):
        return error_message(
            "The fine-tuning API answered in a way I didn't understand.", detail=str(error)
        ), ("api_error")
    if isinstance(error, DatabaseFailing):
        return error_message(str(error)), "storage_error"
    if isinstance(error, JobNotTrackedError):
        text = f"I don't follow {code(error.job_id)} yet. `{command} watch {error.job_id}` adopts it here."
        return error_message(text), "bad_input"
    if isinstance(error, SlackApiError):
        said = code(str(error.response.get("error")))
        failed = error.response.status_code >= 500 or error.response.status_code == 429
        text = f"Slack {'failed on' if failed else 'refused'} my request ({said}). Please try again."
        return error_message(text), "slack_error"
    if isinstance(error, BoltUnhandledRequestError):
        return error_message("I don't know what to do with that request."), "unhandled"
    return error_message("Something went wrong."), "unexpected"


def _api_status_answer(error: APIStatusError, intent: Intent | None, *, command: str) -> SlackMessage:
    """The API said no (a 4xx: "refused") or failed (a 5xx, a 408 timeout, a 429: "failed"), in its own
    words. After a 5xx or a 408 the request may have been carried out all the same (a create may have
    started the job); a 429 never was."""
    status = error.status_code
    said = f"{error.message} ({error.code or f'HTTP {status}'})"
    if is_wind_down_refusal(error):
        return wind_down_message(said)
    action = intent.action if intent else None
    job_id = intent.job_id if intent else None
    maybe_done = status >= 500 or status == 408
    if maybe_done and action == Action.CREATE:
        return maybe_started_message(said, command=command)
    refused = not maybe_done and status != 429
    then = None
    if maybe_done and action in CONTROL_ACTIONS and job_id:
        then = f"It may have happened anyway: {check_state_hint(job_id, command=command)}"
    elif not refused and error.code != DAILY_LIMIT_CODE:  # the daily limit does not clear in a minute
        then = "Try again in a minute."
    verb = _API_VERBS.get(action, action) if action else "do that"
    return api_error_message(verb, job_id, said, refused=refused, then=then)


def _no_answer(error: APIConnectionError, intent: Intent | None, *, command: str) -> SlackMessage:
    """No answer from the API. When the request may have reached it, a create or a pause may have happened."""
    action = intent.action if intent else None
    job_id = intent.job_id if intent else None
    if error.request_sent and action == Action.CREATE:
        return maybe_started_message(error.message, command=command)
    if error.request_sent and action in CONTROL_ACTIONS and job_id:
        return maybe_done_message(action, job_id, error.message, command=command)
    return api_unreachable_message(error.message)


class ErrorBoundary:
    """Registered as the app's `@app.error` handler, and entered by listeners for the work after their ack.

    Why listeners catch their own post-ack errors: Bolt's asyncio runner polls for the ack every 10 ms and,
    when a listener fails, resets the ack it recorded; a listener that acks and fails within those 10 ms
    therefore looks like one that never acked (a 3 s wait, then "unhandled request"). Errors raised after
    the ack are handed to this same boundary by `after_ack` instead of travelling through the runner.
    """

    def __init__(self, followups: FollowUps) -> None:
        self._followups = followups

    async def __call__(
        self, error: Exception, body: dict[str, Any], context: AsyncBoltContext, response: BoltResponse | None
    ) -> BoltResponse | None:
        jobs = context.get("jobs")
        command = jobs.command if isinstance(jobs, JobService) else DEFAULT_COMMAND
        intent = intent_of(context)
        explanation = explain(error, intent=intent, command=command)
        kind = str(context.get("request_kind") or request_kind(body))
        SLACK_REQUESTS.labels(kind, explanation.outcome).inc()
        with request_log_context(body, context):
            _log(error, explanation, kind=kind, intent=intent)
        if isinstance(error, BoltUnhandledRequestError) and kind not in ("command", "click", "form"):
            return None  # not a person's request (an event we don't subscribe to): keep Bolt's 404
        # Who asked and where: as the listener chain settled it (a Home tab click acts in the job's channel).
        known = context.get("actor")
        actor = known if isinstance(known, Actor) else actor_of(body)
        refused = error.intent if isinstance(error, PermissionRefused) else None
        if refused is not None and actor is not None and isinstance(jobs, JobService):
            audit = jobs.record_refusal(refused.action, refused.job_id, actor, str(error))
            self._followups.start(audit, name="audit-refusal")
        reply = answer_privately(
            explanation.message,
            respond=context.respond,
            client=context.client,
            channel=actor.channel if actor else None,
            user=actor.user if actor else None,
        )
        if response is None:  # the request was acknowledged already
            await reply
            return None
        # Before the ack: answer Slack now, and the person right after.
        self._followups.start(reply, name=f"error-answer-{explanation.outcome}")
        return BoltResponse(status=200, body="")

    @asynccontextmanager
    async def ack_then_work(
        self, ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext
    ) -> AsyncIterator[None]:
        """Ack the request at once (Slack gives 3 seconds from its arrival, so nothing slow may come before
        this), then run the block as follow-up work: shutdown waits for it (`FollowUps.adopt_current`), an
        error in it is explained to the person by this boundary (`after_ack`), and a block that finishes is
        counted as an `ok` request of its kind.

            async with boundary.ack_then_work(ack, body, context):
                ...  # the API call and the answer
        """
        await ack()
        self._followups.adopt_current()
        async with self.after_ack(body, context):
            yield
            kind = str(context.get("request_kind") or request_kind(body))
            SLACK_REQUESTS.labels(kind, "ok").inc()

    @asynccontextmanager
    async def after_ack(self, body: dict[str, Any], context: AsyncBoltContext) -> AsyncIterator[None]:
        """Run a listener's work after its ack: any error is explained to the person by this boundary.
        Lines logged meanwhile carry the request id, channel, user and job id."""
        try:
            with request_log_context(body, context):
                yield
        except Exception as error:
            await self(error, body, context, None)


def install_error_boundary(app: AsyncApp, followups: FollowUps) -> ErrorBoundary:
    boundary = ErrorBoundary(followups)

    async def explain_error(
        error: Exception, body: dict[str, Any], context: AsyncBoltContext, response: BoltResponse | None
    ) -> BoltResponse | None:
        return await boundary(error, body, context, response)

    app.error(explain_error)
    return boundary


def _log(error: Exception, explanation: Explanation, *, kind: str, intent: Intent | None) -> None:
    what = f"{kind} {intent.action if intent else ''}".strip()
    outcome = explanation.outcome
    if explanation.reference is not None:
        log.error("unexpected error handling %s (reference %s)", what, explanation.reference, exc_info=error)
    elif outcome in ("api_error", "api_unreachable", "slack_error", "unhandled"):
        log.warning("%s failed: %s: %s", what, type(error).__name__, error)
    else:
        log.info("%s not done (%s): %s", what, outcome, type(error).__name__)
