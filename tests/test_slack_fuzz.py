"""Random `/finetune` text thrown at the running bot: every request is acknowledged and answered, nothing
raises. Half the examples are random characters; half are near-misses of the real grammar (subcommands,
job ids, key=value pairs, quotes, Slack's escapes), which reach deeper into the parser and the job service."""

from __future__ import annotations

import logging

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.jobs.create_args import SPEC_KEYS
from bot.jobs.grammar import SUBCOMMANDS
from tests.support.runtime import BotRig

WORDS = st.sampled_from(
    [
        *SUBCOMMANDS,
        *SPEC_KEYS,
        "all",
        "mine",
        "active",
        "auto",
        "ftjob-abc",
        "ftjob-",
        "file-train-demo",
        "gpt-4o-mini-2024-07-18",
        "meta.team",
        "=",
        "&amp;",
        "&lt;script&gt;",
        "“quoted”",
        "'",
        '"',
        "`ftjob-x`",
        "<@U123|bob>",
        "-1",
        "1e309",
        "nan",
        "\u00a0",
        "🚀",
    ]
)
TOKENS = st.one_of(
    WORDS,
    st.builds(lambda key, value: f"{key}={value}", WORDS, st.text(max_size=12)),
    st.text(min_size=1, max_size=8),
)
GRAMMAR_LIKE = st.lists(TOKENS, max_size=8).map(" ".join)
RANDOM_TEXT = st.text(max_size=200)


def _answered(bot: BotRig, response_url_id: str | None, views_before: int) -> bool:
    """A private answer through the request's response_url, or the create form (`create` on its own)."""
    answered = any(post.response_url_id == response_url_id for post in bot.slack.responses)
    return answered or len(bot.slack.calls_to("views.open")) > views_before


@pytest.mark.timeout(180)
@settings(
    max_examples=80,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(text=st.one_of(RANDOM_TEXT, GRAMMAR_LIKE))
async def test_any_text_is_acknowledged_and_answered(
    bot: BotRig, caplog: pytest.LogCaptureFixture, text: str
) -> None:
    caplog.clear()
    views_before = len(bot.slack.calls_to("views.open"))
    with caplog.at_level(logging.WARNING):
        sent = await bot.slack.sender.slash(text, user="U_FUZZ", channel="C_FUZZ")
        assert sent.status == 200, (text, sent)
        await bot.slack.wait_for(lambda: _answered(bot, sent.response_url_id, views_before), 10)
    # Nothing crashed on the way: no trace in the log (the API's own refusals are logged as warnings), and
    # Bolt never complained (a missing ack, an unhandled request).
    traces = [
        r
        for r in caplog.records
        if r.exc_info is not None or r.levelno >= logging.ERROR or r.name.startswith("tuneops.bolt")
    ]
    assert not traces, (text, [r.getMessage() for r in traces])
    # The private answer is a valid message: some text, within Slack's limits.
    for post in bot.slack.responses:
        if post.response_url_id == sent.response_url_id:
            assert post.status == 200 and post.body.get("text"), post
            assert len(post.body.get("blocks") or []) <= 50
