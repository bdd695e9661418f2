"""`tuneops emulator` starts a server that answers with the given key and stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import socket
import sys

import httpx


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def test_tuneops_emulator_command_serves_and_stops() -> None:
    port = _free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "emulator",
        "--port",
        str(port),
        "--speed",
        "30",
        "--api-key",
        "sk-cli-test",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        banner = await asyncio.wait_for(process.stdout.readline(), timeout=30)
        assert f"http://127.0.0.1:{port}" in banner.decode()
        lines = [(await asyncio.wait_for(process.stdout.readline(), timeout=5)).decode() for _ in range(5)]
        assert any("file-train-demo" in line for line in lines)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}/v1") as http:
            ok = await http.get("/fine_tuning/jobs", headers={"Authorization": "Bearer sk-cli-test"})
            refused = await http.get("/fine_tuning/jobs", headers={"Authorization": "Bearer sk-emulator"})
        assert ok.status_code == 200 and ok.json() == {"object": "list", "data": [], "has_more": False}
        assert refused.status_code == 401
    finally:
        if process.returncode is None:
            process.terminate()
        await asyncio.wait_for(process.wait(), timeout=15)
    assert process.returncode == 0
