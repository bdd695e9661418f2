"""The long-lived parts the service is made of, built once and handed to handlers and background tasks."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from storage.store import Store

if TYPE_CHECKING:
    from bot.finetune.client import FineTuneClient


@dataclass
class Services:
    settings: Settings
    store: Store
    api: FineTuneClient
    slack: AsyncWebClient
    clock: Callable[[], float] = time.time
    # Set whenever something new waits for the notifier (an outbox row, a card to redraw).
    outbox_ready: asyncio.Event = field(default_factory=asyncio.Event)
    # The create intents this process is still carrying out; the watcher's adoption leaves them alone and
    # finishes any other open intent (a create cut short by a crash or a failing database).
    creates_under_way: set[str] = field(default_factory=set)

    @property
    def provider(self) -> str:
        return self.settings.provider
