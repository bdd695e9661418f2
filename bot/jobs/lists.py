"""`/finetune list`: this channel's jobs from storage, or with `all` the account's from the API, a page at a
time; the "Next page" button carries a `ListCursor`."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from bot.finetune.models import FineTuningJob
from bot.jobs.actor import Actor
from bot.jobs.creator import CREATOR_METADATA_KEY, creator_from_metadata
from bot.jobs.grammar import ListJobs
from bot.jobs.records import TrackedJob
from bot.services import Services

# Jobs per page: leaves room in a message's 50 blocks for the header, the page note and the button.
PAGE_SIZE = 20
MAX_CURSOR = 2000  # a button's value
# No channel lists this many jobs; a button claiming more was not made by us (and SQLite integers end at 2**63).
MAX_PAGE = 10_000
MAX_OFFSET = MAX_PAGE * PAGE_SIZE


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
            and type(cursor.page) is int
            and 1 <= cursor.page <= MAX_PAGE
            and type(cursor.offset) is int
            and 0 <= cursor.offset <= MAX_OFFSET
            and (cursor.after is None or (isinstance(cursor.after, str) and len(cursor.after) <= 200))
        )
        return cursor if valid else None


@dataclass(frozen=True)
class JobListPage:
    """A page of a job list: the channel's tracked jobs, or the account's jobs from the API (`all`)."""

    cursor: ListCursor
    following: ListCursor | None  # the next page, when there is one
    tracked: Sequence[TrackedJob] = ()
    from_api: Sequence[FineTuningJob] = ()
    creators: Mapping[str, str | None] = field(default_factory=dict)  # of API jobs TuneOps tracks

    @property
    def shown(self) -> int:
        return len(self.tracked) + len(self.from_api)

    @property
    def next_value(self) -> str | None:
        """The "Next page" button's value; None when there is no next page (or its cursor is too long)."""
        if self.following is None:
            return None
        value = self.following.encode()
        return value if len(value) <= MAX_CURSOR else None

    @property
    def summary(self) -> str:
        """What the audit log says about the page."""
        scope = {"channel": "this channel", "active": "active here", "all": "the account"}[self.cursor.scope]
        mine = ", mine" if self.cursor.mine else ""
        noun = "job" if self.shown == 1 else "jobs"
        return f"{scope}{mine}, page {self.cursor.page}: {self.shown} {noun}" + (
            " and more" if self.following is not None else ""
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
        return JobListPage(cursor, following, from_api=page.data, creators=creators)

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
        return JobListPage(cursor, following, tracked=jobs[:PAGE_SIZE])
