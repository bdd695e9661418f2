"""Files people share in the stand-in's channels, served to the bot the way Slack serves them.

A person shares a file (from a test with `share_file`, or from the page's paper clip): the stand-in keeps
its bytes, posts the message that carries it (`files: [...]`), and sends the bot Slack's `message` event
with the `file_share` subtype. The file object has Slack's shape; its `url_private` is on this server and,
like Slack's, answers the bytes only to `Authorization: Bearer <bot token>`. Without it Slack answers a
sign-in page (HTML, status 200) rather than an error, and so does the stand-in. `files.info` answers the
file object by id.
"""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aiohttp import web

from bot.sandbox.standin.api_args import ApiError, arg_str
from bot.sandbox.standin.api_requests import json_object
from bot.sandbox.standin.models import JSON, StoredMessage
from bot.sandbox.standin.sender import SentRequest

if TYPE_CHECKING:
    from bot.sandbox.standin.server import SlackStandIn

SIGN_IN_PAGE = "<!DOCTYPE html><html><head><title>Slack</title></head><body>Sign in to Slack</body></html>"


@dataclass
class SharedFile:
    id: str
    name: str
    content: bytes
    user: str
    created: int
    downloads: list[str] = field(default_factory=list)  # how each download was authorised: "bot" or "none"


class SharedFiles:
    def __init__(self, standin: SlackStandIn) -> None:
        self._standin = standin
        self._files: dict[str, SharedFile] = {}

    def add(self, name: str, content: bytes, *, user: str) -> SharedFile:
        file_id = f"F{len(self._files) + 1:08d}"
        shared = SharedFile(id=file_id, name=name, content=content, user=user, created=int(time.time()))
        self._files[file_id] = shared
        return shared

    def get(self, file_id: str) -> SharedFile | None:
        return self._files.get(file_id)

    def file_json(self, shared: SharedFile) -> JSON:
        """Slack's file object (the fields a bot reads)."""
        base = f"{self._standin.url}/files-pri/{self._standin.team_id}-{shared.id}"
        extension = shared.name.rsplit(".", 1)[-1].lower() if "." in shared.name else "text"
        return {
            "id": shared.id,
            "created": shared.created,
            "timestamp": shared.created,
            "name": shared.name,
            "title": shared.name,
            "mimetype": "text/plain",
            "filetype": extension,
            "pretty_type": extension.upper(),
            "user": shared.user,
            "mode": "hosted",
            "is_external": False,
            "size": len(shared.content),
            "url_private": f"{base}/{shared.name}",
            "url_private_download": f"{base}/download/{shared.name}",
        }

    def fill_file_inputs(self, state: JSON) -> JSON:
        """A modal's `state.values` with each attached file's id replaced by Slack's file object."""
        for actions in state.values():
            for entry in actions.values():
                if isinstance(entry, dict) and entry.get("type") == "file_input":
                    entry["files"] = [
                        self.file_json(shared) if (shared := self.get(str(f.get("id")))) else f
                        for f in entry.get("files") or []
                    ]
        return state

    # -- the Web API --

    def files_info(self, args: JSON) -> JSON:
        shared = self.get(arg_str(args, "file") or "")
        if shared is None:
            raise ApiError("file_not_found")
        return {"ok": True, "file": self.file_json(shared)}

    # -- the file host --

    async def serve(self, request: web.Request) -> web.Response:
        key = request.match_info["key"]
        shared = self.get(key.split("-", 1)[-1])
        if shared is None or request.match_info["name"] != shared.name:
            raise web.HTTPNotFound()
        if request.headers.get("Authorization") != f"Bearer {self._standin.bot_token}":
            shared.downloads.append("none")
            return web.Response(text=SIGN_IN_PAGE, content_type="text/html")
        shared.downloads.append("bot")
        return web.Response(body=shared.content, content_type="text/plain")


def add_routes(app: web.Application, standin: SlackStandIn) -> None:
    app.router.add_get("/files-pri/{key}/{name}", standin.shared_files.serve)
    app.router.add_get("/files-pri/{key}/download/{name}", standin.shared_files.serve)

    async def from_the_page(request: web.Request) -> web.Response:
        """`POST /ui/files` `{user, channel, name, content_base64, share}`: the page's paper clip
        (`share`: posted in the channel, the bot told) or a modal's file input (only stored)."""
        body = await json_object(request)
        try:
            content = base64.b64decode(str(body.get("content_base64") or ""), validate=True)
        except ValueError:
            raise web.HTTPBadRequest(text="content_base64 is not base64") from None
        name = str(body.get("name") or "file").replace("/", "_") or "file"
        user = str(body.get("user") or "U_SANDBOX")
        if not body.get("share"):
            shared = standin.shared_files.add(name, content, user=user)
            return web.json_response({"file_id": shared.id})
        if standin.bot_url is None:
            raise web.HTTPConflict(text="no app is connected to this stand-in yet")
        message, sent = await share_file(
            standin, str(body.get("channel") or "C_ML"), name, content, user=user
        )
        return web.json_response(
            {"file_id": message.files[0]["id"], "status": sent.status, "error": sent.error}
        )

    app.router.add_post("/ui/files", from_the_page)


async def share_file(
    standin: SlackStandIn, channel: str, name: str, content: bytes, *, user: str = "U_ALICE", text: str = ""
) -> tuple[StoredMessage, SentRequest]:
    """A person shares a file in `channel`: the message carrying it, and the bot's `message` event."""
    from bot.sandbox.standin.events import send_event

    shared = standin.shared_files.add(name, content, user=user)
    file_json = standin.shared_files.file_json(shared)
    message = standin.workspace.post_message(channel, text=text, blocks=[], user=user, bot=False)
    message.files = [file_json]
    standin.workspace.message_edited_in_place(message)
    sent = await send_event(
        standin,
        {
            "type": "message",
            "subtype": "file_share",
            "channel": channel,
            "channel_type": "channel",
            "user": user,
            "text": text,
            "ts": message.ts,
            "upload": True,
            "files": [file_json],
        },
    )
    return message, sent
