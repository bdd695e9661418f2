"""Pacing for Slack writes: token buckets, one per key, that a 429 can pause.

Each key earns a token every `interval` seconds and saves up at most `burst` of them; a write takes one.
The notifier paces replies with one bucket per channel (`chat.postMessage` allows about one message a
second in a channel, so channels never wait for each other) and card edits with one bucket for the whole
workspace (`chat.update` allows about 50 a minute, with a small burst). A 429's `Retry-After` pauses the
key it was answered for. Pacing is about real seconds, so it runs on the monotonic clock.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

WORKSPACE = ""  # the key of a limit shared by every channel


@dataclass
class _Bucket:
    tokens: float
    stamp: float
    paused_until: float = 0.0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class RateLimiter:
    def __init__(self, *, interval: float, burst: int = 1) -> None:
        self.interval = interval
        self._burst = float(max(1, burst))
        self._buckets: dict[str, _Bucket] = {}

    async def take(self, key: str = WORKSPACE) -> None:
        """Wait until `key` has a token (and is not paused), and take it; waiters are served in turn."""
        bucket = self._bucket(key)
        async with bucket.lock:
            while True:
                now = self._refill(bucket)
                if now < bucket.paused_until:
                    await asyncio.sleep(bucket.paused_until - now)
                elif bucket.tokens >= 1.0:
                    bucket.tokens -= 1.0
                    return
                else:
                    await asyncio.sleep((1.0 - bucket.tokens) * self.interval)

    def pause(self, key: str, seconds: float) -> None:
        """Slack asked `key` to wait (a 429): no token before `seconds` from now."""
        bucket = self._bucket(key)
        bucket.paused_until = max(bucket.paused_until, time.monotonic() + seconds)

    def forget_idle(self) -> None:
        """Drop keys back to a full bucket, so the map does not grow with every channel ever seen."""
        for key, bucket in list(self._buckets.items()):
            now = self._refill(bucket)
            if bucket.tokens >= self._burst and now >= bucket.paused_until and not bucket.lock.locked():
                del self._buckets[key]

    def _bucket(self, key: str) -> _Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(tokens=self._burst, stamp=time.monotonic())
        return bucket

    def _refill(self, bucket: _Bucket) -> float:
        now = time.monotonic()
        earned = (now - bucket.stamp) / self.interval if self.interval > 0 else self._burst
        bucket.tokens = min(self._burst, bucket.tokens + earned)
        bucket.stamp = now
        return now
