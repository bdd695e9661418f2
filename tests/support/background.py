"""Fixtures for the watcher and notifier: the real store, emulator and Slack stand-in, wired to a `Background`.

`watch_rig` builds the same `Services` the service builds (real SQLite file, `FineTuneClient` against the
emulator, `AsyncWebClient` against the stand-in) and a `Background` with fast intervals; `app_rig` runs the
real Bolt app (`tests/support/runtime.py`) with such a `Background` on the app's own services. `Rig.start_job`
creates a job in the emulator and follows it in a channel the way `/finetune create` does; the emulator's
clock is driven with `emulator_control.advance`. `notes(...)` reads back what a person sees.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.app.background import Background
from bot.config import Settings
from bot.finetune.client import FineTuneClient
from bot.finetune.providers import ProviderConfig
from bot.finetune.retry import RetryPolicy
from bot.finetune.spec import JobSpec
from bot.jobs.actor import Actor
from bot.jobs.records import NewJob, Origin, TrackedJob
from bot.notify.cards import ChannelCards
from bot.notify.notifier import Notifier
from bot.notify.thread_lookup import NOTIFICATION_EVENT
from bot.sandbox.emulator.control import EmulatorControl
from bot.sandbox.emulator.server import EmulatorServer
from bot.sandbox.emulator.state import DEMO_TRAINING_FILE, DEMO_VALIDATION_FILE
from bot.sandbox.standin.models import StoredMessage
from bot.sandbox.standin.server import SlackStandIn
from bot.services import Services
from bot.views.card import card_for
from bot.watch.watcher import Watcher
from storage.sqlite import SqliteStore

if TYPE_CHECKING:
    from tests.support.runtime import BotRig, StartBot

BASE_MODEL = "gpt-4o-mini-2024-07-18"
FAST_POLL = 0.1
RIG_LEASE = 5.0  # how long the rig's notifier leases a claimed outbox row


@dataclass
class Rig:
    services: Services
    background: Background
    slack: SlackStandIn
    control: EmulatorControl
    store: SqliteStore
    cards: dict[tuple[str, str], str] = field(default_factory=dict)  # (job, channel) -> card ts

    async def start_job(
        self, channel: str, creator: str = "U_ALICE", *, validation: bool = False, suffix: str = "rig"
    ) -> str:
        """Create a job in the emulator and follow it in `channel`, as `/finetune create` does: tracked with
        no watch, its card posted (with its metadata), then the channel's watch added. One difference: its
        first poll is due at once rather than a poll interval later, so tests need not wait for it."""
        read_at = self.services.clock()
        job = await self.services.api.create_job(
            JobSpec(
                model=BASE_MODEL,
                training_file=DEMO_TRAINING_FILE,
                validation_file=DEMO_VALIDATION_FILE if validation else None,
                suffix=suffix,
            )
        )
        now = self.services.clock()
        tracked, _ = await self.store.track_job(
            NewJob(
                job_id=job.id,
                provider="openai",
                owner_channel=channel,
                creator=creator,
                origin=Origin.COMMAND,
                status=job.status,
                model=job.model,
                suffix=job.suffix,
                snapshot=job.model_dump(mode="json"),
                read_at=read_at,
            ),
            now=now,
            next_poll_at=now,
            owner_watch=False,
        )
        await self._post_card(tracked, Actor(user=creator, channel=channel))
        self.background.wake()
        return job.id

    async def watch_from(self, job_id: str, channel: str, user: str = "U_BOB") -> None:
        """Follow the job from another channel too, with its own card, as `/finetune watch` does."""
        tracked = await self.store.get_job(job_id)
        assert tracked is not None
        await self._post_card(tracked, Actor(user=user, channel=channel))

    async def _post_card(self, tracked: TrackedJob, actor: Actor) -> None:
        """The card module posts the card and then adds the channel's watch; the rig remembers the card."""
        cards = ChannelCards(self.services)
        card = card_for(tracked, self.services.clock())
        await cards.post_then_watch(tracked, actor, card)
        watch = await self.store.get_watch(tracked.job_id, actor.channel)
        assert watch is not None and watch.card_ts is not None, "the card was not posted"
        self.cards[(tracked.job_id, actor.channel)] = watch.card_ts

    def card(self, job_id: str, channel: str) -> StoredMessage:
        message = self.slack.message(channel, self.cards[(job_id, channel)])
        assert message is not None
        return message

    def notes(self, job_id: str, channel: str) -> list[StoredMessage]:
        """The notifier's replies in the job's thread in `channel`, oldest first."""
        return [
            m
            for m in self.slack.thread(channel, self.cards[(job_id, channel)])
            if note_transition(m) is not None
        ]

    def transitions(self, job_id: str, channel: str) -> list[str]:
        return [str(note_transition(m)) for m in self.notes(job_id, channel)]

    def statuses(self, job_id: str, channel: str) -> list[str]:
        """The status each reply announces, in thread order (stuck notes as `stuck`)."""
        return [
            t.partition(":")[2] if not t.startswith("stuck:") else "stuck"
            for t in self.transitions(job_id, channel)
        ]

    async def until(self, predicate: Callable[[], Any], within: float = 10.0) -> Any:
        return await self.slack.wait_for(predicate, timeout=within)

    async def until_async(self, predicate: Callable[[], Awaitable[Any]], within: float = 10.0) -> Any:
        deadline = time.monotonic() + within
        while True:
            value = await predicate()
            if value:
                return value
            if time.monotonic() >= deadline:
                raise TimeoutError(f"condition not met within {within} s")
            await asyncio.sleep(0.02)


def note_transition(message: StoredMessage) -> str | None:
    metadata = message.metadata or {}
    if metadata.get("event_type") != NOTIFICATION_EVENT:
        return None
    payload = metadata.get("event_payload") or {}
    transition = payload.get("transition")
    return str(transition) if transition else None


def rig_settings(
    emulator: EmulatorServer, slack: SlackStandIn, db: Path, *, poll: float = FAST_POLL
) -> Settings:
    return Settings(
        SLACK_BOT_TOKEN=slack.bot_token,
        SLACK_SIGNING_SECRET=slack.signing_secret,
        SLACK_API_URL=slack.api_url,
        OPENAI_API_KEY=emulator.api_key,
        OPENAI_BASE_URL=emulator.openai_base_url,
        TUNEOPS_DB=str(db),
        TUNEOPS_POLL_INTERVAL=poll,
    )


def rig_api(emulator: EmulatorServer) -> FineTuneClient:
    """The client with quick retries, so an injected API outage costs milliseconds, not seconds."""
    return FineTuneClient(
        ProviderConfig.openai(emulator.api_key, base_url=emulator.openai_base_url),
        retry=RetryPolicy(max_retries=1, base=0.01, cap=0.05),
    )


def fast_background(
    services: Services, *, job_backoff_cap: float = 1800.0, **notifier_options: Any
) -> Background:
    """A Background whose loops tick in tens of milliseconds; notifier options can be overridden, and
    `job_backoff_cap` bounds how long a job the API will not give back waits between reads."""
    options: dict[str, Any] = {
        "per_channel_interval": 0.05,
        "tick": 0.05,
        "card_tick": 0.05,
        "card_min_interval": 0.2,
        "card_edits_per_minute": 6000,
        "retry_base": 0.05,
        "retry_cap": 0.5,
        "lease": RIG_LEASE,
    }
    options.update(notifier_options)
    return Background(
        services,
        watcher=Watcher(services, tick=0.02, stuck_after=3600.0, job_backoff_cap=job_backoff_cap),
        notifier=Notifier(services, **options),
        restart_backoff=0.05,
    )


@pytest.fixture
async def rig_services(
    emulator: EmulatorServer, slack: SlackStandIn, store: SqliteStore, store_path: Path
) -> AsyncIterator[Services]:
    settings = rig_settings(emulator, slack, store_path)
    api = rig_api(emulator)
    slack_client = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
    try:
        yield Services(settings=settings, store=store, api=api, slack=slack_client)
    finally:
        await api.aclose()


RigFactory = Callable[..., Awaitable[Rig]]


@pytest.fixture
async def make_rig(
    rig_services: Services, slack: SlackStandIn, emulator_control: EmulatorControl, store: SqliteStore
) -> AsyncIterator[RigFactory]:
    """A rig with some notifier options changed (`make_rig(request_timeout=0.2)`); `start=False` leaves its
    `Background` stopped, for tests that prepare storage first (it is stopped after the test either way)."""
    started: list[Background] = []

    async def build(*, start: bool = True, **notifier_options: Any) -> Rig:
        background = fast_background(rig_services, **notifier_options)
        started.append(background)
        if start:
            await background.start()
        return Rig(
            services=rig_services, background=background, slack=slack, control=emulator_control, store=store
        )

    try:
        yield build
    finally:
        for background in started:
            await background.stop(timeout=2.0)


@pytest.fixture
async def watch_rig(make_rig: RigFactory) -> Rig:
    """Store + emulator + stand-in + a started fast `Background`; stopped after the test."""
    return await make_rig()


@dataclass
class AppRig:
    """The real Bolt app (a `Runtime` serving HTTP) with a fast `Background` on its own services."""

    bot: BotRig
    background: Background

    @property
    def slack(self) -> SlackStandIn:
        return self.bot.slack

    def notes(self, channel: str, card_ts: str) -> list[StoredMessage]:
        return [m for m in self.slack.thread(channel, card_ts) if note_transition(m) is not None]

    def transitions(self, channel: str, card_ts: str) -> list[str]:
        """The transition each reply in the card's thread announces (`"2:running"`), in thread order."""
        return [str(note_transition(m)) for m in self.notes(channel, card_ts)]


@pytest.fixture
async def app_rig(start_bot: StartBot) -> AsyncIterator[AppRig]:
    bot = await start_bot(background=False, TUNEOPS_POLL_INTERVAL=FAST_POLL)
    background = fast_background(bot.services)
    await background.start()
    try:
        yield AppRig(bot=bot, background=background)
    finally:
        await background.stop(timeout=2.0)
