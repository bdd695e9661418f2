"""`/finetune list`: this channel's jobs from storage, or with `all` the account's from the API, a page at a
time; the "Next page" button carries a `ListCursor`."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any, Literal

from bot.jobs.actor import Actor
from bot.jobs.creator import CREATOR_METADATA_KEY, creator_from_metadata
from bot.jobs.grammar import ListJobs
from bot.services import Services
from bot.views import SlackMessage
from bot.views.lists import PAGE_SIZE, api_job_list, tracked_job_list

MAX_CURSOR = 2000  # a button's value


@dataclass(frozen=True)
class ListCursor:
    """What the "Next page" button of a job list carries."""

    scope: Literal["channel", "active", "all"]
    mine: bool
    page: int
    offset: int = 0
    after: str | None = None

    def encode(self) -> str:
        return json.dumps(dataclasses.asdict(self), separators=(",", ":"))

    @classmethod
    def decode(cls, value: str) -> ListCursor | None:
        """The cursor in a button's value; None when it is not one (an old or tampered button)."""
        try:
            cursor = cls(**json.loads(value))
        except (ValueError, TypeError):
            return None
        valid = (
            cursor.scope in ("channel", "active", "all")
            and isinstance(cursor.mine, bool)
            and isinstance(cursor.page, int)
            and isinstance(cursor.offset, int)
            and cursor.offset >= 0
            and (cursor.after is None or isinstance(cursor.after, str))
        )
        return cursor if valid else None


@dataclass(frozen=True)
class JobListPage:
    """A page of a job list, and what the audit log says about it."""

    message: SlackMessage
    shown: int
    more: bool
    cursor: ListCursor

    @property
    def summary(self) -> str:
        scope = {"channel": "this channel", "active": "active here", "all": "the account"}[self.cursor.scope]
        mine = ", mine" if self.cursor.mine else ""
        noun = "job" if self.shown == 1 else "jobs"
        return f"{scope}{mine}, page {self.cursor.page}: {self.shown} {noun}" + (
            " and more" if self.more else ""
        )


class JobLists:
    def __init__(self, services: Services) -> None:
        self._services = services

    async def page(self, request: ListJobs, actor: Actor, *, cursor: ListCursor | None = None) -> JobListPage:
        cursor = cursor or ListCursor(scope=request.scope, mine=request.mine, page=1)
        if cursor.scope == "all":
            return await self._from_api(cursor, actor)
        return await self._from_channel(cursor, actor)

    async def _from_api(self, cursor: ListCursor, actor: Actor) -> JobListPage:
        metadata = {CREATOR_METADATA_KEY: actor.user} if cursor.mine else None
        page = await self._services.api.list_jobs(after=cursor.after, limit=PAGE_SIZE, metadata=metadata)
        creators: dict[str, str | None] = {}
        for job in page.data:
            tracked = await self._services.store.get_job(job.id)
            creators[job.id] = tracked.creator if tracked else creator_from_metadata(job)
        following = (
            dataclasses.replace(cursor, page=cursor.page + 1, after=page.last_id)
            if page.has_more and page.last_id
            else None
        )
        message = api_job_list(
            page.data,
            title=_title(cursor),
            page=cursor.page,
            next_value=_button_value(following),
            creators=creators,
            empty_text="No jobs you started through TuneOps." if cursor.mine else "The account has no jobs.",
        )
        return JobListPage(message, shown=len(page.data), more=following is not None, cursor=cursor)

    async def _from_channel(self, cursor: ListCursor, actor: Actor) -> JobListPage:
        jobs = await self._services.store.channel_jobs(
            actor.channel,
            active_only=cursor.scope == "active",
            creator=actor.user if cursor.mine else None,
            limit=PAGE_SIZE + 1,
            offset=cursor.offset,
        )
        following = (
            dataclasses.replace(cursor, page=cursor.page + 1, offset=cursor.offset + PAGE_SIZE)
            if len(jobs) > PAGE_SIZE
            else None
        )
        kwargs: dict[str, Any] = {}
        if cursor.scope != "channel" or cursor.mine:
            kwargs["empty_text"] = "No jobs match here."
        message = tracked_job_list(
            jobs[:PAGE_SIZE],
            title=_title(cursor),
            page=cursor.page,
            next_value=_button_value(following),
            **kwargs,
        )
        shown = len(jobs[:PAGE_SIZE])
        return JobListPage(message, shown=shown, more=following is not None, cursor=cursor)


def _title(cursor: ListCursor) -> str:
    title = {
        "channel": "Jobs in this channel",
        "active": "Active jobs in this channel",
        "all": "All fine-tuning jobs of the account",
    }[cursor.scope]
    return title + (" that you started" if cursor.mine else "")


def _button_value(cursor: ListCursor | None) -> str | None:
    if cursor is None:
        return None
    value = cursor.encode()
    return value if len(value) <= MAX_CURSOR else None
