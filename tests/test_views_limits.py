"""The limits guard: whatever a view is given, Slack gets a message it accepts, and cuts are visible."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from slack_sdk.models.blocks import ActionsBlock, ButtonElement, HeaderBlock, SectionBlock

from bot.views.format import progress_bar, truncate
from bot.views.message import SlackMessage, block_text_length, fit
from tests.support.views import assert_valid_message


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def test_more_than_fifty_blocks_keeps_49_and_says_how_many_are_hidden() -> None:
    message = fit("many", [section(f"row {i}") for i in range(70)])
    assert_valid_message(message)
    assert len(message.blocks) == 50
    assert message.blocks[48]["text"]["text"] == "row 48"
    assert message.blocks[-1]["type"] == "context"
    assert "21 more" in message.blocks[-1]["elements"][0]["text"]


def test_buttons_at_the_end_survive_the_cut() -> None:
    button = ActionsBlock(elements=[ButtonElement(text="Next page", action_id="next", value="x")])
    message = fit("many", [*(section(f"row {i}") for i in range(70)), button])
    assert len(message.blocks) == 50
    assert message.blocks[-1]["type"] == "actions"
    assert message.blocks[-2]["type"] == "context"


def test_long_section_text_is_cut_with_an_ellipsis() -> None:
    message = fit("long", [SectionBlock(text="a" * 10_000)])
    assert_valid_message(message)
    text = message.blocks[0]["text"]["text"]
    assert len(text) == 3000 and text.endswith("…")


def test_fields_are_capped_in_number_and_length() -> None:
    message = fit("fields", [SectionBlock(fields=["f" * 5000 for _ in range(14)])])
    assert_valid_message(message)
    fields = message.blocks[0]["fields"]
    assert len(fields) == 10
    assert all(len(field["text"]) <= 2000 for field in fields)


def test_header_is_cut_to_150() -> None:
    message = fit("header", [HeaderBlock(text="h" * 400)])
    assert_valid_message(message)
    assert len(message.blocks[0]["text"]["text"]) == 150


def test_fallback_text_is_cut_to_3000() -> None:
    message = fit("t" * 50_000, [section("x")])
    assert len(message.text) == 3000 and message.text.endswith("…")


def test_total_text_over_the_budget_drops_trailing_blocks_with_a_note() -> None:
    message = fit("big", [section("b" * 2900) for _ in range(8)])
    assert_valid_message(message)
    assert sum(block_text_length(block) for block in message.blocks) <= 11_000
    assert message.blocks[-1]["type"] == "context"
    assert "more" in message.blocks[-1]["elements"][0]["text"]


def test_a_cut_never_splits_a_slack_token_or_an_escape() -> None:
    assert truncate("hello <@U12345678> there", 12) == "hello …"
    assert truncate("a &amp; b", 5) == "a …"
    assert truncate("short", 10) == "short"


def test_progress_bar() -> None:
    assert progress_bar(0.52) == "▓▓▓▓▓░░░░░ 52%"
    assert progress_bar(0) == "░░░░░░░░░░ 0%"
    assert progress_bar(1) == "▓▓▓▓▓▓▓▓▓▓ 100%"
    assert progress_bar(0.999) == "▓▓▓▓▓▓▓▓▓░ 99%"


def test_message_gives_the_keyword_arguments_for_the_web_api() -> None:
    message = fit("hello", [section("x")])
    assert message.as_kwargs() == {"text": "hello", "blocks": message.blocks}
    assert isinstance(message, SlackMessage)


@settings(max_examples=60, deadline=None)
@given(
    texts=st.lists(st.text(min_size=1, max_size=4000), min_size=1, max_size=80),
    fallback=st.text(min_size=1, max_size=5000),
)
def test_any_sections_fit(texts: list[str], fallback: str) -> None:
    message = fit(fallback, [section(text) for text in texts])
    assert len(message.blocks) <= 50
    assert len(message.text) <= 3000
    assert sum(block_text_length(block) for block in message.blocks) <= 11_000
