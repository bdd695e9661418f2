"""What Slack does with the bot's acknowledgement of a request: shows a command's ack text (an in-channel
one under the person's command), applies a modal submission's `response_action` to the modal, and, when
the bot did not acknowledge in time, tells the person itself."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.sandbox.standin.models import JSON, OpenView
from bot.sandbox.standin.responses import receive_response
from bot.sandbox.standin.workspace import ResponseTarget, Workspace

if TYPE_CHECKING:
    from bot.sandbox.standin.sender import SentRequest
    from bot.sandbox.standin.server import SlackStandIn


def after_command(
    standin: SlackStandIn, sent: SentRequest, target: ResponseTarget, command: str, text: str
) -> None:
    workspace = standin.workspace
    if sent.status != 200:
        slack_says(
            workspace, target.channel, target.user, f'{command} failed with the error "{failure_name(sent)}"'
        )
        return
    ack: JSON | None = None
    if isinstance(sent.body, dict) and (sent.body.get("text") or sent.body.get("blocks")):
        ack = sent.body
    elif isinstance(sent.body, str) and sent.body.strip():
        ack = {"text": sent.body}
    if ack is None:
        return
    if ack.get("response_type") == "in_channel":
        # Slack shows the person's command above an in-channel answer.
        workspace.post_message(
            target.channel, text=f"{command} {text}".strip(), blocks=[], user=target.user, bot=False
        )
    _, post = receive_response(workspace, target.id, ack, source="ack")
    standin.record_response(post)


def after_submission(workspace: Workspace, sent: SentRequest, opened: OpenView) -> None:
    modals = workspace.modals
    if sent.status != 200:
        modals.set_view_errors(opened, {"": "We had some trouble connecting. Try again?"})
        return
    ack = sent.body if isinstance(sent.body, dict) else {}
    action = ack.get("response_action")
    if action == "errors" and isinstance(ack.get("errors"), dict):
        modals.set_view_errors(opened, {str(k): str(v) for k, v in ack["errors"].items()})
    elif action == "update" and isinstance(ack.get("view"), dict):
        modals.replace_view(opened, ack["view"])
    elif action == "push" and isinstance(ack.get("view"), dict):
        modals.push_view(opened.user, ack["view"])
    elif action == "clear":
        modals.close_view(opened.user, all_views=True)
    else:
        modals.close_view(opened.user)


def slack_says(workspace: Workspace, channel: str, user: str, text: str) -> None:
    """What Slack itself shows the person when the app failed them."""
    workspace.post_ephemeral(channel, user, text=text, blocks=[], source="slack")


def failure_name(sent: SentRequest) -> str:
    """Slack's name for why a request got no acknowledgement."""
    return sent.error or "dispatch_failed"
