"""The stand-in's Web API, driven by a real slack_sdk AsyncWebClient: every method, its errors, its limits."""

from __future__ import annotations

from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox.standin import SlackStandIn

SECTION = {"type": "section", "text": {"type": "mrkdwn", "text": "*Job* `ftjob-1` is running"}}


async def api_error(call: Any) -> SlackApiError:
    with pytest.raises(SlackApiError) as caught:
        await call
    return caught.value


async def test_auth_test_answers_like_slack(slack: SlackStandIn, slack_client: AsyncWebClient) -> None:
    answer = await slack_client.auth_test()
    assert answer["ok"] is True
    assert answer["user_id"] == slack.workspace.bot_user_id
    assert answer["bot_id"] == slack.workspace.bot_id
    assert answer["team_id"] == "T_STANDIN"
    assert answer["url"].startswith(slack.url)


async def test_missing_token_is_not_authed_and_other_tokens_invalid(slack: SlackStandIn) -> None:
    no_token = AsyncWebClient(base_url=slack.api_url)
    assert (await api_error(no_token.auth_test())).response["error"] == "not_authed"
    user_token = AsyncWebClient(token="xoxp-a-user-token", base_url=slack.api_url)
    assert (await api_error(user_token.chat_postMessage(channel="C_ML", text="x"))).response[
        "error"
    ] == "invalid_auth"
    assert slack.messages("C_ML") == []
    assert [call.error for call in slack.calls] == ["not_authed", "invalid_auth"]


async def test_only_the_configured_bot_token_is_accepted(slack: SlackStandIn) -> None:
    """Like Slack: a well-formed bot token of another app (or a revoked one) is `invalid_auth`."""
    other_bot = AsyncWebClient(token="xoxb-1234-5678-someone-elses", base_url=slack.api_url)
    for call in (other_bot.auth_test(), other_bot.chat_postMessage(channel="C_ML", text="x")):
        assert (await api_error(call)).response["error"] == "invalid_auth"
    assert slack.messages("C_ML") == []
    # The app-level token is not a bot token: Slack names the wrong kind of token.
    app_token = AsyncWebClient(token=slack.app_token, base_url=slack.api_url)
    assert (await api_error(app_token.auth_test())).response["error"] == "not_allowed_token_type"

    right = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
    assert (await right.auth_test())["ok"] is True
    assert [call.error for call in slack.calls] == [
        "invalid_auth",
        "invalid_auth",
        "not_allowed_token_type",
        None,
    ]


async def test_a_bot_token_of_the_stand_in_s_own_choosing() -> None:
    async with SlackStandIn(bot_token="xoxb-42-custom") as slack:
        default = AsyncWebClient(token="xoxb-standin", base_url=slack.api_url)
        assert (await api_error(default.auth_test())).response["error"] == "invalid_auth"
        custom = AsyncWebClient(token="xoxb-42-custom", base_url=slack.api_url)
        assert (await custom.chat_postMessage(channel="C_ML", text="hi"))["ok"] is True


async def test_scopes_are_named_in_the_answer_headers(slack: SlackStandIn) -> None:
    client = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
    answer = await client.auth_test()
    assert answer.headers["x-oauth-scopes"] == (
        "commands,chat:write,chat:write.public,channels:history,groups:history,files:read"
    )
    slack.bot_scopes = ("commands",)
    assert (await client.auth_test()).headers["x-oauth-scopes"] == "commands"


async def test_token_in_form_body_is_accepted_and_never_recorded(slack: SlackStandIn) -> None:
    client = AsyncWebClient(base_url=slack.api_url)
    answer = await client.api_call(
        "chat.postMessage", data={"token": slack.bot_token, "channel": "C_ML", "text": "hi"}
    )
    assert answer["ok"] is True
    assert "token" not in slack.calls[-1].args
    refused = await api_error(
        client.api_call("chat.postMessage", data={"token": "xoxb-form", "channel": "C_ML", "text": "hi"})
    )
    assert refused.response["error"] == "invalid_auth"
    assert "token" not in slack.calls[-1].args


async def test_post_message_returns_ts_and_stores_it(
    slack: SlackStandIn, slack_client: AsyncWebClient
) -> None:
    answer = await slack_client.chat_postMessage(
        channel="C_ML",
        text="Job ftjob-1 is running",
        blocks=[SECTION],
        metadata={"event_type": "tuneops_card", "event_payload": {"job_id": "ftjob-1"}},
    )
    assert answer["channel"] == "C_ML"
    assert answer["message"]["text"] == "Job ftjob-1 is running"
    assert answer["message"]["bot_id"] == slack.workspace.bot_id
    assert answer["message"]["metadata"]["event_payload"] == {"job_id": "ftjob-1"}
    [stored] = slack.messages("C_ML")
    assert stored.ts == answer["ts"]
    assert stored.blocks[0]["text"]["text"] == "*Job* `ftjob-1` is running"
    assert stored.blocks[0]["block_id"]  # Slack gives every block an id
    [call] = slack.calls_to("chat.postMessage")
    assert call.args["channel"] == "C_ML"
    assert call.status == 200
    assert call.ok


async def test_form_encoded_post_with_blocks_as_json_string(
    slack: SlackStandIn, slack_client: AsyncWebClient
) -> None:
    answer = await slack_client.api_call(
        "chat.postMessage",
        data={"channel": "C_ML", "text": "form", "blocks": '[{"type": "divider"}]'},
    )
    assert answer["ok"] is True
    assert slack.messages("C_ML")[0].blocks[0]["type"] == "divider"


async def test_timestamps_are_unique_and_increasing(
    slack: SlackStandIn, slack_client: AsyncWebClient
) -> None:
    stamps = [(await slack_client.chat_postMessage(channel="C_ML", text=str(i)))["ts"] for i in range(5)]
    assert stamps == sorted(stamps, key=float)
    assert len(set(stamps)) == 5


async def test_threads_replies_broadcast_and_metadata(
    slack: SlackStandIn, slack_client: AsyncWebClient
) -> None:
    card = await slack_client.chat_postMessage(channel="C_ML", text="card")
    quiet = await slack_client.chat_postMessage(
        channel="C_ML",
        text="step 10/100",
        thread_ts=card["ts"],
        metadata={"event_type": "tuneops_notice", "event_payload": {"delivery": "d-1"}},
    )
    loud = await slack_client.chat_postMessage(
        channel="C_ML", text="succeeded", thread_ts=quiet["ts"], reply_broadcast=True
    )
    assert loud["message"]["thread_ts"] == card["ts"]  # a reply to a reply joins the parent's thread
    assert [m.text for m in slack.thread("C_ML", card["ts"])] == ["step 10/100", "succeeded"]
    assert [m.text for m in slack.messages("C_ML")] == ["card", "succeeded"]  # the broadcast shows in channel

    replies = await slack_client.conversations_replies(
        channel="C_ML", ts=card["ts"], include_all_metadata=True
    )
    texts = [m["text"] for m in replies["messages"]]
    assert texts == ["card", "step 10/100", "succeeded"]
    assert replies["messages"][0]["reply_count"] == 2
    assert replies["messages"][1]["metadata"] == {
        "event_type": "tuneops_notice",
        "event_payload": {"delivery": "d-1"},
    }
    without = await slack_client.conversations_replies(channel="C_ML", ts=card["ts"])
    assert "metadata" not in without["messages"][1]


async def test_thread_errors(slack_client: AsyncWebClient) -> None:
    bad = await api_error(slack_client.chat_postMessage(channel="C_ML", text="x", thread_ts="yesterday"))
    assert bad.response["error"] == "invalid_thread_ts"
    missing = await api_error(slack_client.chat_postMessage(channel="C_ML", text="x", thread_ts="123.456"))
    assert missing.response["error"] == "thread_not_found"
    replies = await api_error(slack_client.conversations_replies(channel="C_ML", ts="123.456"))
    assert replies.response["error"] == "thread_not_found"


async def test_update_edits_in_place(slack: SlackStandIn, slack_client: AsyncWebClient) -> None:
    posted = await slack_client.chat_postMessage(channel="C_ML", text="queued", blocks=[SECTION])
    updated = await slack_client.chat_update(channel="C_ML", ts=posted["ts"], text="running")
    assert updated["ts"] == posted["ts"]
    assert updated["message"]["edited"]["ts"] == posted["ts"]
    [message] = slack.messages("C_ML")
    assert message.text == "running"
    assert message.blocks[0]["text"] == SECTION["text"]  # blocks left out are kept, as Slack does
    assert [v.text for v in message.versions] == ["queued"]

    await slack_client.chat_update(channel="C_ML", ts=posted["ts"], text="plain", blocks=[])
    assert message.blocks == []

    unknown = await api_error(slack_client.chat_update(channel="C_ML", ts="1.000001", text="x"))
    assert unknown.response["error"] == "message_not_found"


async def test_bot_cannot_edit_or_delete_a_persons_message(
    slack: SlackStandIn, slack_client: AsyncWebClient
) -> None:
    mine = slack.workspace.post_message("C_ML", text="hello bot", blocks=[], user="U_ALICE", bot=False)
    edit = await api_error(slack_client.chat_update(channel="C_ML", ts=mine.ts, text="x"))
    assert edit.response["error"] == "cant_update_message"
    delete = await api_error(slack_client.chat_delete(channel="C_ML", ts=mine.ts))
    assert delete.response["error"] == "cant_delete_message"


async def test_post_ephemeral_is_seen_by_one_person(
    slack: SlackStandIn, slack_client: AsyncWebClient
) -> None:
    answer = await slack_client.chat_postEphemeral(channel="C_ML", user="U_BOB", text="Only you can see this")
    assert answer["message_ts"]
    [ephemeral] = slack.ephemerals("U_BOB")
    assert ephemeral.id == answer["message_ts"]
    assert ephemeral.text == "Only you can see this"
    assert ephemeral.source == "chat.postEphemeral"
    assert slack.ephemerals("U_ALICE") == []
    assert slack.messages("C_ML") == []
    stranger = await api_error(slack_client.chat_postEphemeral(channel="C_ML", user="U_NOBODY", text="x"))
    assert stranger.response["error"] == "user_not_in_channel"


async def test_delete_removes_the_message(slack: SlackStandIn, slack_client: AsyncWebClient) -> None:
    posted = await slack_client.chat_postMessage(channel="C_ML", text="oops")
    answer = await slack_client.chat_delete(channel="C_ML", ts=posted["ts"])
    assert answer["ts"] == posted["ts"]
    assert slack.messages("C_ML") == []
    again = await api_error(slack_client.chat_delete(channel="C_ML", ts=posted["ts"]))
    assert again.response["error"] == "message_not_found"


async def test_history_is_newest_first_and_paginates(slack_client: AsyncWebClient) -> None:
    for i in range(5):
        await slack_client.chat_postMessage(channel="C_GENERAL", text=f"m{i}")
    first = await slack_client.conversations_history(channel="C_GENERAL", limit=3)
    assert [m["text"] for m in first["messages"]] == ["m4", "m3", "m2"]
    assert first["has_more"] is True
    rest = await slack_client.conversations_history(
        channel="C_GENERAL", limit=3, cursor=first["response_metadata"]["next_cursor"]
    )
    assert [m["text"] for m in rest["messages"]] == ["m1", "m0"]
    assert rest["has_more"] is False


async def test_conversations_info_reports_channel_state(
    slack: SlackStandIn, slack_client: AsyncWebClient
) -> None:
    info = await slack_client.conversations_info(channel="C_ML")
    assert info["channel"]["name"] == "ml-team"
    assert info["channel"]["is_archived"] is False
    slack.set_channel_state("C_ML", "archived")
    assert (await slack_client.conversations_info(channel="C_ML"))["channel"]["is_archived"] is True
    slack.set_channel_state("C_ML", "not_found")
    gone = await api_error(slack_client.conversations_info(channel="C_ML"))
    assert gone.response["error"] == "channel_not_found"


async def test_users_info(slack: SlackStandIn, slack_client: AsyncWebClient) -> None:
    slack.add_user("U_ADMIN", "admin", "Ada Admin", is_admin=True)
    user = (await slack_client.users_info(user="U_ADMIN"))["user"]
    assert (user["id"], user["real_name"], user["is_admin"]) == ("U_ADMIN", "Ada Admin", True)
    missing = await api_error(slack_client.users_info(user="U_GHOST"))
    assert missing.response["error"] == "user_not_found"


async def test_unknown_method(slack: SlackStandIn, slack_client: AsyncWebClient) -> None:
    error = await api_error(slack_client.api_call("chat.fly"))
    assert error.response["error"] == "unknown_method"
    assert slack.calls_to("chat.fly")[0].error == "unknown_method"


async def test_posting_to_a_user_opens_a_direct_message(
    slack: SlackStandIn, slack_client: AsyncWebClient
) -> None:
    answer = await slack_client.chat_postMessage(channel="U_ALICE", text="your job finished")
    assert answer["channel"].startswith("D")
    assert [m.text for m in slack.messages(answer["channel"])] == ["your job finished"]


# ---- limits Slack enforces ---------------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing")
async def test_text_or_blocks_required(slack: SlackStandIn, slack_client: AsyncWebClient) -> None:
    error = await api_error(slack_client.chat_postMessage(channel="C_ML", text=""))
    assert error.response["error"] == "no_text"
    assert slack.messages("C_ML") == []


async def test_more_than_50_blocks_is_invalid(slack: SlackStandIn, slack_client: AsyncWebClient) -> None:
    fifty = [{"type": "divider"}] * 50
    assert (await slack_client.chat_postMessage(channel="C_ML", text="ok", blocks=fifty))["ok"]
    error = await api_error(
        slack_client.chat_postMessage(channel="C_ML", text="x", blocks=[*fifty, {"type": "divider"}])
    )
    assert error.response["error"] == "invalid_blocks"
    assert "at most 50" in error.response["errors"][0]
    assert len(slack.messages("C_ML")) == 1


async def test_section_text_over_3000_is_invalid(slack_client: AsyncWebClient) -> None:
    at_limit = {"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3000}}
    assert (await slack_client.chat_postMessage(channel="C_ML", text="ok", blocks=[at_limit]))["ok"]
    too_long = {"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}
    error = await api_error(slack_client.chat_postMessage(channel="C_ML", text="x", blocks=[too_long]))
    assert error.response["error"] == "invalid_blocks"
    assert "/blocks/0/text/text" in error.response["errors"][0]


@pytest.mark.parametrize(
    ("blocks", "fragment"),
    [
        ([{"type": "section", "fields": [{"type": "mrkdwn", "text": "f"}] * 11}], "at most 10"),
        ([{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}], "less than 151"),
        (
            [{"type": "divider", "block_id": "a"}, {"type": "divider", "block_id": "a"}],
            "block_id must be unique",
        ),
        ([{"type": "section", "text": {"type": "mrkdwn", "text": ""}}], "more than 0"),
        ([{"type": "carousel"}], "unsupported type"),
        (
            [
                {
                    "type": "actions",
                    "elements": [
                        {"type": "button", "action_id": "a", "text": {"type": "plain_text", "text": "Pause"}},
                        {
                            "type": "button",
                            "action_id": "a",
                            "text": {"type": "plain_text", "text": "Cancel"},
                        },
                    ],
                }
            ],
            "action_id must be unique",
        ),
        (
            [
                {
                    "type": "actions",
                    "elements": [
                        {"type": "button", "action_id": "b", "text": {"type": "plain_text", "text": "x" * 76}}
                    ],
                }
            ],
            "less than 76",
        ),
    ],
)
async def test_block_rules(slack_client: AsyncWebClient, blocks: list[dict[str, Any]], fragment: str) -> None:
    error = await api_error(slack_client.chat_postMessage(channel="C_ML", text="x", blocks=blocks))
    assert error.response["error"] == "invalid_blocks"
    assert any(fragment in problem for problem in error.response["errors"]), error.response["errors"]


async def test_too_much_block_text_in_total(slack_client: AsyncWebClient) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "y" * 2500}} for _ in range(5)]
    error = await api_error(slack_client.chat_postMessage(channel="C_ML", text="x", blocks=blocks))
    assert error.response["error"] == "msg_blocks_too_long"


async def test_very_long_text_is_truncated_with_a_warning(
    slack: SlackStandIn, slack_client: AsyncWebClient
) -> None:
    answer = await slack_client.chat_postMessage(channel="C_ML", text="z" * 40_500)
    assert answer["warning"] == "message_truncated"
    assert len(slack.messages("C_ML")[0].text) == 40_000


async def test_update_is_checked_against_the_same_limits(slack_client: AsyncWebClient) -> None:
    posted = await slack_client.chat_postMessage(channel="C_ML", text="card")
    error = await api_error(
        slack_client.chat_update(channel="C_ML", ts=posted["ts"], text="x", blocks=[{"type": "divider"}] * 51)
    )
    assert error.response["error"] == "invalid_blocks"


async def test_bad_metadata_is_refused(slack_client: AsyncWebClient) -> None:
    error = await api_error(
        slack_client.chat_postMessage(channel="C_ML", text="x", metadata={"event_payload": {}})
    )
    assert error.response["error"] == "invalid_metadata_format"


async def test_history_between_oldest_and_latest(slack_client: AsyncWebClient) -> None:
    stamps = [(await slack_client.chat_postMessage(channel="C_ML", text=f"m{i}"))["ts"] for i in range(4)]
    window = await slack_client.conversations_history(channel="C_ML", oldest=stamps[0], latest=stamps[3])
    assert [m["text"] for m in window["messages"]] == ["m2", "m1"]
    inclusive = await slack_client.conversations_history(
        channel="C_ML", oldest=stamps[0], latest=stamps[3], inclusive=True
    )
    assert [m["text"] for m in inclusive["messages"]] == ["m3", "m2", "m1", "m0"]
    error = await api_error(slack_client.conversations_history(channel="C_ML", oldest="last week"))
    assert error.response["error"] == "invalid_ts_oldest"


async def test_recorded_calls_are_bounded_for_long_runs() -> None:
    async with SlackStandIn(max_recorded_calls=3) as slack:
        client = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
        for i in range(5):
            await client.chat_postMessage(channel="C_ML", text=f"m{i}")
        assert [call.args["text"] for call in slack.calls] == ["m2", "m3", "m4"]
        assert len(slack.messages("C_ML")) == 5
