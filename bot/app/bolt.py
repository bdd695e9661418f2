"""The Bolt app: the Slack Web API client, the app itself, its one error boundary and its listeners.

The client is built once per process (one aiohttp session, retry handlers for connection errors, rate
limits and server errors) and every listener's per-request client inherits it. Those
retries suit idempotent calls (edits, private answers, reads); a job's card is posted through a client
without the 5xx and connection retries (`bot/notify/cards.py`), as the notifier's replies are.
"""

from __future__ import annotations

import logging

import aiohttp
from slack_bolt.async_app import AsyncApp
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.app.response_urls import ResponseUrlGuard
from bot.app.workspace_guard import WorkspaceGuard
from bot.config import Settings
from bot.jobs.deploy import DeployService
from bot.jobs.permissions import Policy
from bot.jobs.service import JobService
from bot.services import Services
from handlers import (
    actions,
    after_training,
    context,
    deliveries,
    events,
    form,
    form_retry,
    home,
    settings_form,
    slash_command,
    uploads,
)
from handlers.errors import install_error_boundary
from handlers.followups import FollowUps

SLACK_TIMEOUT_SECONDS = 15
BOLT_LOGGER = "tuneops.bolt"


class _NoTokenNotice(logging.Filter):
    """Bolt reads SLACK_BOT_TOKEN from the environment even when given a client, then warns at every start
    that the token "will be unused" — true and harmless (the client carries it), but it reads like a
    misconfiguration in an operator's log."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


def build_slack_client(settings: Settings) -> AsyncWebClient:
    """The process's Slack Web API client; close it with `close_slack_client`. Call inside a running loop."""
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    return AsyncWebClient(
        token=token,
        base_url=settings.slack_api_url,
        timeout=SLACK_TIMEOUT_SECONDS,
        # One long-lived session: by default slack_sdk opens and closes one per call.
        session=aiohttp.ClientSession(),
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=2),
            AsyncRateLimitErrorRetryHandler(max_retry_count=3),
            AsyncServerErrorRetryHandler(max_retry_count=2),
        ],
        logger=logging.getLogger("tuneops.slack"),
    )


async def close_slack_client(client: AsyncWebClient) -> None:
    if client.session is not None and not client.session.closed:
        await client.session.close()


def build_app(services: Services, followups: FollowUps | None = None) -> AsyncApp:
    """The Bolt app with every listener registered; `followups` tracks answers sent after the ack."""
    settings = services.settings
    secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
    bolt_logger = logging.getLogger(BOLT_LOGGER)
    if not any(isinstance(f, _NoTokenNotice) for f in bolt_logger.filters):
        bolt_logger.addFilter(_NoTokenNotice())
    app = AsyncApp(
        client=services.slack,
        signing_secret=secret,
        # Unmatched requests go to the error boundary (which answers the person) instead of a bare 404.
        raise_error_for_unhandled_request=True,
        logger=bolt_logger,
        name="tuneops",
    )
    followups = followups if followups is not None else FollowUps()
    boundary = install_error_boundary(app, followups)
    # Global middleware, in order: refuse other workspaces and apps, drop a response_url that is not Slack's,
    # drop handled retries, then give every listener its services.
    app.middleware(WorkspaceGuard(services.slack))
    app.middleware(ResponseUrlGuard(settings.slack_api_url))
    deliveries.register(app, services, followups)
    jobs = JobService(
        services, Policy(settings.admin_ids, command=settings.command, subscribers=settings.subscriber_ids)
    )
    context.register(app, jobs=jobs, followups=followups, boundary=boundary)
    after_training.register(app, services, DeployService(services, jobs))
    slash_command.register(app, services)
    actions.register(app, services)
    form.register(app, services)
    settings_form.register(app, services)
    form_retry.register(app, services)
    events.register(app, services)
    home.register(app, services)
    uploads.register(app, services)
    return app
