"""What the Slack stand-in remembers: recorded calls, messages, ephemerals, response_url posts, modals.

These are plain mutable dataclasses. The stand-in hands out the live objects, so a `StoredMessage` a test
holds shows later edits (`chat.update`, `replace_original`) and deletion; `versions` keeps what it looked
like before each edit.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Literal

JSON = dict[str, Any]
# `public_not_member`: a public channel the bot was never invited to. With `chat:write.public` it can post
# and edit there, but it cannot read the channel: `conversations.history`/`.replies` answer `not_in_channel`.
ChannelState = Literal["ok", "archived", "not_in_channel", "not_found", "public_not_member"]
EphemeralSource = Literal["chat.postEphemeral", "response_url", "ack", "slack"]


@dataclass
class RecordedCall:
    """One request to the fake Web API, whatever its outcome (faults and auth failures included)."""

    method: str
    args: JSON  # query, form and JSON arguments merged; the token is never kept
    at: float  # time.time() when the request arrived
    status: int = 200  # HTTP status answered
    response: JSON = field(default_factory=dict)
    duration: float = 0.0  # seconds spent answering, injected latency included

    @property
    def ok(self) -> bool:
        return self.status == 200 and bool(self.response.get("ok"))

    @property
    def error(self) -> str | None:
        value = self.response.get("error")
        return str(value) if value is not None else None


@dataclass
class MessageVersion:
    """A message's content before one of its edits."""

    text: str
    blocks: list[JSON]
    edited_at: float


@dataclass
class StoredMessage:
    """A message in a channel (top level or thread reply), in Slack's own shape via `to_slack()`."""

    channel: str
    ts: str
    text: str
    blocks: list[JSON]
    user: str  # the author: the bot's user id for bot messages
    bot_id: str | None = None
    thread_ts: str | None = None  # the parent's ts for a reply; None for a top-level message
    reply_broadcast: bool = False  # a reply that is also shown in the channel
    metadata: JSON | None = None  # {"event_type": ..., "event_payload": {...}}
    deleted: bool = False
    versions: list[MessageVersion] = field(default_factory=list)
    replies: list[StoredMessage] = field(default_factory=list, repr=False)
    files: list[JSON] = field(default_factory=list)  # Slack's file objects of a file share

    @property
    def is_reply(self) -> bool:
        return self.thread_ts is not None and self.thread_ts != self.ts

    @property
    def edited(self) -> bool:
        return bool(self.versions)

    def live_replies(self) -> list[StoredMessage]:
        return [reply for reply in self.replies if not reply.deleted]

    def edit(self, *, text: str, blocks: list[JSON], at: float) -> None:
        self.versions.append(MessageVersion(self.text, copy.deepcopy(self.blocks), at))
        self.text = text
        self.blocks = blocks

    def to_slack(self, *, team_id: str, app_id: str, include_metadata: bool = True) -> JSON:
        """The message as the Web API returns it (conversations.history, chat.postMessage's `message`)."""
        message: JSON = {
            "type": "message",
            "ts": self.ts,
            "user": self.user,
            "text": self.text,
            "team": team_id,
        }
        if self.bot_id is not None:
            message["bot_id"] = self.bot_id
            message["app_id"] = app_id
        if self.blocks:
            message["blocks"] = copy.deepcopy(self.blocks)
        if self.is_reply:
            message["thread_ts"] = self.thread_ts
            if self.reply_broadcast:
                message["subtype"] = "thread_broadcast"
        replies = self.live_replies()
        if replies:
            message["thread_ts"] = self.ts
            message["reply_count"] = len(replies)
            message["reply_users"] = sorted({reply.user for reply in replies})
            message["reply_users_count"] = len(message["reply_users"])
            message["latest_reply"] = replies[-1].ts
        if self.versions:
            message["edited"] = {"user": self.user, "ts": self.ts}
        if include_metadata and self.metadata is not None:
            message["metadata"] = copy.deepcopy(self.metadata)
        if self.files:
            message["files"] = copy.deepcopy(self.files)
            message["upload"] = True
        return message


@dataclass
class StoredEphemeral:
    """A message only `user` sees: chat.postEphemeral, an ephemeral response_url post, a command's ack text,
    or an error Slack itself shows (a failed command)."""

    id: str  # the `message_ts` Slack returns for chat.postEphemeral
    channel: str
    user: str
    text: str
    blocks: list[JSON]
    source: EphemeralSource
    thread_ts: str | None = None
    deleted: bool = False
    versions: list[MessageVersion] = field(default_factory=list)

    @property
    def ts(self) -> str:
        return self.id

    def edit(self, *, text: str, blocks: list[JSON], at: float) -> None:
        self.versions.append(MessageVersion(self.text, copy.deepcopy(self.blocks), at))
        self.text = text
        self.blocks = blocks

    def to_slack(self) -> JSON:
        message: JSON = {"type": "message", "subtype": "ephemeral", "ts": self.id, "text": self.text}
        if self.blocks:
            message["blocks"] = copy.deepcopy(self.blocks)
        if self.thread_ts:
            message["thread_ts"] = self.thread_ts
        return message


@dataclass
class ResponsePost:
    """One POST to a response_url the stand-in issued (or an ack body Slack treats the same way)."""

    response_url_id: str
    body: JSON
    at: float
    status: int  # HTTP status answered to the poster
    source: Literal["response_url", "ack"] = "response_url"
    error: str | None = None

    @property
    def response_type(self) -> str:
        return str(self.body.get("response_type") or "ephemeral")


@dataclass
class OpenView:
    """A modal the bot opened (views.open / views.push) for a user; `view` is Slack's full view object."""

    id: str
    user: str
    view: JSON
    opened_at: float
    errors: dict[str, str] = field(default_factory=dict)  # block_id -> message, from response_action=errors

    @property
    def callback_id(self) -> str:
        return str(self.view.get("callback_id") or "")

    @property
    def private_metadata(self) -> str:
        return str(self.view.get("private_metadata") or "")

    @property
    def blocks(self) -> list[JSON]:
        blocks = self.view.get("blocks")
        return list(blocks) if isinstance(blocks, list) else []


@dataclass
class PacingViolation:
    """The bot posted to `channel` faster than the configured pace (Slack: about 1 message/s/channel)."""

    channel: str
    method: str
    at: float
    posts_in_last_second: int


@dataclass
class SlackUser:
    id: str
    name: str
    real_name: str
    is_admin: bool = False
    is_bot: bool = False
    email: str | None = None  # what users.lookupByEmail finds the member by

    def to_slack(self, team_id: str) -> JSON:
        return {
            "id": self.id,
            "team_id": team_id,
            "name": self.name,
            "real_name": self.real_name,
            "deleted": False,
            "is_bot": self.is_bot,
            "is_admin": self.is_admin,
            "tz": "Europe/London",
            "tz_offset": 0,
            "profile": {
                "real_name": self.real_name,
                "display_name": self.name,
                **({"email": self.email} if self.email else {}),
            },
        }


@dataclass
class Channel:
    id: str
    name: str
    state: ChannelState = "ok"
    is_private: bool = False
    created: int = 1_700_000_000

    def to_slack(self) -> JSON:
        return {
            "id": self.id,
            "name": self.name,
            "is_channel": not self.is_private,
            "is_group": self.is_private,
            "is_private": self.is_private,
            "is_archived": self.state == "archived",
            "is_member": self.state not in ("not_in_channel", "public_not_member"),
            "created": self.created,
        }
