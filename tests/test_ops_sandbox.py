"""`tuneops sandbox` as a person starts it: a program that prints where to go, answers, and stops on SIGTERM."""

from __future__ import annotations

import asyncio
import socket
import sys
from pathlib import Path

import aiohttp

from tests.support.ops import free_port, outside_env, start_sandbox_process


async def test_sandbox_starts_answers_and_stops_cleanly(tmp_path: Path) -> None:
    port = free_port()
    sandbox = await start_sandbox_process([sys.executable, "-m", "bot"], port=port, cwd=tmp_path)
    try:
        assert sandbox.page_url == f"http://127.0.0.1:{port}/"
        banner = "\n".join(sandbox.output)
        assert "the emulator at http://127.0.0.1:" in banner
        assert "/finetune create model=gpt-4o-mini-2024-07-18 training_file=file-train-demo" in banner
        async with aiohttp.ClientSession() as http:
            async with http.get(sandbox.page_url) as page:
                assert page.status == 200
                assert "text/html" in page.content_type
            async with http.get(sandbox.bot_url + "/healthz") as health:
                assert health.status == 200
                assert (await health.json())["status"] == "ok"
        db_line = next(line for line in sandbox.output if line.strip().startswith("Database"))
        db_path = Path(db_line.split()[1])
        assert await asyncio.to_thread(db_path.exists)
    finally:
        code = await sandbox.terminate()
    assert code == 0, "\n".join(sandbox.output)
    assert sandbox.output[-1] == "stopped."
    assert not any("Traceback" in line for line in sandbox.output), "\n".join(sandbox.output)
    assert not await asyncio.to_thread(db_path.parent.exists)  # the throw-away database is gone


async def test_sandbox_keeps_a_database_it_was_given(tmp_path: Path) -> None:
    db_path = tmp_path / "kept.db"
    sandbox = await start_sandbox_process(
        [sys.executable, "-m", "bot"], port=free_port(), cwd=tmp_path, extra_args=["--db", str(db_path)]
    )
    assert await sandbox.terminate() == 0, "\n".join(sandbox.output)
    assert await asyncio.to_thread(db_path.exists)


async def test_a_taken_port_is_explained(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "sandbox",
            "--port",
            str(port),
            "--no-browser",
            cwd=tmp_path,
            env=outside_env(),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        async with asyncio.timeout(60):
            output, _ = await process.communicate()
    assert process.returncode == 1
    assert f"Is port {port} taken? Try --port with another number." in output.decode()
    assert "Traceback" not in output.decode()


async def test_emulator_flag_keeps_a_configured_key_from_reaching_the_real_api(tmp_path: Path) -> None:
    sandbox = await start_sandbox_process(
        [sys.executable, "-m", "bot"],
        port=free_port(),
        cwd=tmp_path,
        extra_args=["--emulator"],
        env=outside_env(OPENAI_API_KEY="sk-a-real-looking-key"),
    )
    try:
        banner = "\n".join(sandbox.output)
        assert "the emulator at http://127.0.0.1:" in banner
        assert "sk-a-real-looking-key" not in banner
    finally:
        assert await sandbox.terminate() == 0, "\n".join(sandbox.output)
