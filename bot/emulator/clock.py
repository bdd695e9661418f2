"""The emulator's clock: real elapsed seconds × speed, plus seconds added by hand.

Everything in the emulator is timed in emulated seconds since the server started; timestamps shown to
clients are `unix_at(t)`, so a job that takes 10 emulated minutes also spans 10 minutes of `created_at` /
`finished_at`, whatever the speed.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class EmulatorClock:
    def __init__(self, speed: float = 1.0, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        if speed < 0:
            raise ValueError("speed must be 0 or more")
        self._monotonic = monotonic
        self._speed = speed
        self._real_base = monotonic()
        self._emulated_base = 0.0
        self._unix_base = time.time()

    @property
    def speed(self) -> float:
        return self._speed

    def now(self) -> float:
        """Emulated seconds since the clock started; never goes backwards."""
        return self._emulated_base + (self._monotonic() - self._real_base) * self._speed

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        self._emulated_base += seconds
        return self.now()

    def set_speed(self, speed: float) -> None:
        if speed < 0:
            raise ValueError("speed must be 0 or more")
        # Re-base so the emulated time already passed is kept and only the rate changes from here on.
        self._emulated_base = self.now()
        self._real_base = self._monotonic()
        self._speed = speed

    def unix_at(self, emulated: float) -> int:
        return int(self._unix_base + emulated)
