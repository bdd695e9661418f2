"""The Web API methods the stand-in implements, answering with Slack's shapes and Slack's error codes.

Each method takes the request's merged arguments and returns the JSON body of a successful answer, or
raises `ApiError(code)`; the server turns that into `{"ok": false, "error": code}` with HTTP 200, as
Slack does. HTTP-level faults (429, 5xx) and authentication are handled by the server before a method runs.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from bot.sandbox.standin.api_args import (
    ApiError,
    arg_bool,
    arg_int,
    arg_json,
    arg_str,
    parse_message_content,
    parse_metadata,
)
from bot.sandbox.standin.faults import Faults
from bot.sandbox.standin.home import home_methods
from bot.sandbox.standin.limits import view_problems
from bot.sandbox.standin.models import JSON, Channel, OpenView, StoredMessage
from bot.sandbox.standin.workspace import Workspace

_TS = re.compile(r"^\d+\.\d+$")


class RefusedByPacing(Exception):
    """The pacing checker is enforcing and this post came too fast: answer 429 like Slack."""


def _with_warnings(body: JSON, warnings: list[str]) -> JSON:
    if warnings:
        body["warning"] = ",".join(warnings)
        body["response_metadata"] = {"warnings": warnings}
    return body


# ---- the methods -----------------------------------------------------------------------------------------


class WebApi:
    def __init__(
        self,
        workspace: Workspace,
        faults: Faults,
        *,
        base_url: Callable[[], str],
        trigger_ttl: Callable[[], float | None],
    ) -> None:
        self.workspace = workspace
        self.faults = faults
        self._base_url = base_url
        self._trigger_ttl = trigger_ttl
        self.methods: dict[str, Callable[[JSON], JSON]] = {
            "api.test": lambda args: {"ok": True, "args": args},
            "auth.test": self.auth_test,
            "chat.postMessage": self.chat_post_message,
            "chat.update": self.chat_update,
            "chat.postEphemeral": self.chat_post_ephemeral,
            "chat.delete": self.chat_delete,
            "conversations.replies": self.conversations_replies,
            "conversations.history": self.conversations_history,
            "conversations.info": self.conversations_info,
            "views.open": self.views_open,
            "views.update": self.views_update,
            "views.push": self.views_push,
            "users.info": self.users_info,
            "users.lookupByEmail": self.users_lookup_by_email,
            **home_methods(workspace),
        }

    def call(self, method: str, args: JSON) -> JSON:
        handler = self.methods.get(method)
        if handler is None:
            raise ApiError("unknown_method", req_method=method)
        return handler(args)

    # -- helpers --

    def _channel(self, args: JSON, *, for_posting: bool, reads_messages: bool = False) -> Channel:
        channel_id = arg_str(args, "channel")
        if channel_id is None:
            raise ApiError("channel_not_found")
        if channel_id.startswith("U"):
            # Posting to a user id opens (or reuses) the direct-message conversation with them.
            user = self.workspace.ensure_user(channel_id)
            channel_id = "D" + channel_id[1:]
            if channel_id not in self.workspace.channels:
                self.workspace.add_channel(channel_id, f"@{user.name}", is_private=True)
        channel = self.workspace.ensure_channel(channel_id)
        if channel.state == "not_found":
            raise ApiError("channel_not_found")
        if for_posting and channel.state == "archived":
            raise ApiError("is_archived")
        if for_posting and channel.state == "not_in_channel":
            raise ApiError("not_in_channel")
        if reads_messages and channel.state == "public_not_member":
            # chat:write.public lets a bot post in any public channel, not read one it is not a member of.
            raise ApiError("not_in_channel")
        return channel

    def _pace(self, method: str, channel: str) -> None:
        if (
            not self.faults.pacing.check(method, channel, self.workspace.clock())
            and self.faults.pacing.enforce
        ):
            raise RefusedByPacing

    def _message_body(self, message: StoredMessage) -> JSON:
        return self.workspace.message_json(message)

    # -- auth / users --

    def auth_test(self, args: JSON) -> JSON:
        ws = self.workspace
        return {
            "ok": True,
            "url": self._base_url() + "/",
            "team": ws.team_domain,
            "user": "tuneops",
            "team_id": ws.team_id,
            "user_id": ws.bot_user_id,
            "bot_id": ws.bot_id,
            "app_id": ws.app_id,
            "is_enterprise_install": False,
        }

    def users_info(self, args: JSON) -> JSON:
        user_id = arg_str(args, "user")
        user = self.workspace.users.get(user_id or "")
        if user is None:
            raise ApiError("user_not_found")
        return {"ok": True, "user": user.to_slack(self.workspace.team_id)}

    def users_lookup_by_email(self, args: JSON) -> JSON:
        email = (arg_str(args, "email") or "").strip().lower()
        if not email:
            raise ApiError("invalid_arguments")
        for user in self.workspace.users.values():
            if user.email and user.email.lower() == email:
                return {"ok": True, "user": user.to_slack(self.workspace.team_id)}
        raise ApiError("users_not_found")

    # -- chat --

    def chat_post_message(self, args: JSON) -> JSON:
        channel = self._channel(args, for_posting=True)
        content = parse_message_content(args)
        assert content is not None  # required=True never answers None
        metadata = parse_metadata(args)
        thread_ts = arg_str(args, "thread_ts")
        if thread_ts is not None:
            if not _TS.match(thread_ts):
                raise ApiError("invalid_thread_ts")
            if self.workspace.thread_parent(channel.id, thread_ts) is None:
                raise ApiError("thread_not_found")
        self._pace("chat.postMessage", channel.id)
        message = self.workspace.post_message(
            channel.id,
            text=content.text,
            blocks=content.blocks,
            user=self.workspace.bot_user_id,
            bot=True,
            thread_ts=thread_ts,
            reply_broadcast=arg_bool(args, "reply_broadcast"),
            metadata=metadata,
        )
        body = {"ok": True, "channel": channel.id, "ts": message.ts, "message": self._message_body(message)}
        return _with_warnings(body, content.warnings)

    def chat_update(self, args: JSON) -> JSON:
        channel = self._channel(args, for_posting=True)
        ts = arg_str(args, "ts")
        message = self.workspace.find_message(channel.id, ts or "")
        if message is None:
            raise ApiError("message_not_found")
        if message.bot_id is None:
            raise ApiError("cant_update_message")
        blocks_sent = "blocks" in args
        content = parse_message_content(args, required=not blocks_sent)
        metadata = parse_metadata(args)
        text = content.text if content else ""
        # Slack keeps the previous blocks when `blocks` is left out; an empty list removes them.
        blocks = content.blocks if blocks_sent and content else ([] if blocks_sent else message.blocks)
        self.workspace.edit_message(message, text=text, blocks=blocks, metadata=metadata)
        body = {
            "ok": True,
            "channel": channel.id,
            "ts": message.ts,
            "text": message.text,
            "message": self._message_body(message),
        }
        return _with_warnings(body, content.warnings if content else [])

    def chat_post_ephemeral(self, args: JSON) -> JSON:
        channel = self._channel(args, for_posting=True)
        user_id = arg_str(args, "user")
        if user_id is None or user_id not in self.workspace.users:
            raise ApiError("user_not_in_channel")
        content = parse_message_content(args)
        assert content is not None
        ephemeral = self.workspace.post_ephemeral(
            channel.id,
            user_id,
            text=content.text,
            blocks=content.blocks,
            source="chat.postEphemeral",
            thread_ts=arg_str(args, "thread_ts"),
        )
        return _with_warnings({"ok": True, "message_ts": ephemeral.id}, content.warnings)

    def chat_delete(self, args: JSON) -> JSON:
        channel = self._channel(args, for_posting=False)
        message = self.workspace.find_message(channel.id, arg_str(args, "ts") or "")
        if message is None:
            raise ApiError("message_not_found")
        if message.bot_id is None:
            raise ApiError("cant_delete_message")
        self.workspace.delete_message(message)
        return {"ok": True, "channel": channel.id, "ts": message.ts}

    # -- conversations --

    def conversations_info(self, args: JSON) -> JSON:
        channel = self._channel(args, for_posting=False)
        return {"ok": True, "channel": channel.to_slack()}

    def _page(self, items: list[JSON], args: JSON, *, default_limit: int) -> JSON:
        limit = max(1, min(arg_int(args, "limit", default_limit), 1000))
        cursor = arg_str(args, "cursor")
        start = 0
        if cursor is not None:
            try:
                start = int(cursor.removeprefix("offset:"))
            except ValueError:
                raise ApiError("invalid_cursor") from None
        page = items[start : start + limit]
        has_more = start + limit < len(items)
        return {
            "ok": True,
            "messages": page,
            "has_more": has_more,
            "response_metadata": {"next_cursor": f"offset:{start + limit}" if has_more else ""},
        }

    @staticmethod
    def _in_range(ts: str, args: JSON) -> bool:
        bounds: dict[str, float | None] = {}
        for key in ("oldest", "latest"):
            raw = args.get(key)
            try:
                bounds[key] = float(raw) if raw not in (None, "") else None
            except (TypeError, ValueError):
                raise ApiError(f"invalid_ts_{key}") from None
        oldest, latest = bounds["oldest"], bounds["latest"]
        inclusive = arg_bool(args, "inclusive")
        value = float(ts)
        if oldest is not None and (value < oldest or (value == oldest and not inclusive)):
            return False
        return not (latest is not None and (value > latest or (value == latest and not inclusive)))

    def conversations_history(self, args: JSON) -> JSON:
        channel = self._channel(args, for_posting=False, reads_messages=True)
        include_metadata = arg_bool(args, "include_all_metadata")
        messages = [
            self.workspace.message_json(m, include_metadata=include_metadata)
            for m in reversed(self.workspace.messages(channel.id))
            if self._in_range(m.ts, args)
        ]
        return self._page(messages, args, default_limit=100)

    def conversations_replies(self, args: JSON) -> JSON:
        channel = self._channel(args, for_posting=False, reads_messages=True)
        ts = arg_str(args, "ts")
        if ts is None:
            raise ApiError("thread_not_found")
        parent = self.workspace.thread_parent(channel.id, ts)
        if parent is None:
            raise ApiError("thread_not_found")
        include_metadata = arg_bool(args, "include_all_metadata")
        thread = [parent, *parent.live_replies()]
        messages = [
            self.workspace.message_json(m, include_metadata=include_metadata)
            for m in thread
            if m is parent or self._in_range(m.ts, args)
        ]
        return self._page(messages, args, default_limit=1000)

    # -- views --

    def _checked_view(self, args: JSON) -> JSON:
        view = arg_json(args, "view")
        problems = view_problems(view)
        if problems:
            raise ApiError(
                "invalid_arguments", response_metadata={"messages": [f"[ERROR] {p}" for p in problems]}
            )
        assert isinstance(view, dict)
        return view

    def _trigger_user(self, args: JSON) -> str:
        trigger_id = arg_str(args, "trigger_id")
        if trigger_id is None:
            raise ApiError(
                "invalid_arguments", response_metadata={"messages": ["[ERROR] missing trigger_id"]}
            )
        trigger = self.workspace.use_trigger(trigger_id, self._trigger_ttl())
        if isinstance(trigger, str):
            raise ApiError(trigger)
        return trigger.user

    def _view_body(self, opened: OpenView) -> JSON:
        return {"ok": True, "view": opened.view}

    def views_open(self, args: JSON) -> JSON:
        view = self._checked_view(args)
        user = self._trigger_user(args)
        self.workspace.modals.close_view(
            user, all_views=True
        )  # a new modal replaces whatever the user had open
        opened = self.workspace.modals.push_view(user, view)
        assert isinstance(opened, OpenView)
        return self._view_body(opened)

    def views_push(self, args: JSON) -> JSON:
        view = self._checked_view(args)
        user = self._trigger_user(args)
        if self.workspace.modals.open_view(user) is None:
            raise ApiError("not_found")
        opened = self.workspace.modals.push_view(user, view)
        if isinstance(opened, str):
            raise ApiError(opened)
        return self._view_body(opened)

    def views_update(self, args: JSON) -> JSON:
        view = self._checked_view(args)
        view_id, external_id = arg_str(args, "view_id"), arg_str(args, "external_id")
        if view_id is None and external_id is None:
            raise ApiError(
                "invalid_arguments", response_metadata={"messages": ["[ERROR] view_id or external_id"]}
            )
        opened = self.workspace.modals.find_view(view_id=view_id, external_id=external_id)
        if opened is None:
            raise ApiError("not_found")
        expected_hash = arg_str(args, "hash")
        if expected_hash is not None and expected_hash != opened.view.get("hash"):
            raise ApiError("hash_conflict")
        self.workspace.modals.replace_view(opened, view)
        return self._view_body(opened)
