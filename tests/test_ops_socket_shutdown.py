"""`tuneops run` in Socket Mode stops on SIGTERM while its first connection to Slack is still being made.

`docker stop` sends SIGTERM and kills the process 10 s later. When Slack is slow to answer
`apps.connections.open` (held here by the stand-in) or refuses it, the service must still stop at once and
exit 0, not first wait out the connect.
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest

from bot.sandbox.emulator.server import EmulatorServer
from bot.sandbox.standin.server import SlackStandIn
from tests.support.ops import (
    OPS_APP_TOKEN,
    free_port,
    socket_service_env,
    start_service,
)

# How long the stand-in holds `apps.connections.open`: past the service's own connect timeout (30 s).
HELD_MS = 45_000
# A generous bound on waiting for the exit (well past the service's 8 s stop bound), not a measurement.
EXIT_WAIT_SECONDS = 20.0


async def _sigterm_and_wait(process: asyncio.subprocess.Process) -> tuple[int | None, str]:
    """SIGTERM, then the exit code (None if it had not exited in EXIT_WAIT_SECONDS) and the output."""
    process.send_signal(signal.SIGTERM)
    try:
        async with asyncio.timeout(EXIT_WAIT_SECONDS):
            output, _ = await process.communicate()
    except TimeoutError:
        process.kill()
        output, _ = await process.communicate()
        return None, output.decode()
    return process.returncode, output.decode()


@pytest.mark.parametrize("slack_answer", ["held", "refused"])
async def test_sigterm_while_the_socket_is_still_connecting_exits_zero(
    ops_slack: SlackStandIn, ops_emulator: EmulatorServer, tmp_path: Path, slack_answer: str
) -> None:
    if slack_answer == "held":
        ops_slack.set_latency(HELD_MS, method="apps.connections.open")
    else:
        ops_slack.refuse_socket_connections("internal_error")
    port = free_port()
    env = socket_service_env(ops_slack, ops_emulator, tmp_path / "tuneops.db", port)
    process = await start_service(env, tmp_path)
    try:
        # The service is up (its signal handlers are set before it connects) and has asked Slack for a
        # connection: it is waiting for the answer, or retrying after a refusal.
        await ops_slack.wait_for(lambda: ops_slack.calls_to("apps.connections.open"), 20)
    finally:
        code, output = await _sigterm_and_wait(process)

    assert code == 0, output
    assert "shutting down" in output
    assert "stopped" in output
    assert OPS_APP_TOKEN not in output
    assert ops_slack.live_socket_connections() == []
