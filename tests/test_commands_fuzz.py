"""Whatever anyone types, the parser answers with a Command or a CommandError with words in it."""

from __future__ import annotations

from typing import get_args

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.jobs.create_args import SPEC_KEYS
from bot.jobs.grammar import SUBCOMMANDS, Command, CommandError, parse_command
from bot.views.errors import command_error_message
from tests.support.views import assert_valid_message

COMMAND_TYPES = get_args(Command)

word = st.one_of(
    st.sampled_from(SUBCOMMANDS),
    st.sampled_from([f"{key}=" for key in SPEC_KEYS]).map(lambda k: k + "1"),
    st.sampled_from(["ftjob-abc123", "meta.k=v", '"', "“", "’", "'", "=", "`", "&lt;", "auto", "dpo", "all"]),
    st.text(max_size=12),
)
chatty_text = st.lists(word, max_size=8).map(" ".join)


def check(text: str, provider: str) -> None:
    outcome: object
    try:
        outcome = parse_command(text, provider=provider)
    except CommandError as error:  # any other exception fails the test
        outcome = error
    if isinstance(outcome, CommandError):
        assert outcome.message.strip()
        assert_valid_message(command_error_message(outcome))
    else:
        assert isinstance(outcome, COMMAND_TYPES)


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=300), provider=st.sampled_from(["openai", "azure", "other"]))
def test_arbitrary_text(text: str, provider: str) -> None:
    check(text, provider)


@settings(max_examples=300, deadline=None)
@given(text=chatty_text, provider=st.sampled_from(["openai", "azure"]))
def test_text_that_looks_like_commands(text: str, provider: str) -> None:
    check(text, provider)
