"""Modals on the stand-in: trigger ids, views.open / update / push, and what Slack refuses."""

from __future__ import annotations

import time
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox.standin import SlackStandIn


def modal(title: str = "New fine-tune", **extra: Any) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": "create_job",
        "title": {"type": "plain_text", "text": title},
        "submit": {"type": "plain_text", "text": "Start"},
        "private_metadata": "C_ML",
        "blocks": [
            {
                "type": "input",
                "block_id": "model",
                "label": {"type": "plain_text", "text": "Base model"},
                "element": {"type": "plain_text_input", "action_id": "value"},
            }
        ],
        **extra,
    }


async def test_views_open_needs_a_trigger_the_stand_in_issued(
    slack: SlackStandIn, slack_client: AsyncWebClient
) -> None:
    trigger = slack.workspace.issue_trigger("U_ALICE")
    answer = await slack_client.views_open(trigger_id=trigger, view=modal())
    view = answer["view"]
    assert view["id"].startswith("V")
    assert view["callback_id"] == "create_job"
    assert view["state"] == {"values": {}}
    opened = slack.open_view("U_ALICE")
    assert opened is not None
    assert opened.id == view["id"]
    assert opened.private_metadata == "C_ML"
    assert slack.open_view("U_BOB") is None

    with pytest.raises(SlackApiError) as reused:
        await slack_client.views_open(trigger_id=trigger, view=modal())
    assert reused.value.response["error"] == "exchanged_trigger_id"
    with pytest.raises(SlackApiError) as invented:
        await slack_client.views_open(trigger_id="123.456.abc", view=modal())
    assert invented.value.response["error"] == "invalid_trigger_id"


async def test_trigger_expires_after_three_seconds() -> None:
    async with SlackStandIn() as slack:  # Slack's 3 s, not the test fixture's generous limit
        client = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
        trigger = slack.workspace.issue_trigger("U_ALICE")
        slack.workspace.clock = lambda: time.time() + 3.5  # the bot took too long
        with pytest.raises(SlackApiError) as expired:
            await client.views_open(trigger_id=trigger, view=modal())
        assert expired.value.response["error"] == "expired_trigger_id"
        assert slack.open_view("U_ALICE") is None

        slack.trigger_ttl = None  # the check can be switched off for slow machines
        late = slack.workspace.issue_trigger("U_ALICE")
        slack.workspace.clock = lambda: time.time() + 60
        assert (await client.views_open(trigger_id=late, view=modal()))["ok"]


async def test_views_update_replaces_the_view_and_checks_the_hash(
    slack: SlackStandIn, slack_client: AsyncWebClient
) -> None:
    opened = (
        await slack_client.views_open(trigger_id=slack.workspace.issue_trigger("U_ALICE"), view=modal())
    )["view"]
    updated = await slack_client.views_update(view_id=opened["id"], hash=opened["hash"], view=modal("Step 2"))
    assert updated["view"]["id"] == opened["id"]
    current = slack.open_view("U_ALICE")
    assert current is not None
    assert current.view["title"]["text"] == "Step 2"

    with pytest.raises(SlackApiError) as stale:
        await slack_client.views_update(view_id=opened["id"], hash=opened["hash"], view=modal("Step 3"))
    assert stale.value.response["error"] == "hash_conflict"
    with pytest.raises(SlackApiError) as missing:
        await slack_client.views_update(view_id="VNOPE", view=modal())
    assert missing.value.response["error"] == "not_found"


async def test_views_update_by_external_id(slack: SlackStandIn, slack_client: AsyncWebClient) -> None:
    await slack_client.views_open(
        trigger_id=slack.workspace.issue_trigger("U_BOB"), view=modal(external_id="form-1")
    )
    await slack_client.views_update(external_id="form-1", view=modal("Renamed", external_id="form-1"))
    current = slack.open_view("U_BOB")
    assert current is not None
    assert current.view["title"]["text"] == "Renamed"


async def test_views_push_stacks_up_to_three(slack: SlackStandIn, slack_client: AsyncWebClient) -> None:
    first = (
        await slack_client.views_open(trigger_id=slack.workspace.issue_trigger("U_ALICE"), view=modal())
    )["view"]
    second = await slack_client.views_push(
        trigger_id=slack.workspace.issue_trigger("U_ALICE"), view=modal("Two")
    )
    assert second["view"]["previous_view_id"] == first["id"]
    assert second["view"]["root_view_id"] == first["id"]
    await slack_client.views_push(trigger_id=slack.workspace.issue_trigger("U_ALICE"), view=modal("Three"))
    with pytest.raises(SlackApiError) as full:
        await slack_client.views_push(trigger_id=slack.workspace.issue_trigger("U_ALICE"), view=modal("Four"))
    assert full.value.response["error"] == "push_limit_reached"
    assert [v.view["title"]["text"] for v in slack.workspace.modals.view_stack("U_ALICE")] == [
        "New fine-tune",
        "Two",
        "Three",
    ]


async def test_push_without_an_open_modal(slack: SlackStandIn, slack_client: AsyncWebClient) -> None:
    with pytest.raises(SlackApiError) as caught:
        await slack_client.views_push(trigger_id=slack.workspace.issue_trigger("U_ALICE"), view=modal())
    assert caught.value.response["error"] == "not_found"


@pytest.mark.parametrize(
    ("view", "fragment"),
    [
        (modal(title="A title that is far too long for Slack"), "/view/title/text"),
        ({**modal(), "blocks": [{"type": "divider"}] * 101}, "at most 100"),
        ({k: v for k, v in modal().items() if k != "submit"}, "submit"),
        ({**modal(), "private_metadata": "m" * 3001}, "private_metadata"),
    ],
)
async def test_invalid_views_are_refused(
    slack: SlackStandIn, slack_client: AsyncWebClient, view: dict[str, Any], fragment: str
) -> None:
    with pytest.raises(SlackApiError) as caught:
        await slack_client.views_open(trigger_id=slack.workspace.issue_trigger("U_ALICE"), view=view)
    assert caught.value.response["error"] == "invalid_arguments"
    assert any(fragment in m for m in caught.value.response["response_metadata"]["messages"])
    assert slack.open_view("U_ALICE") is None
