"""`tuneops check`: is this deployment ready? One ✓/✗ line per check, with how to fix what failed.

Checks the configuration (every problem at once), Slack (`auth.test` with the bot token, and
`apps.connections.open` with the app token in Socket Mode), the fine-tuning API (lists one job) and the
database (opens it, applies migrations, asks it a query). Exit 0 only when every check passes. Nothing
printed can hold a secret: every line goes through the log redactor and no token is ever formatted in.
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass
from typing import TextIO
from urllib.parse import urlsplit

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.app.entra_check import entra_fix, entra_setup_fix, entra_sign_in
from bot.config import ConfigError, Settings, load_settings
from bot.finetune.client import FineTuneClient
from bot.finetune.entra import EntraError
from bot.finetune.errors import (
    APIConnectionError,
    APIStatusError,
    AuthenticationError,
    FineTuneError,
    NotFoundError,
    PermissionDeniedError,
)
from bot.finetune.providers import provider_from_settings
from bot.finetune.retry import NO_RETRY
from bot.ops.redaction import redact, register_secrets
from storage.inspect import inspect_database

TIMEOUT_SECONDS = 10.0

# What a bot token needs for the commands, cards and notifications, and for the notifier's look in a
# thread before it re-sends anything (see manifest.yml).
REQUIRED_BOT_SCOPES = ("commands", "chat:write", "channels:history", "groups:history")

_SLACK_AUTH_FIXES = {
    "invalid_auth": "copy the Bot User OAuth Token (xoxb-…) again from OAuth & Permissions",
    "not_authed": "set SLACK_BOT_TOKEN to the Bot User OAuth Token (xoxb-…)",
    "token_revoked": "the token was revoked: reinstall the app to the workspace and copy the new token",
    "token_expired": "the token expired: reinstall the app (or turn off token rotation) and copy the new token",
    "account_inactive": "the app was uninstalled or its workspace deactivated: reinstall it",
}


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str
    fix: str = ""


def _host(url: str) -> str:
    return urlsplit(url).netloc or url


async def check_slack(settings: Settings) -> CheckResult:
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else ""
    if not token:
        # The configuration's line already says the token is missing and how to get it: not said twice.
        return CheckResult("Slack", False, "not tried without a bot token (see the configuration above)")
    client = AsyncWebClient(token=token, base_url=settings.slack_api_url, timeout=int(TIMEOUT_SECONDS))
    try:
        response = await client.auth_test()
    except SlackApiError as exc:
        error = str(exc.response.get("error", "unknown_error"))
        fix = _SLACK_AUTH_FIXES.get(error, "check SLACK_BOT_TOKEN and the app's installation")
        return CheckResult("Slack", False, f"auth.test was refused: {error}", fix)
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        return _slack_unreachable(
            "Slack", "", settings, exc, "SLACK_API_URL (normally https://slack.com/api/)"
        )
    team, user = (
        response.get("team") or response.get("team_id"),
        response.get("user") or response.get("user_id"),
    )
    detail = f"auth.test ok: workspace {team!s}, bot user {user!s}"
    headers = {str(k).lower(): v for k, v in (response.headers or {}).items()}
    granted = headers.get("x-oauth-scopes")
    if isinstance(granted, list):  # some transports give every header as a list
        granted = ",".join(str(part) for part in granted)
    if granted is not None:
        missing = [
            scope for scope in REQUIRED_BOT_SCOPES if scope not in {s.strip() for s in granted.split(",")}
        ]
        if missing:
            return CheckResult(
                "Slack",
                False,
                f"{detail}, but the token lacks the scopes {', '.join(missing)}",
                "add them under OAuth & Permissions (or recreate the app from manifest.yml) and reinstall",
            )
    return CheckResult("Slack", True, detail)


async def check_socket_mode(settings: Settings) -> CheckResult:
    if settings.slack_app_token is None:
        signing = settings.slack_signing_secret is not None and bool(
            settings.slack_signing_secret.get_secret_value()
        )
        return CheckResult(
            "Slack connection",
            signing,
            f"HTTP mode: Slack must reach http(s)://<this host>:{settings.port}/slack/events"
            + ("" if signing else ", once the signing secret above is set"),
        )
    client = AsyncWebClient(base_url=settings.slack_api_url, timeout=int(TIMEOUT_SECONDS))
    try:
        await client.apps_connections_open(app_token=settings.slack_app_token.get_secret_value())
    except SlackApiError as exc:
        error = str(exc.response.get("error", "unknown_error"))
        return CheckResult(
            "Slack connection",
            False,
            f"Socket Mode: apps.connections.open was refused: {error}",
            "create an app-level token with the connections:write scope (Basic Information → App-Level "
            "Tokens), put it in SLACK_APP_TOKEN and turn Socket Mode on",
        )
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        return _slack_unreachable("Slack connection", "Socket Mode: ", settings, exc, "SLACK_API_URL")
    return CheckResult(
        "Slack connection", True, "Socket Mode: Slack offers a WebSocket URL for the app token"
    )


def _api_fix(settings: Settings, exc: FineTuneError) -> str:
    key_var = "AZURE_OPENAI_API_KEY" if settings.provider == "azure" else "OPENAI_API_KEY"
    url_var = "AZURE_OPENAI_ENDPOINT" if settings.provider == "azure" else "OPENAI_BASE_URL"
    if isinstance(exc, AuthenticationError):
        return f"the key was refused: check {key_var} (a new key may take a minute to work)"
    if isinstance(exc, PermissionDeniedError):
        return (
            f"the key may not use fine-tuning: use a key (or project, OPENAI_PROJECT_ID) that can; {key_var}"
        )
    if isinstance(exc, NotFoundError):
        return f"{url_var} does not serve /fine_tuning/jobs: check it"
    if isinstance(exc, APIConnectionError):
        return f"check {url_var}, the network and any proxy settings"
    return "see the message; the provider's status page may say more"


async def check_api(settings: Settings) -> CheckResult:
    name = "fine-tuning API"
    try:
        provider = provider_from_settings(settings)
    except ConfigError as exc:
        return CheckResult(name, False, "not tried: " + "; ".join(exc.problems))
    where = f"{provider.name} at {_host(provider.base_url)}"
    client = FineTuneClient(provider, retry=NO_RETRY, timeout=TIMEOUT_SECONDS)
    signed_in = None
    try:
        if provider.tokens is not None:  # Azure without a key: Microsoft Entra ID
            try:
                signed_in = await entra_sign_in(provider.tokens)
            except EntraError as exc:
                return CheckResult(name, False, f"{where}: Microsoft Entra ID: {exc}", entra_setup_fix(exc))
            where = f"{where}, {signed_in}"
        page = await client.list_jobs(limit=1)
    except APIStatusError as exc:
        fix = (entra_fix(exc) if signed_in else None) or _api_fix(settings, exc)
        return CheckResult(name, False, f"{where} answered {exc.status_code}: {exc}", fix)
    except FineTuneError as exc:
        return CheckResult(name, False, f"{where}: {exc}", _api_fix(settings, exc))
    finally:
        await client.aclose()
    latest = f"latest job {page.data[0].id} is {page.data[0].status}" if page.data else "no jobs yet"
    return CheckResult(name, True, f"{where} lists jobs ({latest})")


async def check_database(settings: Settings) -> CheckResult:
    """Read-only: a check creates nothing and migrates nothing (`tuneops run` and `migrate` do that)."""
    name = "database"
    state = await inspect_database(settings.db_path)
    path = state.path
    if not state.exists:
        if state.creatable:
            return CheckResult(name, True, f"{path} does not exist yet; `tuneops run` will create it")
        return CheckResult(
            name,
            False,
            f"{path} does not exist and cannot be created here",
            "point TUNEOPS_DB at a file in a directory this user can write to",
        )
    if state.problem is not None or state.version is None:
        return CheckResult(
            name,
            False,
            f"{path}: cannot read it ({state.problem})",
            "make sure the file is readable by this user and is an SQLite database",
        )
    if state.too_new:
        return CheckResult(
            name,
            False,
            f"{path} has schema version {state.version}, newer than this TuneOps ({state.latest})",
            "run the newer TuneOps that migrated it, or restore a backup",
        )
    if not state.creatable:
        return CheckResult(name, False, f"{path} is read-only for this user", "make the file writable")
    if state.needs_migration:
        return CheckResult(
            name,
            True,
            f"{path} answers (schema version {state.version}; `tuneops run` or `tuneops migrate` "
            f"will bring it to {state.latest})",
        )
    return CheckResult(name, True, f"{path} answers (schema version {state.version})")


def _print(out: TextIO, result: CheckResult) -> None:
    mark = "✓" if result.ok else "✗"
    print(redact(f"  {mark} {result.name}: {result.detail}"), file=out)
    if not result.ok and result.fix:
        print(redact(f"      fix: {result.fix}"), file=out)


async def run_check(*, out: TextIO | None = None) -> int:
    """Run every check that the configuration allows and print the results; 0 only when all pass."""
    out = out if out is not None else sys.stdout
    print("TuneOps check", file=out)
    results: list[CheckResult] = []
    try:
        settings = load_settings()
    except ConfigError as exc:
        for problem in exc.problems:
            _report(out, results, CheckResult("configuration", False, problem))
        print(redact(f"{_problems(len(results))} in the configuration; nothing else was tried."), file=out)
        return 1
    register_secrets(
        s.get_secret_value()
        for s in (
            settings.slack_bot_token,
            settings.slack_app_token,
            settings.slack_signing_secret,
            settings.openai_api_key,
            settings.azure_openai_api_key,
        )
        if s is not None
    )

    problems = settings.problems_for_run()
    for problem in problems:
        _report(out, results, CheckResult("configuration", False, problem))
    if not problems:
        mode = "Socket Mode" if settings.socket_mode else f"HTTP mode on port {settings.port}"
        _report(out, results, CheckResult("configuration", True, f"{mode}, provider {settings.provider}"))

    checks = [
        check_slack(settings),
        check_socket_mode(settings),
        check_api(settings),
        check_database(settings),
    ]
    for result in await asyncio.gather(*checks):
        _report(out, results, result)

    failed = sum(1 for r in results if not r.ok)
    passed = len(results) - failed
    print(f"{failed} of {len(results)} checks failed" if failed else f"all {passed} checks passed", file=out)
    return 1 if failed else 0


def _problems(count: int) -> str:
    return f"{count} problem" if count == 1 else f"{count} problems"


def _report(out: TextIO, results: list[CheckResult], result: CheckResult) -> None:
    results.append(result)
    _print(out, result)


def _slack_unreachable(
    name: str, prefix: str, settings: Settings, error: Exception, url_hint: str
) -> CheckResult:
    where = _host(settings.slack_api_url)
    return CheckResult(
        name,
        False,
        f"{prefix}could not reach Slack at {where} ({type(error).__name__})",
        f"check {url_hint}, the network and any proxy settings",
    )
