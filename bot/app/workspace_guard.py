"""Requests from another workspace or another app are refused before any listener runs.

A signature proves a request was signed with our secret, not that it is about our workspace: the team and
the app a request names must be the ones our bot token belongs to (`auth.test`, asked once and kept).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Ours:
    team_id: str | None
    app_id: str | None


def claimed_team(body: dict[str, Any]) -> str | None:
    """The workspace a request says it comes from, wherever its kind of payload carries it."""
    team = body.get("team")
    for value in (body.get("team_id"), team.get("id") if isinstance(team, dict) else None):
        if isinstance(value, str) and value:
            return value
    return None


def claimed_app(body: dict[str, Any]) -> str | None:
    value = body.get("api_app_id")
    return value if isinstance(value, str) and value else None


class WorkspaceGuard:
    """A global Bolt middleware: `app.middleware(WorkspaceGuard(client))`."""

    def __init__(self, client: AsyncWebClient) -> None:
        self._client = client
        self._ours: Ours | None = None
        self._asking = asyncio.Lock()

    async def ours(self) -> Ours | None:
        async with self._asking:
            if self._ours is None:
                try:
                    answer = await self._client.auth_test()
                except SlackApiError as error:
                    log.warning(
                        "cannot tell which workspace is ours (auth.test: %s)", error.response.get("error")
                    )
                    return None
                team, app = answer.get("team_id"), answer.get("app_id")
                self._ours = Ours(
                    team if isinstance(team, str) else None, app if isinstance(app, str) else None
                )
            return self._ours

    async def __call__(
        self, req: AsyncBoltRequest, resp: BoltResponse, next: Callable[[], Awaitable[BoltResponse]]
    ) -> BoltResponse:
        body = req.body if isinstance(req.body, dict) else {}
        if body.get("type") == "url_verification" or body.get("ssl_check"):
            return await next()
        ours = await self.ours()
        team, app = claimed_team(body), claimed_app(body)
        if ours is not None and (
            (ours.team_id and team and team != ours.team_id) or (ours.app_id and app and app != ours.app_id)
        ):
            log.warning("refused a request from another workspace or app (team %s, app %s)", team, app)
            return BoltResponse(status=403, body="")
        return await next()
