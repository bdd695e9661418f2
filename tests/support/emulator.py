"""Fixtures: a running fine-tuning API emulator and a client for its control endpoints."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.emulator.control import EmulatorControl
from bot.emulator.server import EmulatorServer


@pytest.fixture
async def emulator() -> AsyncIterator[EmulatorServer]:
    """A started emulator on an ephemeral port (key `sk-emulator`, speed 1: drive time with `advance`)."""
    server = EmulatorServer(api_key="sk-emulator", speed=1.0, seed=0)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def emulator_control(emulator: EmulatorServer) -> AsyncIterator[EmulatorControl]:
    control = EmulatorControl(emulator.url)
    try:
        yield control
    finally:
        await control.aclose()
