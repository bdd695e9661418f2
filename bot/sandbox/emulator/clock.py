"""The emulator's clock: real elapsed seconds × speed, plus seconds added by hand.

Everything in the emulator is timed in emulated seconds since the server started. Timestamps shown to
clients are `unix_at(t)`: emulated durations are scaled back to real ones at the speed of the moment, so
in a sandbox running 10× faster a job created a minute ago says so and its `estimated_finish` is when it
will really finish. Seconds added by hand (`advance`) move the calendar forward with them. A timestamp,
once given, never changes.
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
        # (emulated start, unix time at that start, speed) for each stretch at one speed, oldest first.
        self._calendar: list[tuple[float, float, float]] = [(0.0, time.time(), speed)]

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
        self._calendar.append((self._emulated_base, self.unix_time(self._emulated_base), speed))

    def unix_time(self, emulated: float) -> float:
        start, unix_start, speed = next(
            (entry for entry in reversed(self._calendar) if entry[0] <= emulated), self._calendar[0]
        )
        return unix_start + (emulated - start) / (speed or 1.0)  # a frozen clock still needs a calendar

    def unix_at(self, emulated: float) -> int:
        return int(self.unix_time(emulated))
