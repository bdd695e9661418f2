"""`tuneops run` that cannot start says why in plain words, without a traceback."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

from bot.sandbox.emulator.server import EmulatorServer
from bot.sandbox.standin.server import SlackStandIn
from tests.support.ops import free_port, service_env, sigterm, start_service, wait_healthy


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


async def test_a_second_service_on_the_same_database_file_is_refused(
    ops_slack: SlackStandIn, ops_emulator: EmulatorServer, tmp_path: Path
) -> None:
    db = tmp_path / "tuneops.db"
    first_port, second_port = free_port(), free_port()
    first = await start_service(
        {**service_env(ops_slack, ops_emulator, db), "PORT": str(first_port)}, tmp_path
    )
    try:
        await wait_healthy(f"http://127.0.0.1:{first_port}", first)
        second = await start_service(
            {**service_env(ops_slack, ops_emulator, db), "PORT": str(second_port)}, tmp_path
        )
        async with asyncio.timeout(60):
            output, _ = await second.communicate()
        text = output.decode()
        assert second.returncode == 1, text
        assert f"{db} is in use by another TuneOps process (pid {first.pid})" in text
        assert "stop the other one, or give this one its own TUNEOPS_DB" in text
        assert "Traceback" not in text
        # The first one is untouched by the attempt.
        await wait_healthy(f"http://127.0.0.1:{first_port}", first)
    finally:
        code, _ = await sigterm(first)
    assert code == 0
    # Once the first has stopped, the file is free again.
    again = await start_service(
        {**service_env(ops_slack, ops_emulator, db), "PORT": str(second_port)}, tmp_path
    )
    try:
        await wait_healthy(f"http://127.0.0.1:{second_port}", again)
    finally:
        await sigterm(again)


async def test_run_without_tokens_points_to_check_and_sandbox(tmp_path: Path) -> None:
    process = await start_service({"TUNEOPS_DB": str(tmp_path / "tuneops.db")}, tmp_path)
    async with asyncio.timeout(60):
        output, _ = await process.communicate()
    text = output.decode()
    assert process.returncode == 2, text
    assert "SLACK_BOT_TOKEN is not set" in text
    assert "`tuneops check`" in text
    assert "`tuneops sandbox`" in text
    assert "Traceback" not in text
