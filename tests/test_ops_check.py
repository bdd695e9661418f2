"""`tuneops check` against the Slack stand-in and the emulator: what passes, what fails and how it says so."""

from __future__ import annotations

import asyncio
import io
import os
import socket
import sys
from pathlib import Path

import pytest

from bot.app.check import run_check
from bot.sandbox.emulator.server import EmulatorServer
from bot.sandbox.standin.server import SlackStandIn
from storage.migrations import MIGRATIONS
from storage.sqlite import open_store
from tests.support.ops import (
    OPS_API_KEY,
    OPS_APP_TOKEN,
    OPS_BOT_TOKEN,
    OPS_SIGNING_SECRET,
    service_env,
)

SECRETS = (OPS_BOT_TOKEN, OPS_APP_TOKEN, OPS_SIGNING_SECRET, OPS_API_KEY)


def _closed_port_url(path: str) -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}{path}"


async def _check(env: pytest.MonkeyPatch, variables: dict[str, str]) -> tuple[int, str]:
    for name, value in variables.items():
        env.setenv(name, value)
    out = io.StringIO()
    code = await run_check(out=out)
    text = out.getvalue()
    for secret in SECRETS:
        assert secret not in text
    return code, text


def _line(text: str, name: str) -> str:
    (line,) = [line for line in text.splitlines() if f" {name}:" in line]
    return line


@pytest.fixture
def wired(ops_slack: SlackStandIn, ops_emulator: EmulatorServer, tmp_path: Path) -> dict[str, str]:
    return service_env(ops_slack, ops_emulator, tmp_path / "tuneops.db")


async def test_all_checks_pass_against_the_stand_in_and_emulator(
    clean_env: pytest.MonkeyPatch, wired: dict[str, str], ops_slack: SlackStandIn
) -> None:
    code, text = await _check(clean_env, wired)
    assert code == 0, text
    assert "✗" not in text
    assert text.count("✓") == 5
    assert "all 5 checks passed" in text
    assert "auth.test ok" in _line(text, "Slack")
    assert "lists jobs" in _line(text, "fine-tuning API")
    assert "`tuneops run` will create it" in _line(text, "database")
    assert ops_slack.calls_to("auth.test")
    # A check changes nothing: the database is left for `tuneops run` to create.
    assert not await asyncio.to_thread(os.path.exists, wired["TUNEOPS_DB"])


async def test_missing_configuration_lists_every_problem_with_a_fix(clean_env: pytest.MonkeyPatch) -> None:
    code, text = await _check(clean_env, {"TUNEOPS_DB": "tuneops.db"})
    assert code == 1
    problems = [line for line in text.splitlines() if "✗ configuration" in line]
    assert any("SLACK_BOT_TOKEN is not set" in line and "xoxb-" in line for line in problems)
    assert any("SLACK_SIGNING_SECRET" in line for line in problems)
    assert any("OPENAI_API_KEY is not set" in line for line in problems)
    assert "not tried" in _line(text, "Slack")
    assert "✓ database" in text  # what can be checked still is
    # Each missing thing is said once: on its configuration line, not again by the check it stops.
    assert text.count("SLACK_BOT_TOKEN") == 1, text
    assert text.count("SLACK_SIGNING_SECRET") == 1, text


async def test_one_unreadable_value_is_one_problem(clean_env: pytest.MonkeyPatch) -> None:
    code, text = await _check(clean_env, {"PORT": "not-a-port"})
    assert code == 1
    assert "1 problem in the configuration" in text
    assert "problem(s)" not in text


async def test_two_unreadable_values_are_two_problems(clean_env: pytest.MonkeyPatch) -> None:
    code, text = await _check(clean_env, {"PORT": "not-a-port", "SLACK_API_URL": "slack.com/api"})
    assert code == 1
    assert "2 problems in the configuration" in text


async def test_an_unreadable_value_is_reported_and_nothing_else_runs(clean_env: pytest.MonkeyPatch) -> None:
    code, text = await _check(clean_env, {"PORT": "not-a-port", "SLACK_API_URL": "slack.com/api"})
    assert code == 1
    assert "PORT" in text
    assert "SLACK_API_URL" in text
    assert "nothing else was tried" in text


async def test_a_refused_slack_token_says_how_to_fix_it(
    clean_env: pytest.MonkeyPatch, wired: dict[str, str], ops_slack: SlackStandIn
) -> None:
    """A bot token that looks right but is not the workspace's: the stand-in refuses it as Slack would."""
    refusing = {**wired, "SLACK_BOT_TOKEN": "xoxb-wrong-token-123"}
    code, text = await _check(clean_env, refusing)
    assert code == 1
    line = _line(text, "Slack")
    assert "✗" in line
    assert "invalid_auth" in line
    assert "fix: copy the Bot User OAuth Token" in text
    assert "xoxb-wrong-token-123" not in text
    assert "✓ fine-tuning API" in text
    assert [c.error for c in ops_slack.calls_to("auth.test")] == ["invalid_auth"]


async def test_missing_bot_scopes_are_named(
    clean_env: pytest.MonkeyPatch, wired: dict[str, str], ops_slack: SlackStandIn
) -> None:
    ops_slack.bot_scopes = (
        "commands",
        "chat:write",
        "chat:write.public",
        "channels:history",
        "groups:history",
    )
    code, text = await _check(clean_env, wired)
    assert code == 0, text

    ops_slack.bot_scopes = ("commands", "chat:write")
    code, text = await _check(clean_env, wired)
    assert code == 1
    assert "lacks the scopes channels:history, groups:history" in _line(text, "Slack")
    assert "manifest.yml" in text


async def test_unreachable_slack(clean_env: pytest.MonkeyPatch, wired: dict[str, str]) -> None:
    code, text = await _check(clean_env, {**wired, "SLACK_API_URL": _closed_port_url("/api/")})
    assert code == 1
    assert "could not reach Slack" in _line(text, "Slack")
    assert "fix: check SLACK_API_URL" in text


async def test_a_refused_api_key_says_which_variable(
    clean_env: pytest.MonkeyPatch, wired: dict[str, str]
) -> None:
    code, text = await _check(clean_env, {**wired, "OPENAI_API_KEY": "sk-wrong-key-abcdefgh"})
    assert code == 1
    line = _line(text, "fine-tuning API")
    assert "✗" in line
    assert "401" in line
    assert "fix: the key was refused: check OPENAI_API_KEY" in text
    assert "sk-wrong-key-abcdefgh" not in text
    assert "✓ Slack:" in text


async def test_unreachable_api(clean_env: pytest.MonkeyPatch, wired: dict[str, str]) -> None:
    code, text = await _check(clean_env, {**wired, "OPENAI_BASE_URL": _closed_port_url("/v1")})
    assert code == 1
    assert "could not reach the fine-tuning API" in _line(text, "fine-tuning API")
    assert "fix: check OPENAI_BASE_URL" in text


async def test_azure_settings_are_checked_against_the_azure_paths(
    clean_env: pytest.MonkeyPatch, wired: dict[str, str], ops_emulator: EmulatorServer
) -> None:
    azure = {k: v for k, v in wired.items() if not k.startswith("OPENAI_")}
    azure |= {
        "TUNEOPS_PROVIDER": "azure",
        "AZURE_OPENAI_ENDPOINT": ops_emulator.azure_endpoint,
        "AZURE_OPENAI_API_KEY": OPS_API_KEY,
    }
    code, text = await _check(clean_env, azure)
    assert code == 0, text
    assert "azure at 127.0.0.1" in _line(text, "fine-tuning API")

    code, text = await _check(clean_env, {"AZURE_OPENAI_API_KEY": "0123456789abcdef0123456789abcdef"})
    assert code == 1
    assert "check AZURE_OPENAI_API_KEY" in text
    assert "0123456789abcdef0123456789abcdef" not in text


async def test_database_problems(
    clean_env: pytest.MonkeyPatch, wired: dict[str, str], tmp_path: Path
) -> None:
    code, text = await _check(clean_env, {**wired, "TUNEOPS_DB": str(tmp_path / "missing" / "tuneops.db")})
    assert code == 0, text  # `tuneops run` makes missing directories
    assert not (tmp_path / "missing").exists()

    a_file = tmp_path / "a-file"
    a_file.write_text("not a directory")
    code, text = await _check(clean_env, {**wired, "TUNEOPS_DB": str(a_file / "tuneops.db")})
    assert code == 1
    assert "cannot be created here" in _line(text, "database")

    not_a_database = tmp_path / "notes.db"
    not_a_database.write_text("these are not the tables you are looking for\n" * 100)
    code, text = await _check(clean_env, {**wired, "TUNEOPS_DB": str(not_a_database)})
    assert code == 1
    assert "cannot read it" in _line(text, "database")
    assert "fix: make sure the file" in text


async def test_socket_mode_app_token(
    clean_env: pytest.MonkeyPatch, wired: dict[str, str], ops_slack: SlackStandIn
) -> None:
    code, text = await _check(clean_env, {**wired, "SLACK_APP_TOKEN": OPS_APP_TOKEN})
    assert code == 0, text
    assert "Socket Mode" in _line(text, "Slack connection")

    code, text = await _check(clean_env, {**wired, "SLACK_APP_TOKEN": "xapp-1-A1-secret"})
    assert code == 1
    assert "invalid_auth" in _line(text, "Slack connection")
    assert "connections:write" in text
    assert "xapp-1-A1-secret" not in text
    assert "✓ Slack:" in text  # the bot token still works
    assert [c.error for c in ops_slack.calls_to("apps.connections.open")] == [None, "invalid_auth"]


async def test_the_command_line_reads_dotenv_and_exits_non_zero_on_failure(
    wired: dict[str, str], tmp_path: Path
) -> None:
    """`tuneops check` as a program: settings from `.env` in its working directory, exit code 1 on a failure."""
    settings = {**wired, "OPENAI_API_KEY": "sk-refused-by-the-emulator"}
    (tmp_path / ".env").write_text("".join(f"{name}={value}\n" for name, value in settings.items()))
    outside = {
        k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "OPENAI_", "TUNEOPS_", "AZURE_"))
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "check",
        cwd=tmp_path,
        env=outside,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    output = (stdout + stderr).decode()
    assert process.returncode == 1, output
    assert "✓ Slack:" in output
    assert "✗ fine-tuning API" in output
    for secret in (*SECRETS, "sk-refused-by-the-emulator"):
        assert secret not in output


async def test_an_existing_database_is_reported_with_its_schema_and_left_unchanged(
    clean_env: pytest.MonkeyPatch, wired: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "tuneops.db"
    store = await open_store(path)
    await store.close()
    before = await asyncio.to_thread(path.read_bytes)

    code, text = await _check(clean_env, {**wired, "TUNEOPS_DB": str(path)})

    assert code == 0, text
    assert f"schema version {MIGRATIONS[-1].version}" in _line(text, "database")
    assert await asyncio.to_thread(path.read_bytes) == before
