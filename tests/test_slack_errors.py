"""What the error boundary tells the person for each kind of failure (the running app's paths are in
test_slack_requests.py; here every typed error, including those the parser normally catches first)."""

from __future__ import annotations

import re

import httpx
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.finetune.errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    ConflictError,
    InternalServerError,
    InvalidJobSpecError,
    RateLimitError,
    UnexpectedResponseError,
)
from bot.finetune.http_errors import connection_error
from bot.jobs.actions import Action
from bot.jobs.grammar import CommandError
from handlers.context import Intent
from handlers.errors import PermissionRefused, explain
from tests.support.runtime import texts_of


def _said(error: Exception, intent: Intent | None = None) -> tuple[str, str, str | None]:
    explanation = explain(error, intent=intent, command="/finetune")
    message = explanation.message
    return (
        texts_of([{"text": message.text, "blocks": message.blocks}]),
        explanation.outcome,
        explanation.reference,
    )


def test_bad_command_text_with_usage() -> None:
    text, outcome, _ = _said(CommandError("I don't know `stats`. Did you mean `status`?", usage=True))
    assert outcome == "bad_input"
    assert "Did you mean `status`?" in text and "How to use `/finetune`" in text


def test_every_problem_of_a_job_request() -> None:
    error = InvalidJobSpecError(
        [("suffix", "on Azure must be 1–40 characters"), ("seed", "must be a whole number")]
    )
    text, outcome, _ = _said(error, Intent(Action.CREATE))
    assert outcome == "bad_input"
    assert "2 things to fix" in text and "`suffix` on Azure" in text and "`seed` must be" in text


def test_a_long_list_of_problems_is_cut_at_ten() -> None:
    error = InvalidJobSpecError([(f"field{n}", "is wrong") for n in range(25)])
    text, _, _ = _said(error, Intent(Action.CREATE))
    assert "25 things to fix" in text and "`field9` is wrong" in text and "field10" not in text
    assert "…and 15 more" in text


def test_the_apis_own_words_and_code() -> None:
    error = ConflictError(
        "Job ftjob-1 is paused and cannot be paused.", status_code=409, code="invalid_job_state"
    )
    text, outcome, _ = _said(error, Intent(Action.PAUSE, "ftjob-1"))
    assert outcome == "api_error"
    assert "refused to pause `ftjob-1`" in text
    assert "Job ftjob-1 is paused and cannot be paused. (invalid_job_state)" in text


def test_an_api_error_without_a_code_names_the_http_status() -> None:
    text, _, _ = _said(ConflictError("Busy.", status_code=409), Intent(Action.CANCEL, "ftjob-1"))
    assert "Busy. (HTTP 409)" in text


def test_an_unreachable_or_slow_api() -> None:
    text, outcome, _ = _said(APITimeoutError(), Intent(Action.STATUS, "ftjob-1"))
    assert outcome == "api_unreachable"
    assert "couldn't reach the fine-tuning API" in text and "did not answer in time" in text


def test_an_unreadable_api_answer() -> None:
    text, outcome, _ = _said(UnexpectedResponseError("the fine-tuning API sent an unreadable FineTuningJob"))
    assert outcome == "api_error" and "unreadable FineTuningJob" in text


def test_a_refusal() -> None:
    text, outcome, _ = _said(
        PermissionRefused("Only <@U1>, who started `ftjob-1`, or an admin can pause it.")
    )
    assert outcome == "refused" and text.startswith("🔒 Only <@U1>")


def test_slack_refusing_a_call() -> None:
    response = AsyncSlackResponse(
        client=AsyncWebClient(),
        http_verb="POST",
        api_url="https://slack.com/api/views.open",
        req_args={},
        data={"ok": False, "error": "expired_trigger_id"},
        headers={},
        status_code=200,
    )
    # slack_sdk leaves SlackApiError's constructor unannotated.
    error = SlackApiError("views.open failed", response)  # type: ignore[no-untyped-call]
    text, outcome, _ = _said(error)
    assert outcome == "slack_error" and "expired_trigger_id" in text
    assert "Slack refused my request" in text


def test_slack_failing_on_a_call() -> None:
    response = AsyncSlackResponse(
        client=AsyncWebClient(),
        http_verb="POST",
        api_url="https://slack.com/api/views.open",
        req_args={},
        data={"ok": False, "error": "internal_error"},
        headers={},
        status_code=500,
    )
    # slack_sdk leaves SlackApiError's constructor unannotated.
    error = SlackApiError("views.open failed", response)  # type: ignore[no-untyped-call]
    text, outcome, _ = _said(error)
    assert outcome == "slack_error" and "Slack failed on my request (`internal_error`)" in text


def test_a_surprise_gets_a_reference_and_no_details() -> None:
    text, outcome, reference = _said(KeyError("secret internals"))
    assert outcome == "unexpected"
    assert reference is not None and re.fullmatch(r"E-[0-9A-F]{6}", reference)
    assert reference in text and "secret internals" not in text
    assert _said(KeyError("again"))[2] != reference


SERVER_ERROR = InternalServerError(
    "The server had an error while processing your request. Sorry about that!", status_code=500
)
MAY_HAVE_STARTED = (
    "failed while starting the job; it may have started anyway — check `/finetune list all mine` before "
    "trying again"
)


def test_a_create_that_failed_on_the_server_may_have_started_the_job() -> None:
    text, outcome, _ = _said(SERVER_ERROR, Intent(Action.CREATE))
    assert outcome == "api_error"
    assert MAY_HAVE_STARTED in text and "refused" not in text
    assert "The server had an error" in text


def test_a_create_without_an_answer_may_have_started_the_job() -> None:
    for lost in (APITimeoutError(), APIConnectionError("the connection failed", request_sent=True)):
        text, outcome, _ = _said(lost, Intent(Action.CREATE))
        assert outcome == "api_unreachable"
        assert MAY_HAVE_STARTED in text and "nothing was done" not in text


def test_a_create_that_never_left_did_nothing() -> None:
    text, _, _ = _said(APIConnectionError("could not reach it", request_sent=False), Intent(Action.CREATE))
    assert "couldn't reach the fine-tuning API, so nothing was done" in text
    assert "may have started" not in text


def test_the_client_says_whether_a_failed_request_may_have_arrived() -> None:
    request = httpx.Request("POST", "https://api.example/v1/fine_tuning/jobs")
    never_left = [
        httpx.ConnectError("refused", request=request),
        httpx.ConnectTimeout("slow", request=request),
    ]
    may_have_arrived = [
        httpx.ReadTimeout("slow", request=request),
        httpx.RemoteProtocolError("closed", request=request),
    ]
    assert [connection_error(exc, "api.example").request_sent for exc in never_left] == [False, False]
    assert [connection_error(exc, "api.example").request_sent for exc in may_have_arrived] == [True, True]


def test_server_errors_and_rate_limits_failed_only_4xx_refused() -> None:
    limited = RateLimitError("Rate limit reached for requests.", status_code=429, code="rate_limit_exceeded")
    text, _, _ = _said(limited, Intent(Action.CREATE))
    assert "The fine-tuning API failed to start the job:" in text
    assert "may have started" not in text  # a 429 started nothing
    assert "refused" not in text and "Try again in a minute." in text
    text, _, _ = _said(SERVER_ERROR, Intent(Action.STATUS, "ftjob-1"))
    assert "The fine-tuning API failed to show `ftjob-1`:" in text and "refused" not in text
    text, _, _ = _said(SERVER_ERROR, Intent(Action.PAUSE, "ftjob-1"))
    assert "failed to pause `ftjob-1`" in text
    assert "may have happened anyway: `/finetune status ftjob-1` shows where it stands" in text


def test_the_daily_limit_is_not_told_to_try_again_in_a_minute() -> None:
    daily = RateLimitError(
        "Your organization has reached the maximum of fine-tuning requests per day for this model.",
        status_code=429,
        code="daily_rate_limit_exceeded",
    )
    text, _, _ = _said(daily, Intent(Action.CREATE))
    assert "failed to start the job" in text and "per day" in text
    assert "Try again in a minute" not in text and "may have started" not in text


def test_an_api_timeout_status_is_a_failure_that_may_have_done_it() -> None:
    timed_out = APIStatusError("Request timed out.", status_code=408)
    text, _, _ = _said(timed_out, Intent(Action.CREATE))
    assert MAY_HAVE_STARTED in text
    text, _, _ = _said(timed_out, Intent(Action.CANCEL, "ftjob-1"))
    assert "failed to cancel `ftjob-1`" in text and "may have happened anyway" in text


def test_a_pause_without_an_answer_may_have_happened() -> None:
    text, _, _ = _said(APITimeoutError(), Intent(Action.PAUSE, "ftjob-1"))
    assert "didn't answer when I asked it to pause `ftjob-1`; it may have done it anyway" in text
    assert "nothing was done" not in text


def test_the_plain_text_fallback_reads_as_one_sentence() -> None:
    explanation = explain(
        ConflictError("Job ftjob-1 is paused.", status_code=409, code="invalid_job_state"),
        intent=Intent(Action.PAUSE, "ftjob-1"),
        command="/finetune",
    )
    assert explanation.message.text == (
        "⚠️ The fine-tuning API refused to pause `ftjob-1`: Job ftjob-1 is paused. (invalid_job_state)"
    )
