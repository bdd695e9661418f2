"""`tuneops run` that cannot start says why in plain words, without a traceback."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

from bot.sandbox.emulator.server import EmulatorServer
from bot.sandbox.standin.server import SlackStandIn
from tests.support.ops import service_env, start_service


async def test_a_taken_port_is_explained(
    ops_slack: SlackStandIn, ops_emulator: EmulatorServer, tmp_path: Path
) -> None:
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {**service_env(ops_slack, ops_emulator, tmp_path / "tuneops.db"), "PORT": str(port)}
        process = await start_service(env, tmp_path)
        async with asyncio.timeout(60):
            output, _ = await process.communicate()
    text = output.decode()
    assert process.returncode == 1, text
    assert f"is port {port} taken? Set PORT to a free port." in text
    assert "Traceback" not in text
