"""Plays Slack's part towards the bot: builds the request Slack would send for a slash command, a button
click or a modal submission, with a fresh trigger_id and response_url, delivers it, and does with the
bot's acknowledgement what Slack does (`acks.py`).

Two transports, as Slack has, behind the same methods: `"http"` signs the request and POSTs it to the
bot's `/slack/events` (the ack is the HTTP answer); `"socket"` sends it as a Socket Mode envelope over the
app's connection (the ack is the envelope's `payload`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import httpx

from bot.sandbox.standin.acks import after_command, after_submission, failure_name, slack_says
from bot.sandbox.standin.models import JSON, OpenView, StoredEphemeral, StoredMessage
from bot.sandbox.standin.payloads import (
    VERIFICATION_TOKEN,
    ViewValues,
    action_json,
    find_element,
    interactive_form,
    message_click_payload,
    slash_command_form,
    submitted_view,
    team_json,
    user_json,
    view_state,
)
from bot.sandbox.standin.socket_mode import EnvelopeType
from bot.sandbox.standin.workspace import ResponseTarget, Workspace

if TYPE_CHECKING:
    from bot.sandbox.standin.server import SlackStandIn

FORM = "application/x-www-form-urlencoded"
Transport = Literal["http", "socket"]
TRANSPORTS: tuple[Transport, ...] = ("http", "socket")
# Slack gives up on an app after 3 s; the sender waits longer so slow test machines do not flake, and
# reports the time taken in `SentRequest.elapsed` instead.
DEFAULT_TIMEOUT = 10.0


def sign(signing_secret: str, timestamp: int | str, body: bytes) -> str:
    """Slack's request signature: `v0=` + HMAC-SHA256 of `v0:{timestamp}:{body}` with the signing secret."""
    base = b"v0:" + str(timestamp).encode() + b":" + body
    return "v0=" + hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()


@dataclass
class SentRequest:
    """What happened to one request sent to the bot."""

    status: int  # the bot's HTTP status (200 for a Socket Mode ack); 0 when it could not be reached
    body: Any  # the bot's answer: parsed JSON when it was JSON (an ack's payload), else the text, or None
    text: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    payload: JSON = field(default_factory=dict)  # what was sent (the form fields, or the interactive payload)
    response_url_id: str | None = None
    trigger_id: str | None = None
    elapsed: float = 0.0
    error: str | None = None  # transport failure, as Slack would name it ("dispatch_failed")
    transport: Transport = "http"
    envelope_id: str | None = None  # Socket Mode only

    @property
    def acked(self) -> bool:
        return self.status == 200


class SlackSender:
    """Sends Slack requests to the bot a `SlackStandIn` is wired to: signed HTTP to `set_bot_url`'s address,
    or, with `transport = "socket"`, over the app's Socket Mode connection to the stand-in."""

    def __init__(
        self, standin: SlackStandIn, *, timeout: float = DEFAULT_TIMEOUT, transport: Transport = "http"
    ) -> None:
        self._standin = standin
        self.timeout = timeout  # how long to wait for the bot's answer (Slack itself gives up after 3 s)
        self._client: httpx.AsyncClient | None = None
        self.transport: Transport = transport

    @property
    def _workspace(self) -> Workspace:
        return self._standin.workspace

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    # ---- raw, signed HTTP -------------------------------------------------------------------------------

    def signature(self, body: bytes, timestamp: int | str) -> str:
        return sign(self._standin.signing_secret, timestamp, body)

    async def signed_post(
        self,
        body: bytes,
        content_type: str = FORM,
        *,
        timestamp: int | None = None,
        signature: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> SentRequest:
        """POST `body` to the bot, signed like Slack signs it. Pass `timestamp` (e.g. `time.time() - 600`) for
        a stale request, or `signature` to send a forged one; both are still sent as given."""
        url = self._standin.bot_url
        if url is None:
            raise RuntimeError("the stand-in does not know where the bot is: call set_bot_url() first")
        ts = int(time.time()) if timestamp is None else int(timestamp)
        request_headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": str(ts),
            "X-Slack-Signature": signature if signature is not None else self.signature(body, ts),
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
        }
        request_headers.update(headers or {})
        if self._client is None:
            self._client = httpx.AsyncClient()
        started = time.perf_counter()
        try:
            response = await self._client.post(
                url, content=body, headers=request_headers, timeout=self.timeout
            )
        except httpx.TimeoutException:
            return SentRequest(0, None, elapsed=time.perf_counter() - started, error="operation_timeout")
        except httpx.TransportError:
            return SentRequest(0, None, elapsed=time.perf_counter() - started, error="dispatch_failed")
        elapsed = time.perf_counter() - started
        parsed: Any = None
        if response.text:
            try:
                parsed = response.json()
            except ValueError:
                parsed = response.text
        return SentRequest(
            status=response.status_code,
            body=parsed,
            text=response.text,
            headers=dict(response.headers),
            elapsed=elapsed,
        )

    # ---- slash commands ---------------------------------------------------------------------------------

    async def slash(
        self,
        text: str,
        *,
        user: str = "U_ALICE",
        channel: str = "C_ML",
        command: str | None = None,
        timestamp: int | None = None,
        signature: str | None = None,
    ) -> SentRequest:
        """Type `{command} {text}` in `channel` as `user`. The ack's text (if any) is shown like Slack does.
        `timestamp` and `signature` shape the HTTP request's signing (a stale or forged one)."""
        if self.transport == "socket" and (timestamp is not None or signature is not None):
            raise ValueError("timestamp and signature are for HTTP: Socket Mode requests are not signed")
        ws = self._workspace
        command_name = command or self._standin.command
        target: ResponseTarget = ws.register_response_url(channel, user)
        trigger_id: str = ws.issue_trigger(user)
        body = slash_command_form(
            ws,
            command=command_name,
            text=text,
            user=user,
            channel=channel,
            response_url=self._standin.response_url(target.id),
            trigger_id=trigger_id,
        )
        fields = dict(httpx.QueryParams(body.decode()))
        if self.transport == "socket":
            sent = await self.send_envelope("slash_commands", fields, accepts_response_payload=True)
        else:
            sent = await self.signed_post(body, FORM, timestamp=timestamp, signature=signature)
        sent.payload = fields
        sent.response_url_id, sent.trigger_id = target.id, trigger_id
        after_command(self._standin, sent, target, command_name, text)
        return sent

    # ---- clicks -----------------------------------------------------------------------------------------

    async def click(
        self,
        message: StoredMessage | StoredEphemeral,
        action_id: str,
        *,
        user: str = "U_ALICE",
        value: str | None = None,
        block_id: str | None = None,
    ) -> SentRequest:
        """Click the element `action_id` of a message (its current version) as `user`: a `block_actions`
        payload with the message, the action and a fresh response_url. Slack sends a button with a
        `confirm` only after the person confirmed, so this is the confirmed click. `value` overrides the
        button's value, or picks the option of a select menu."""
        ws = self._workspace
        is_ephemeral = isinstance(message, StoredEphemeral)
        current: StoredMessage | StoredEphemeral | None = (
            ws.find_ephemeral(message.ts) if is_ephemeral else ws.find_message(message.channel, message.ts)
        )
        if current is None:
            raise LookupError(f"message {message.ts} in {message.channel} no longer exists")
        found = find_element(current.blocks, action_id, block_id)
        target: ResponseTarget = ws.register_response_url(
            current.channel,
            user,
            message_ts=None if is_ephemeral else current.ts,
            ephemeral_id=current.id if isinstance(current, StoredEphemeral) else None,
            thread_ts=current.thread_ts,
        )
        trigger_id: str = ws.issue_trigger(user)
        payload = message_click_payload(
            ws,
            current,
            user,
            found,
            value,
            trigger_id=trigger_id,
            response_url=self._standin.response_url(target.id),
        )
        sent = await self._send_interactive(payload)
        sent.response_url_id, sent.trigger_id = target.id, trigger_id
        if sent.status != 200:
            slack_says(
                ws, current.channel, user, f'The app did not answer this click ("{failure_name(sent)}").'
            )
        return sent

    async def click_in_view(
        self,
        view: OpenView,
        action_id: str,
        *,
        user: str | None = None,
        value: str | None = None,
        block_id: str | None = None,
        values: ViewValues | None = None,
    ) -> SentRequest:
        """Click a button (or pick an option) inside an open modal: `block_actions` with a view container."""
        ws = self._workspace
        who = user or view.user
        found = find_element(view.blocks, action_id, block_id)
        trigger_id: str = ws.issue_trigger(who)
        state = view_state(view.view, values or {}, enforce_required=False)
        payload: JSON = {
            "type": "block_actions",
            "user": user_json(ws, who),
            "api_app_id": ws.app_id,
            "token": VERIFICATION_TOKEN,
            "container": {"type": "view", "view_id": view.id},
            "trigger_id": trigger_id,
            "team": team_json(ws),
            "enterprise": None,
            "is_enterprise_install": False,
            "view": submitted_view(view, state),
            "actions": [action_json(found, value, f"{time.time():.6f}")],
        }
        sent = await self._send_interactive(payload)
        sent.trigger_id = trigger_id
        return sent

    # ---- modals -----------------------------------------------------------------------------------------

    async def submit_view(
        self,
        view: OpenView | JSON,
        values: ViewValues,
        *,
        user: str | None = None,
        enforce_required: bool = True,
    ) -> SentRequest:
        """Press the modal's submit button with `values` typed in: `{block_id: {action_id: value}}` (or
        `{block_id: value}` for short). Inputs left out keep their initial value. Slack itself refuses to
        send a submission with an empty required input; so does this (`MissingRequiredInput`) unless
        `enforce_required=False`. The bot's ack is then applied: errors shown next to the fields,
        `update`/`push`/`clear`, or the modal closes."""
        ws = self._workspace
        opened = (
            view if isinstance(view, OpenView) else ws.modals.find_view(view_id=str(view.get("id") or ""))
        )
        raw_view = view.view if isinstance(view, OpenView) else view
        who = user or (opened.user if opened else "U_ALICE")
        state = self._standin.shared_files.fill_file_inputs(
            view_state(raw_view, values, enforce_required=enforce_required)
        )
        trigger_id: str = ws.issue_trigger(who)
        payload: JSON = {
            "type": "view_submission",
            "team": team_json(ws),
            "user": user_json(ws, who),
            "api_app_id": ws.app_id,
            "token": VERIFICATION_TOKEN,
            "trigger_id": trigger_id,
            "view": submitted_view(raw_view, state),
            "response_urls": [],
            "enterprise": None,
            "is_enterprise_install": False,
        }
        sent = await self._send_interactive(payload)
        sent.trigger_id = trigger_id
        if opened is not None:
            after_submission(ws, sent, opened)
        return sent

    async def close_view(self, view: OpenView, *, user: str | None = None) -> SentRequest | None:
        """Press the modal's close button. Slack tells the app (`view_closed`) only when the view asked
        for it with `notify_on_close`; then the bot's answer is returned, else None."""
        ws = self._workspace
        who = user or view.user
        notify = bool(view.view.get("notify_on_close"))
        clear = bool(view.view.get("clear_on_close"))
        ws.modals.close_view(view.user, all_views=clear)
        if not notify:
            return None
        payload: JSON = {
            "type": "view_closed",
            "team": team_json(ws),
            "user": user_json(ws, who),
            "api_app_id": ws.app_id,
            "token": VERIFICATION_TOKEN,
            "view": submitted_view(view, {}),
            "is_cleared": clear,
            "is_enterprise_install": False,
            "enterprise": None,
        }
        return await self._send_interactive(payload)

    # ---- helpers ----------------------------------------------------------------------------------------

    async def send_interactive(self, payload: JSON) -> SentRequest:
        """Deliver an interactive payload built elsewhere (e.g. a click on the Home tab, `home.py`)."""
        return await self._send_interactive(payload)

    async def _send_interactive(self, payload: JSON) -> SentRequest:
        if self.transport == "socket":
            # Slack applies an ack's payload only where an HTTP answer would count: modal submissions.
            sent = await self.send_envelope(
                "interactive", payload, accepts_response_payload=payload["type"] == "view_submission"
            )
        else:
            sent = await self.signed_post(interactive_form(payload), FORM)
        sent.payload = json.loads(json.dumps(payload))
        return sent

    # ---- Socket Mode ------------------------------------------------------------------------------------

    async def send_envelope(
        self, envelope_type: EnvelopeType, payload: JSON, *, accepts_response_payload: bool
    ) -> SentRequest:
        """Push one envelope over the app's newest Socket Mode connection and wait for its ack. The ack's
        payload becomes `body`, as an HTTP answer's body would; no connection, a connection that died or
        no ack in time is status 0 with Slack's error name."""
        delivery = await self._standin.socket.deliver(
            envelope_type,
            json.loads(json.dumps(payload)),
            accepts_response_payload=accepts_response_payload,
            wait=self.timeout,
        )
        answer = delivery.payload
        return SentRequest(
            status=200 if delivery.acked else 0,
            body=answer,
            text=json.dumps(answer) if answer is not None else "",
            elapsed=delivery.elapsed,
            error=delivery.error,
            transport="socket",
            envelope_id=str(delivery.envelope["envelope_id"]),
        )
