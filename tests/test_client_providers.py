"""Which provider the settings choose, and how its requests are addressed and signed."""

from __future__ import annotations

import pytest

from bot.config import ConfigError, load_settings
from bot.finetune.client import FineTuneClient
from bot.finetune.providers import ProviderConfig, provider_from_settings

PROVIDER_VARIABLES = (
    "TUNEOPS_PROVIDER",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "OPENAI_ORG_ID",
    "OPENAI_PROJECT_ID",
    "AZURE_OPENAI_ENDPOINT",
    "AZURE_OPENAI_API_KEY",
    "AZURE_OPENAI_API_VERSION",
    "AZURE_TRAINING_TYPE",
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    for name in PROVIDER_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(str(tmp_path))  # no stray .env


def test_openai_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-123")
    monkeypatch.setenv("OPENAI_ORG_ID", "org-abc")
    monkeypatch.setenv("OPENAI_PROJECT_ID", "proj_xyz")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9999/v1/")

    provider = provider_from_settings(load_settings())

    assert provider.name == "openai"
    assert provider.base_url == "http://127.0.0.1:9999/v1"
    assert dict(provider.headers) == {
        "Authorization": "Bearer sk-test-123",
        "OpenAI-Organization": "org-abc",
        "OpenAI-Project": "proj_xyz",
    }
    assert dict(provider.params) == {}
    assert dict(provider.extra_create_fields) == {}
    assert provider.supports_metadata_filter
    assert provider.url("fine_tuning/jobs") == "http://127.0.0.1:9999/v1/fine_tuning/jobs"


def test_openai_defaults_from_keyword_arguments() -> None:
    provider = provider_from_settings(load_settings(OPENAI_API_KEY="sk-kw"))

    assert provider.base_url == "https://api.openai.com/v1"
    assert dict(provider.headers) == {"Authorization": "Bearer sk-kw"}


def test_azure_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TUNEOPS_PROVIDER", "azure")
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", "https://my-resource.openai.azure.com/")
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "azure-key-1")
    monkeypatch.setenv("AZURE_OPENAI_API_VERSION", "preview")
    monkeypatch.setenv("AZURE_TRAINING_TYPE", "GlobalStandard")

    provider = provider_from_settings(load_settings())

    assert provider.name == "azure"
    assert provider.base_url == "https://my-resource.openai.azure.com/openai/v1"
    assert dict(provider.headers) == {"api-key": "azure-key-1"}
    assert dict(provider.params) == {"api-version": "preview"}
    assert dict(provider.extra_create_fields) == {"trainingType": "GlobalStandard"}
    assert not provider.supports_metadata_filter


def test_azure_from_keyword_arguments_without_training_type() -> None:
    settings = load_settings(
        TUNEOPS_PROVIDER="azure",
        AZURE_OPENAI_ENDPOINT="https://res.openai.azure.com",
        AZURE_OPENAI_API_KEY="k",
    )

    provider = provider_from_settings(settings)

    assert provider.base_url == "https://res.openai.azure.com/openai/v1"
    assert dict(provider.params) == {"api-version": "v1"}
    assert dict(provider.extra_create_fields) == {}


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://res.openai.azure.com/openai/v1",
        "https://res.openai.azure.com/openai/",
        "https://res.openai.azure.com",
    ],
)
def test_azure_endpoint_pasted_with_or_without_the_api_path(endpoint: str) -> None:
    assert ProviderConfig.azure(endpoint, "k").base_url == "https://res.openai.azure.com/openai/v1"


def test_missing_keys_name_the_variable() -> None:
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        provider_from_settings(load_settings())


async def test_azure_without_a_key_signs_in_with_entra_id() -> None:
    provider = provider_from_settings(
        load_settings(TUNEOPS_PROVIDER="azure", AZURE_OPENAI_ENDPOINT="https://res.openai.azure.com")
    )
    assert provider.tokens is not None
    assert provider.tokens.scope == "https://cognitiveservices.azure.com/.default"
    assert "api-key" not in provider.headers
    await provider.tokens.aclose()


def test_key_never_in_repr() -> None:
    openai = ProviderConfig.openai("sk-secret-value")
    azure = ProviderConfig.azure("https://res.openai.azure.com", "azure-secret-value")

    assert "sk-secret-value" not in repr(openai)
    assert "azure-secret-value" not in repr(azure)


async def test_client_from_settings_names_its_provider() -> None:
    settings = load_settings(
        TUNEOPS_PROVIDER="azure",
        AZURE_OPENAI_ENDPOINT="https://res.openai.azure.com",
        AZURE_OPENAI_API_KEY="k",
    )
    async with FineTuneClient.from_settings(settings) as client:
        assert client.provider_name == "azure"
