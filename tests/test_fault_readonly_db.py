"""`tuneops run` on a database it cannot write refuses to start, in plain words, instead of serving
requests it could never record (a job started at the API and then tracked nowhere)."""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bot.sandbox.emulator.server import EmulatorServer
from bot.sandbox.standin.server import SlackStandIn
from storage.sqlite import open_store
from tests.support.ops import service_env, start_service


@contextmanager
def read_only(directory: Path) -> Iterator[Path]:
    """`directory` seen read-only: a read-only bind mount as root (who ignores permissions), else modes."""
    if os.geteuid() == 0:
        view = directory.with_name(directory.name + "-ro")
        view.mkdir()
        subprocess.run(["mount", "--bind", str(directory), str(view)], check=True)
        try:
            subprocess.run(["mount", "-o", "remount,bind,ro", str(view)], check=True)
            yield view
        finally:
            subprocess.run(["umount", str(view)], check=True)
        return
    files = [*directory.iterdir(), directory]
    for path in files:
        path.chmod(0o555 if path.is_dir() else 0o444)
    try:
        yield directory
    finally:
        for path in files:
            path.chmod(0o755 if path.is_dir() else 0o644)


async def test_run_refuses_a_database_it_cannot_write(
    ops_slack: SlackStandIn, ops_emulator: EmulatorServer, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    store = await open_store(data / "tuneops.db")
    await store.close()
    with read_only(data) as view:
        env = service_env(ops_slack, ops_emulator, view / "tuneops.db")
        process = await start_service(env, tmp_path)
        async with asyncio.timeout(60):
            output, _ = await process.communicate()
    said = output.decode()
    assert process.returncode == 1, said
    assert "TuneOps cannot start" in said
    assert "the database cannot be written" in said, said
