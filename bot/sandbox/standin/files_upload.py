"""Slack's three-step file upload, as the stand-in serves it (what slack_sdk's `files_upload_v2` calls).

1. `files.getUploadURLExternal(filename, length[, alt_txt])` answers a `file_id` and an `upload_url` on
   the stand-in itself (`/upload/v1/<token>`), as Slack answers one on files.slack.com;
2. the bytes are POSTed to that URL (answer 200 `OK - <length>`);
3. `files.completeUploadExternal(files=[{id, title}], channel_id[, thread_ts, initial_comment])` shares
   them: one message by the bot, in the thread when `thread_ts` is given, holding the files (and the
   comment as its text), as Slack posts it.

A file uploaded but never completed is never shown; one completed is not completed again. Every upload is
kept (`uploads`) for tests to look at, and the page shows images at `/_standin/files/<file_id>`.
"""

from __future__ import annotations

import mimetypes
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web

from bot.sandbox.standin.api_args import ApiError, arg_json, arg_str
from bot.sandbox.standin.models import JSON, StoredMessage
from bot.sandbox.standin.webapi import WebApi

UPLOAD_PATH = "/upload/v1/{token}"
PREVIEW_PATH = "/_standin/files/{file_id}"
FILES_SCOPE = "files:write"
_TS = re.compile(r"^\d+\.\d+$")
MAX_FILE_BYTES = 8 * 1024 * 1024  # the stand-in's request limit; Slack's is 1 GB


@dataclass
class Upload:
    file_id: str
    filename: str
    length: int  # what getUploadURLExternal was told
    alt_txt: str | None
    token: str  # the secret part of its upload URL
    content: bytes | None = None  # once POSTed
    title: str | None = None
    message: StoredMessage | None = None  # once completed: the message that shares it

    @property
    def mimetype(self) -> str:
        return mimetypes.guess_type(self.filename)[0] or "application/octet-stream"

    def to_slack(self, *, base_url: str, team_id: str, user: str) -> JSON:
        """The file object as Slack describes it (in files.completeUploadExternal and in messages)."""
        size = len(self.content or b"")
        body: JSON = {
            "id": self.file_id,
            "name": self.filename,
            "title": self.title or self.filename,
            "mimetype": self.mimetype,
            "filetype": self.filename.rpartition(".")[2].lower() if "." in self.filename else "binary",
            "size": size,
            "user": user,
            "is_external": False,
            "url_private": f"{base_url}/files-pri/{team_id}-{self.file_id}/{self.filename}",
        }
        if self.alt_txt:
            body["alt_txt"] = self.alt_txt
        return body


class FileUploads:
    def __init__(
        self, webapi: WebApi, *, base_url: Callable[[], str], scopes: Callable[[], tuple[str, ...] | None]
    ) -> None:
        self._webapi = webapi
        self._base_url = base_url
        self._scopes = scopes
        self.uploads: dict[str, Upload] = {}
        self._by_token: dict[str, Upload] = {}

    def register(self, app: web.Application) -> None:
        self._webapi.methods["files.getUploadURLExternal"] = self.get_upload_url
        self._webapi.methods["files.completeUploadExternal"] = self.complete_upload
        app.router.add_post(UPLOAD_PATH, self._receive)
        app.router.add_get(PREVIEW_PATH, self._preview)

    def shared_in(self, channel: str, thread_ts: str | None = None) -> list[Upload]:
        """The files completed into `channel` (and into the thread of `thread_ts`, when given), in order."""
        return [
            u
            for u in self.uploads.values()
            if u.message is not None
            and u.message.channel == channel
            and (thread_ts is None or u.message.thread_ts == thread_ts)
        ]

    # -- the Web API methods --

    def _check_scope(self) -> None:
        scopes = self._scopes()
        if scopes is not None and FILES_SCOPE not in scopes:
            raise ApiError("missing_scope", needed=FILES_SCOPE, provided=",".join(scopes))

    def get_upload_url(self, args: JSON) -> JSON:
        self._check_scope()
        filename = arg_str(args, "filename")
        length = _length(args.get("length"))
        if not filename or length is None:
            raise ApiError(
                "invalid_arguments",
                response_metadata={"messages": ["[ERROR] filename and a positive length are required"]},
            )
        if length > MAX_FILE_BYTES:
            raise ApiError("file_too_large")
        upload = Upload(
            file_id="F" + secrets.token_hex(5).upper(),
            filename=filename,
            length=length,
            alt_txt=arg_str(args, "alt_txt"),
            token=secrets.token_urlsafe(16),
        )
        self.uploads[upload.file_id] = upload
        self._by_token[upload.token] = upload
        url = self._base_url() + UPLOAD_PATH.format(token=upload.token)
        return {"ok": True, "upload_url": url, "file_id": upload.file_id}

    def complete_upload(self, args: JSON) -> JSON:
        self._check_scope()
        wanted = arg_json(args, "files")
        if not isinstance(wanted, list) or not wanted or not all(isinstance(f, dict) for f in wanted):
            raise ApiError("invalid_arguments", response_metadata={"messages": ["[ERROR] files is required"]})
        uploads = []
        for item in wanted:
            upload = self.uploads.get(str(item.get("id") or ""))
            if upload is None or upload.content is None or upload.message is not None:
                raise ApiError("file_not_found")  # unknown, not uploaded yet, or already completed
            if len(upload.content) != upload.length:
                raise ApiError("file_upload_size_mismatch")
            uploads.append((upload, item.get("title")))
        channel_id = arg_str(args, "channel_id")
        if channel_id is None:
            # Completed without a channel: a private file nobody sees in a conversation.
            for upload, title in uploads:
                upload.title = str(title) if title else None
            return {"ok": True, "files": [self._file_json(u) for u, _ in uploads]}
        channel = self._webapi.posting_channel(channel_id)
        thread_ts = arg_str(args, "thread_ts")
        if thread_ts is not None:
            if not _TS.match(thread_ts):
                raise ApiError("invalid_thread_ts")
            if self._webapi.workspace.thread_parent(channel.id, thread_ts) is None:
                raise ApiError("thread_not_found")
        for upload, title in uploads:
            upload.title = str(title) if title else None
        workspace = self._webapi.workspace
        message = workspace.post_message(
            channel.id,
            text=arg_str(args, "initial_comment") or "",
            blocks=[],
            user=workspace.bot_user_id,
            bot=True,
            thread_ts=thread_ts,
            files=[self._file_json(u) for u, _ in uploads],
        )
        for upload, _ in uploads:
            upload.message = message
        return {"ok": True, "files": [self._file_json(u) for u, _ in uploads]}

    def _file_json(self, upload: Upload) -> JSON:
        workspace = self._webapi.workspace
        return upload.to_slack(
            base_url=self._base_url(), team_id=workspace.team_id, user=workspace.bot_user_id
        )

    # -- HTTP: the upload URL and the page's preview --

    async def _receive(self, request: web.Request) -> web.Response:
        upload = self._by_token.get(request.match_info["token"])
        if upload is None or upload.content is not None:
            return web.Response(status=404, text="upload URL unknown or already used")
        content = await request.read()
        if not content:
            return web.Response(status=400, text="no file content")
        upload.content = content
        return web.Response(text=f"OK - {len(content)}")

    async def _preview(self, request: web.Request) -> web.Response:
        upload = self.uploads.get(request.match_info["file_id"])
        if upload is None or upload.content is None or upload.message is None:
            raise web.HTTPNotFound
        return web.Response(body=upload.content, content_type=upload.mimetype)


def _length(raw: object) -> int | None:
    try:
        value = int(str(raw))
    except ValueError:
        return None
    return value if value > 0 else None
