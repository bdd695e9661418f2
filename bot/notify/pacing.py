"""Pacing for Slack writes (reference slack-bolt.md §4).

* `ChannelPacer`: `chat.postMessage` allows about one message per second per channel, so each channel has
  its own slot clock; channels never wait for each other. A 429's `Retry-After` pushes that channel's
  clock forward.
* `RateBudget`: `chat.update` is Tier 3 (about 50 per minute for the whole workspace), so card edits share
  one token bucket, which a 429 can also pause.

Both use the monotonic clock: pacing is about real seconds, whatever the service's wall clock says.
"""

from __future__ import annotations

import asyncio
import time


class ChannelPacer:
    def __init__(self, *, interval: float = 1.0) -> None:
        self.interval = interval
        self._next: dict[str, float] = {}

    async def wait(self, channel: str) -> None:
        """Wait for this channel's next slot and take it."""
        while True:
            now = time.monotonic()
            slot = self._next.get(channel, now)
            if slot <= now:
                self._next[channel] = now + self.interval
                return
            await asyncio.sleep(slot - now)

    def defer(self, channel: str, seconds: float) -> None:
        """Slack asked this channel to wait (a 429): no slot before `seconds` from now."""
        self._next[channel] = max(self._next.get(channel, 0.0), time.monotonic() + seconds)

    def forget_idle(self) -> None:
        """Drop channels whose slot has passed, so the map does not grow with every channel ever seen."""
        now = time.monotonic()
        for channel in [name for name, slot in self._next.items() if slot <= now]:
            del self._next[channel]


class RateBudget:
    """A token bucket: `per_minute` tokens a minute, up to `burst` saved up."""

    def __init__(self, *, per_minute: float, burst: int) -> None:
        self._rate = per_minute / 60.0
        self._burst = float(burst)
        self._tokens = float(burst)
        self._stamp = time.monotonic()
        self._paused_until = 0.0
        self._lock = asyncio.Lock()

    async def take(self) -> None:
        async with self._lock:
            while True:
                now = time.monotonic()
                self._tokens = min(self._burst, self._tokens + (now - self._stamp) * self._rate)
                self._stamp = now
                if now < self._paused_until:
                    await asyncio.sleep(self._paused_until - now)
                    continue
                if self._tokens >= 1.0:
                    self._tokens -= 1.0
                    return
                await asyncio.sleep((1.0 - self._tokens) / self._rate)

    def pause(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, time.monotonic() + seconds)
