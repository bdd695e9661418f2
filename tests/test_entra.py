"""Microsoft Entra ID on Azure (no AZURE_OPENAI_API_KEY): tokens from a stand-in managed identity endpoint,
through the real client, the real bot and `tuneops check`, against the emulator's Azure paths."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import pytest

from bot.app.check import run_check
from bot.config import load_settings
from bot.finetune.client import FineTuneClient
from bot.finetune.errors import PermissionDeniedError
from bot.sandbox.emulator.server import EmulatorServer
from bot.sandbox.standin.server import SlackStandIn
from tests.support.entra import DATA_RESOURCE, EntraRig
from tests.support.ops import service_env
from tests.support.runtime import StartBot, texts_of


def _azure_without_key(emulator: EmulatorServer) -> dict[str, str]:
    return {"TUNEOPS_PROVIDER": "azure", "AZURE_OPENAI_ENDPOINT": emulator.azure_endpoint}


async def _check(env: pytest.MonkeyPatch, variables: dict[str, str]) -> tuple[int, str]:
    for name, value in variables.items():
        env.setenv(name, value)
    env.delenv("AZURE_OPENAI_API_KEY", raising=False)
    out = io.StringIO()
    code = await run_check(out=out)
    return code, out.getvalue()


def _api_lines(text: str) -> str:
    lines = text.splitlines()
    (index,) = [i for i, line in enumerate(lines) if " fine-tuning API:" in line]
    return "\n".join(lines[index : index + 2])


@pytest.fixture
def azure_env(ops_slack: SlackStandIn, emulator: EmulatorServer, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in service_env(ops_slack, emulator, tmp_path / "t.db").items() if "OPENAI_" not in k}
    return env | _azure_without_key(emulator)


async def test_requests_carry_one_cached_bearer_token(entra: EntraRig, emulator: EmulatorServer) -> None:
    settings = load_settings(**_azure_without_key(emulator))
    async with FineTuneClient.from_settings(settings) as client:
        for _ in range(3):
            await client.list_jobs(limit=1)
    # One token asked of the identity endpoint for three requests: it is kept until close to its expiry.
    assert entra.identity.requests == 1
    assert len(entra.identity.tokens_for(DATA_RESOURCE)) == 1


async def test_a_missing_role_is_the_servers_refusal(entra: EntraRig, emulator: EmulatorServer) -> None:
    entra.roles[DATA_RESOURCE] = []
    settings = load_settings(**_azure_without_key(emulator))
    async with FineTuneClient.from_settings(settings) as client:
        with pytest.raises(PermissionDeniedError, match="lacks the required data action"):
            await client.list_jobs(limit=1)


async def test_the_bot_creates_and_follows_a_job_with_entra_tokens(
    entra: EntraRig, start_bot: StartBot, emulator: EmulatorServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    rig = await start_bot(
        TUNEOPS_PROVIDER="azure", AZURE_OPENAI_ENDPOINT=emulator.azure_endpoint, OPENAI_API_KEY=""
    )
    job_id, _card = await rig.create_job()
    assert job_id.startswith("ftjob-")
    await rig.control.set_job(job_id, status="succeeded")
    sent = await rig.slack.sender.slash(f"status {job_id}")
    answer = await rig.answer_text(sent)
    assert "succeeded" in answer.lower()
    (token,) = entra.identity.tokens_for(DATA_RESOURCE)
    # Never logged, never shown.
    assert token not in caplog.text
    assert token not in texts_of(rig.slack.messages("C_ML"))


async def test_check_names_the_credential_that_signed_in(
    entra: EntraRig, clean_env: pytest.MonkeyPatch, azure_env: dict[str, str]
) -> None:
    code, text = await _check(clean_env, azure_env)
    assert code == 0, text
    assert "signed in with Microsoft Entra ID (ManagedIdentityCredential)" in _api_lines(text)
    assert "lists jobs" in _api_lines(text)
    for _, token in entra.identity.issued:
        assert token not in text


async def test_check_without_any_credential(
    entra: EntraRig, clean_env: pytest.MonkeyPatch, azure_env: dict[str, str]
) -> None:
    clean_env.delenv("IDENTITY_ENDPOINT")
    clean_env.delenv("IDENTITY_HEADER")
    code, text = await _check(clean_env, azure_env)
    assert code == 1
    lines = _api_lines(text)
    assert "no Microsoft Entra ID credential was found" in lines
    assert "fix:" in lines
    assert "AZURE_OPENAI_API_KEY" in lines


async def test_check_when_the_identity_endpoint_refuses(
    entra: EntraRig, clean_env: pytest.MonkeyPatch, azure_env: dict[str, str]
) -> None:
    entra.identity.refusing = True
    code, text = await _check(clean_env, azure_env)
    assert code == 1
    lines = _api_lines(text)
    assert "Microsoft Entra ID gave no token" in lines
    assert "ManagedIdentityCredential" in lines


async def test_check_when_the_api_refuses_the_token(
    entra: EntraRig, clean_env: pytest.MonkeyPatch, azure_env: dict[str, str]
) -> None:
    del entra.roles[DATA_RESOURCE]  # tokens are issued but the resource does not know them
    code, text = await _check(clean_env, azure_env)
    assert code == 1
    lines = _api_lines(text)
    assert "answered 401" in lines
    assert "the Entra ID token was refused" in lines


async def test_check_when_the_role_is_missing(
    entra: EntraRig, clean_env: pytest.MonkeyPatch, azure_env: dict[str, str]
) -> None:
    entra.roles[DATA_RESOURCE] = ["Reader"]
    code, text = await _check(clean_env, azure_env)
    assert code == 1
    lines = _api_lines(text)
    assert "answered 403" in lines
    assert '"Cognitive Services OpenAI Contributor"' in lines
