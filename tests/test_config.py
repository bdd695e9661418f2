"""Configuration from the environment and `.env`, with problems named variable by variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings

VARIABLES = (
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "OPENAI_API_KEY",
    "OPENAI_ORG_ID",
    "TUNEOPS_PROVIDER",
    "AZURE_OPENAI_ENDPOINT",
    "PORT",
)


@pytest.fixture
def in_empty_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_blank_variables_in_a_dotenv_template_mean_unset(in_empty_dir: Path) -> None:
    (in_empty_dir / ".env").write_text(
        "SLACK_BOT_TOKEN=xoxb-1\nSLACK_SIGNING_SECRET=s\nSLACK_APP_TOKEN=\nOPENAI_API_KEY=sk-1\nOPENAI_ORG_ID=\n"
    )
    settings = load_settings()
    assert settings.slack_app_token is None
    assert not settings.socket_mode  # unset means HTTP mode
    assert settings.openai_org_id is None
    assert settings.problems_for_run() == []


def test_every_bad_variable_is_named_with_what_it_should_look_like(
    in_empty_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PORT", "eighty")
    monkeypatch.setenv("TUNEOPS_PROVIDER", "anthropic")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    problems = "\n".join(caught.value.problems)
    assert "PORT" in problems
    assert "TUNEOPS_PROVIDER" in problems
    assert "'openai' or 'azure'" in problems


def test_azure_needs_its_endpoint(in_empty_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TUNEOPS_PROVIDER", "azure")
    with pytest.raises(ConfigError, match="AZURE_OPENAI_ENDPOINT is required"):
        load_settings()


def test_run_problems_say_how_to_fix_them_and_never_echo_secrets(
    in_empty_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xapp-secret-value")
    problems = load_settings().problems_for_run()
    assert any("SLACK_BOT_TOKEN should start with xoxb-" in p for p in problems)
    assert any("SLACK_SIGNING_SECRET is required in HTTP mode" in p for p in problems)
    assert any("OPENAI_API_KEY is not set" in p for p in problems)
    assert not any("secret-value" in p for p in problems)
