"""Configuration read from the environment and an optional `.env` file.

Every problem is reported at once, naming the variable and what it should look like; secret values are
never echoed back (they are `SecretStr`).
"""

from __future__ import annotations

import binascii
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Provider = Literal["openai", "azure"]


class ConfigError(Exception):
    """The configuration is unusable; `problems` says which variable and how to fix it."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid configuration:\n" + "\n".join(f"  - {p}" for p in problems))
        self.problems = problems


class Settings(BaseSettings):
    # An empty variable (`SLACK_APP_TOKEN=` in a .env template) means unset, not "an empty token".
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", env_ignore_empty=True
    )

    slack_bot_token: SecretStr | None = Field(default=None, alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(default=None, alias="SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = Field(default=None, alias="SLACK_APP_TOKEN")
    slack_api_url: str = Field(default="https://slack.com/api/", alias="SLACK_API_URL")
    port: int = Field(default=3000, alias="PORT", ge=0, le=65535)

    provider: Provider = Field(default="openai", alias="TUNEOPS_PROVIDER")
    openai_api_key: SecretStr | None = Field(default=None, alias="OPENAI_API_KEY")
    openai_base_url: str = Field(default="https://api.openai.com/v1", alias="OPENAI_BASE_URL")
    openai_org_id: str | None = Field(default=None, alias="OPENAI_ORG_ID")
    openai_project_id: str | None = Field(default=None, alias="OPENAI_PROJECT_ID")
    azure_openai_endpoint: str | None = Field(default=None, alias="AZURE_OPENAI_ENDPOINT")
    azure_openai_api_key: SecretStr | None = Field(default=None, alias="AZURE_OPENAI_API_KEY")
    azure_openai_api_version: Literal["v1", "preview"] = Field(default="v1", alias="AZURE_OPENAI_API_VERSION")
    azure_training_type: str | None = Field(default=None, alias="AZURE_TRAINING_TYPE")
    # The Azure account deployments go to (`/finetune deploy`); the management plane always uses Entra ID.
    azure_subscription_id: str | None = Field(default=None, alias="AZURE_SUBSCRIPTION_ID")
    azure_resource_group: str | None = Field(default=None, alias="AZURE_RESOURCE_GROUP")
    azure_openai_resource: str | None = Field(default=None, alias="AZURE_OPENAI_RESOURCE")
    azure_management_url: str = Field(default="https://management.azure.com", alias="AZURE_MANAGEMENT_URL")

    db_path: str = Field(default="tuneops.db", alias="TUNEOPS_DB")
    poll_interval: float = Field(default=30.0, alias="TUNEOPS_POLL_INTERVAL", gt=0)
    # Seconds between the Socket Mode watchdog's checks; three failed checks in a row replace the connection.
    socket_check_interval: float = Field(default=10.0, alias="TUNEOPS_SOCKET_CHECK_INTERVAL", gt=0)
    admins: str = Field(default="", alias="TUNEOPS_ADMINS")
    # Who may subscribe channels to jobs started anywhere (and change channel settings): unset = anyone;
    # set = these user ids and the admins.
    subscribers: str | None = Field(default=None, alias="TUNEOPS_SUBSCRIBERS")
    # A JSON or TOML file of USD per 1M training tokens by model, over the built-in table (bot/jobs/prices.py).
    prices_file: str | None = Field(default=None, alias="TUNEOPS_PRICES")
    command: str = Field(default="/finetune", alias="TUNEOPS_COMMAND")
    # Standard Webhooks signing secrets (`whsec_…`) for POST /webhooks/fine-tuning; several, comma-separated,
    # while one is rotated out. Unset: the endpoint is not served.
    webhook_secret: SecretStr | None = Field(default=None, alias="TUNEOPS_WEBHOOK_SECRET")
    log_format: Literal["text", "json"] = Field(default="text", alias="LOG_FORMAT")
    log_level: str = Field(default="INFO", alias="LOG_LEVEL")

    @field_validator("slack_api_url")
    @classmethod
    def _slash_terminated(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL such as https://slack.com/api/")
        return value if value.endswith("/") else value + "/"

    @field_validator("openai_base_url", "azure_openai_endpoint", "azure_management_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL")
        return value.rstrip("/") if value else value

    @field_validator("command")
    @classmethod
    def _command_name(cls, value: str) -> str:
        if not value.startswith("/") or len(value) < 2 or " " in value:
            raise ValueError("must look like /finetune")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _whsec_list(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        parts = [part.strip() for part in value.get_secret_value().split(",") if part.strip()]
        if not parts:
            return None
        for number, part in enumerate(parts, start=1):
            where = f"secret {number}" if len(parts) > 1 else "the secret"
            if not part.startswith("whsec_"):
                raise ValueError(f"{where} should start with whsec_ (copy it from the webhook's settings)")
            try:
                encoded = part.removeprefix("whsec_")
                # Some senders drop base64's padding; the verifier tolerates that too.
                encoded += "=" * (-len(encoded) % 4)
                key = binascii.a2b_base64(encoded.encode(), strict_mode=True)
            except (binascii.Error, ValueError):
                key = b""
            if not key:
                raise ValueError(f"{where} should be whsec_ followed by base64; it looks cut or mistyped")
        return SecretStr(",".join(parts))

    @model_validator(mode="after")
    def _provider_complete(self) -> Settings:
        if self.provider == "azure" and not self.azure_openai_endpoint:
            raise ValueError(
                "AZURE_OPENAI_ENDPOINT is required when TUNEOPS_PROVIDER=azure "
                "(e.g. https://my-resource.openai.azure.com)"
            )
        return self

    @property
    def admin_ids(self) -> frozenset[str]:
        return frozenset(part.strip() for part in self.admins.split(",") if part.strip())

    @property
    def subscriber_ids(self) -> frozenset[str] | None:
        """None: anyone may subscribe; else only these ids (and the admins)."""
        if self.subscribers is None:
            return None
        return frozenset(part.strip() for part in self.subscribers.split(",") if part.strip())

    @property
    def webhook_secrets(self) -> list[str]:
        """The webhook signing secrets, newest first as configured; empty when webhooks are off."""
        if self.webhook_secret is None:
            return []
        return self.webhook_secret.get_secret_value().split(",")

    @property
    def socket_mode(self) -> bool:
        return self.slack_app_token is not None

    def problems_for_run(self) -> list[str]:
        """What stops `tuneops run` from starting, in plain words."""
        problems: list[str] = []
        token = self.slack_bot_token.get_secret_value() if self.slack_bot_token else ""
        if not token:
            problems.append("SLACK_BOT_TOKEN is not set: copy the Bot User OAuth Token (xoxb-…) of your app")
        elif not token.startswith("xoxb-"):
            problems.append(
                "SLACK_BOT_TOKEN should start with xoxb- (the bot token, not a user or app token)"
            )
        if self.slack_app_token is not None:
            if not self.slack_app_token.get_secret_value().startswith("xapp-"):
                problems.append(
                    "SLACK_APP_TOKEN should start with xapp- (an app-level token with connections:write)"
                )
        elif not (self.slack_signing_secret and self.slack_signing_secret.get_secret_value()):
            problems.append(
                "SLACK_SIGNING_SECRET is required in HTTP mode (Basic Information → Signing Secret), "
                "or set SLACK_APP_TOKEN to use Socket Mode"
            )
        if self.provider == "openai" and not self.openai_api_key:
            problems.append(
                "OPENAI_API_KEY is not set (or set TUNEOPS_PROVIDER=azure with the AZURE_* variables)"
            )
        # Azure without AZURE_OPENAI_API_KEY signs in with Microsoft Entra ID (`tuneops check` tries it).
        return problems


def load_settings(**overrides: object) -> Settings:
    """Read the settings, turning pydantic's errors into `ConfigError` with one line per variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            where = ".".join(str(part) for part in error["loc"]) or "configuration"
            message = error["msg"].removeprefix("Value error, ")
            problems.append(f"{where}: {message}" if error["loc"] else message)
        raise ConfigError(problems) from None
