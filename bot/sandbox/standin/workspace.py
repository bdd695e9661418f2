"""The stand-in's workspace: channels, people, messages, ephemerals, trigger ids, response_urls (and, in
`modals`, the views people have open).

Everything a fake Slack must remember lives here, with no HTTP in sight; the Web API methods
(`webapi.py`), the response_url sink, the sender and the web page all change it through these methods,
and every change is appended to `updates` so the page can follow along.
"""

from __future__ import annotations

import copy
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.sandbox.standin.block_ids import fill_block_ids
from bot.sandbox.standin.home_tabs import HomeTabs
from bot.sandbox.standin.modals import Modals
from bot.sandbox.standin.models import (
    JSON,
    Channel,
    ChannelState,
    EphemeralSource,
    SlackUser,
    StoredEphemeral,
    StoredMessage,
)
from bot.sandbox.standin.updates import UpdateLog

DEFAULT_CHANNELS = (("C_ML", "ml-team"), ("C_GENERAL", "general"))
DEFAULT_USERS = (
    ("U_SANDBOX", "sam", "Sam Rivera"),  # the page's default user: a real-looking name others read
    ("U_ALICE", "alice", "Alice Example"),
    ("U_BOB", "bob", "Bob Example"),
    ("U_CAROL", "carol", "Carol Example"),
)
EMAIL_DOMAIN = "example.com"  # the default members' addresses: alice@example.com…
RESPONSE_URL_MAX_USES = 5  # Slack: up to 5 times within 30 minutes
RESPONSE_URL_LIFETIME = 30 * 60


@dataclass
class ResponseTarget:
    """Where a response_url's posts go: the interaction's channel and person, and the message it came from."""

    id: str
    channel: str
    user: str
    created: float
    message_ts: str | None = None  # a channel message the interaction came from (replace/delete_original)
    ephemeral_id: str | None = None  # or an ephemeral message it came from
    thread_ts: str | None = None
    uses: int = 0


@dataclass
class Trigger:
    id: str
    user: str
    issued: float
    used: bool = False


@dataclass
class Workspace:
    team_id: str
    team_domain: str = "standin"
    bot_user_id: str = "U_BOT"
    bot_id: str = "B_BOT"
    app_id: str = "A_STANDIN"
    clock: Callable[[], float] = time.time
    channels: dict[str, Channel] = field(default_factory=dict)
    users: dict[str, SlackUser] = field(default_factory=dict)
    updates: UpdateLog = field(default_factory=UpdateLog)
    _messages: dict[str, list[StoredMessage]] = field(default_factory=dict)
    _by_ts: dict[tuple[str, str], StoredMessage] = field(default_factory=dict)
    _ephemerals: list[StoredEphemeral] = field(default_factory=list)
    modals: Modals = field(init=False)
    home: HomeTabs = field(init=False)  # the app's Home tab of each person (home.py)
    _triggers: dict[str, Trigger] = field(default_factory=dict)
    _responses: dict[str, ResponseTarget] = field(default_factory=dict)
    _last_ts: float = 0.0

    def __post_init__(self) -> None:
        for channel_id, name in DEFAULT_CHANNELS:
            self.channels[channel_id] = Channel(channel_id, name)
        for user_id, name, real_name in DEFAULT_USERS:
            self.users[user_id] = SlackUser(user_id, name, real_name, email=f"{name}@{EMAIL_DOMAIN}")
        self.users[self.bot_user_id] = SlackUser(self.bot_user_id, "tuneops", "TuneOps", is_bot=True)
        self.modals = Modals(
            team_id=self.team_id,
            app_id=self.app_id,
            bot_id=self.bot_id,
            updates=self.updates,
            clock=self.clock,
        )
        self.home = HomeTabs(modals=self.modals, updates=self.updates)

    # ---- directory -------------------------------------------------------------------------------------

    def add_channel(self, channel_id: str, name: str, *, is_private: bool = False) -> Channel:
        channel = Channel(channel_id, name, is_private=is_private)
        self.channels[channel_id] = channel
        self.updates.add("directory", {})
        return channel

    def ensure_channel(self, channel_id: str) -> Channel:
        """The channel, created on first mention (so tests may use any id) unless marked not_found."""
        channel = self.channels.get(channel_id)
        if channel is None:
            channel = self.add_channel(channel_id, channel_id.lower().removeprefix("c_") or channel_id)
        return channel

    def set_channel_state(self, channel_id: str, state: ChannelState) -> None:
        self.ensure_channel(channel_id).state = state
        self.updates.add("directory", {})

    def add_user(
        self, user_id: str, name: str, real_name: str | None = None, *, is_admin: bool = False
    ) -> SlackUser:
        user = SlackUser(user_id, name, real_name or name, is_admin=is_admin, email=f"{name}@{EMAIL_DOMAIN}")
        self.users[user_id] = user
        self.updates.add("directory", {})
        return user

    def ensure_user(self, user_id: str) -> SlackUser:
        user = self.users.get(user_id)
        if user is None:
            user = self.add_user(user_id, user_id.lower().removeprefix("u_") or user_id)
        return user

    # ---- messages --------------------------------------------------------------------------------------

    def new_ts(self) -> str:
        """A unique, increasing message timestamp in Slack's `seconds.micros` form."""
        now = round(self.clock(), 6)
        self._last_ts = max(now, round(self._last_ts + 0.000001, 6))
        return f"{self._last_ts:.6f}"

    def messages(self, channel: str) -> list[StoredMessage]:
        """Top-level messages of a channel, oldest first, including thread replies also sent to the channel."""
        return [
            m
            for m in self._messages.get(channel, [])
            if not m.deleted and (not m.is_reply or m.reply_broadcast)
        ]

    def all_messages(self, channel: str) -> list[StoredMessage]:
        """Every live message of a channel, replies included, oldest first."""
        return [m for m in self._messages.get(channel, []) if not m.deleted]

    def find_message(self, channel: str, ts: str) -> StoredMessage | None:
        message = self._by_ts.get((channel, ts))
        return message if message is not None and not message.deleted else None

    def thread_parent(self, channel: str, ts: str) -> StoredMessage | None:
        """The parent of the thread `ts` belongs to (`ts` may be the parent or any reply)."""
        message = self.find_message(channel, ts)
        if message is not None and message.is_reply and message.thread_ts is not None:
            return self.find_message(channel, message.thread_ts)
        return message

    def post_message(
        self,
        channel: str,
        *,
        text: str,
        blocks: list[JSON],
        user: str,
        bot: bool,
        thread_ts: str | None = None,
        reply_broadcast: bool = False,
        metadata: JSON | None = None,
        files: list[JSON] | None = None,
    ) -> StoredMessage:
        parent = self.thread_parent(channel, thread_ts) if thread_ts else None
        message = StoredMessage(
            channel=channel,
            ts=self.new_ts(),
            text=text,
            blocks=fill_block_ids(blocks),
            user=user,
            bot_id=self.bot_id if bot else None,
            thread_ts=parent.ts if parent else None,
            reply_broadcast=reply_broadcast and parent is not None,
            metadata=copy.deepcopy(metadata),
            files=copy.deepcopy(files or []),
        )
        self._messages.setdefault(channel, []).append(message)
        self._by_ts[(channel, message.ts)] = message
        self._message_changed(message)
        if parent is not None:
            parent.replies.append(message)
            self._message_changed(parent)
        return message

    def edit_message(
        self, message: StoredMessage, *, text: str, blocks: list[JSON], metadata: JSON | None
    ) -> None:
        message.edit(text=text, blocks=fill_block_ids(blocks), at=self.clock())
        if metadata is not None:
            message.metadata = copy.deepcopy(metadata)
        self._message_changed(message)

    def message_edited_in_place(self, message: StoredMessage) -> None:
        """Tell the page a message changed without a new version (files attached to a new message)."""
        self._message_changed(message)

    def delete_message(self, message: StoredMessage) -> None:
        message.deleted = True
        self.updates.add("delete", {"channel": message.channel, "ts": message.ts})
        parent = (
            self.thread_parent(message.channel, message.thread_ts)
            if message.is_reply and message.thread_ts
            else None
        )
        if parent is not None:
            self._message_changed(parent)

    def message_json(self, message: StoredMessage, *, include_metadata: bool = True) -> JSON:
        return message.to_slack(team_id=self.team_id, app_id=self.app_id, include_metadata=include_metadata)

    def _message_changed(self, message: StoredMessage) -> None:
        self.updates.add("message", {"channel": message.channel, "message": self.ui_message(message)})

    def ui_message(self, message: StoredMessage) -> JSON:
        """A message as the page draws it: Slack's shape plus who wrote it and where it shows."""
        data = self.message_json(message)
        author = self.users.get(message.user)
        data["standin"] = {
            "channel": message.channel,
            "author": author.real_name if author else message.user,
            "is_bot": message.bot_id is not None,
            "is_reply": message.is_reply,
            "reply_broadcast": message.reply_broadcast,
            "edited": message.edited,
        }
        return data

    # ---- ephemerals ------------------------------------------------------------------------------------

    def post_ephemeral(
        self,
        channel: str,
        user: str,
        *,
        text: str,
        blocks: list[JSON],
        source: EphemeralSource,
        thread_ts: str | None = None,
    ) -> StoredEphemeral:
        ephemeral = StoredEphemeral(
            id=self.new_ts(),
            channel=channel,
            user=user,
            text=text,
            blocks=fill_block_ids(blocks),
            source=source,
            thread_ts=thread_ts,
        )
        self._ephemerals.append(ephemeral)
        self._ephemeral_changed(ephemeral)
        return ephemeral

    def ephemerals(self, user: str | None = None) -> list[StoredEphemeral]:
        return [e for e in self._ephemerals if not e.deleted and (user is None or e.user == user)]

    def find_ephemeral(self, ephemeral_id: str) -> StoredEphemeral | None:
        for ephemeral in self._ephemerals:
            if ephemeral.id == ephemeral_id and not ephemeral.deleted:
                return ephemeral
        return None

    def edit_ephemeral(self, ephemeral: StoredEphemeral, *, text: str, blocks: list[JSON]) -> None:
        ephemeral.edit(text=text, blocks=fill_block_ids(blocks), at=self.clock())
        self._ephemeral_changed(ephemeral)

    def delete_ephemeral(self, ephemeral: StoredEphemeral) -> None:
        ephemeral.deleted = True
        self._ephemeral_changed(ephemeral)

    def ui_ephemeral(self, ephemeral: StoredEphemeral) -> JSON:
        data = ephemeral.to_slack()
        data["standin"] = {
            "channel": ephemeral.channel,
            "user": ephemeral.user,
            "source": ephemeral.source,
            "deleted": ephemeral.deleted,
            "edited": bool(ephemeral.versions),
            "author": "Slackbot" if ephemeral.source == "slack" else "TuneOps",
        }
        return data

    def _ephemeral_changed(self, ephemeral: StoredEphemeral) -> None:
        self.updates.add(
            "ephemeral",
            {"user": ephemeral.user, "channel": ephemeral.channel, "message": self.ui_ephemeral(ephemeral)},
        )

    # ---- trigger ids and response_urls ------------------------------------------------------------------

    def issue_trigger(self, user: str) -> str:
        trigger_id = f"{int(self.clock())}.{secrets.randbelow(10**12)}.{secrets.token_hex(16)}"
        self._triggers[trigger_id] = Trigger(trigger_id, user, self.clock())
        return trigger_id

    def use_trigger(self, trigger_id: str, ttl: float | None) -> Trigger | str:
        """The trigger, now spent, or the error Slack would answer (`invalid_trigger_id`, ...)."""
        trigger = self._triggers.get(trigger_id)
        if trigger is None:
            return "invalid_trigger_id"
        if trigger.used:
            return "exchanged_trigger_id"
        if ttl is not None and self.clock() - trigger.issued > ttl:
            return "expired_trigger_id"
        trigger.used = True
        return trigger

    def register_response_url(
        self,
        channel: str,
        user: str,
        *,
        message_ts: str | None = None,
        ephemeral_id: str | None = None,
        thread_ts: str | None = None,
    ) -> ResponseTarget:
        target = ResponseTarget(
            id=secrets.token_hex(12),
            channel=channel,
            user=user,
            created=self.clock(),
            message_ts=message_ts,
            ephemeral_id=ephemeral_id,
            thread_ts=thread_ts,
        )
        self._responses[target.id] = target
        return target

    def response_target(self, response_url_id: str) -> ResponseTarget | None:
        return self._responses.get(response_url_id)

    # ---- the page's first load -------------------------------------------------------------------------

    def snapshot(self, user: str) -> JSON:
        return {
            "seq": self.updates.seq,
            "team": {"id": self.team_id, "domain": self.team_domain},
            "bot_user_id": self.bot_user_id,
            "channels": [c.to_slack() for c in self.channels.values()],
            "users": [u.to_slack(self.team_id) for u in self.users.values()],
            "messages": {cid: [self.ui_message(m) for m in self.all_messages(cid)] for cid in self._messages},
            "ephemerals": [self.ui_ephemeral(e) for e in self.ephemerals(user)],
            "views": self.modals.ui_views(user),
            "home": self.home.view(user),
        }
