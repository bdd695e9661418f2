"""Prometheus metrics, one registry for the process (served at GET /metrics)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

SLACK_REQUESTS = Counter(
    "tuneops_slack_requests_total",
    "Slash commands, button clicks and form submissions handled, by kind and outcome",
    ["kind", "outcome"],
    registry=REGISTRY,
)
API_REQUESTS = Counter(
    "tuneops_api_requests_total",
    "Fine-tuning API requests, by operation and HTTP status (or 'error' when none came back)",
    ["operation", "status"],
    registry=REGISTRY,
)
WEBHOOK_DELIVERIES = Counter(
    "tuneops_webhook_deliveries_total",
    "Fine-tuning webhook deliveries, by outcome (read_now, repeat, unknown_job, ignored, refused, ...)",
    ["outcome"],
    registry=REGISTRY,
)
POLL_CYCLE_SECONDS = Histogram(
    "tuneops_poll_cycle_seconds",
    "Duration of one watcher cycle",
    registry=REGISTRY,
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
POLL_LAG_SECONDS = Gauge(
    "tuneops_poll_lag_seconds",
    "How overdue the most overdue job poll was in the last cycle",
    registry=REGISTRY,
)
WATCHER_RESTARTS = Counter(
    "tuneops_watcher_restarts_total",
    "Times a background task died and was restarted",
    ["task"],
    registry=REGISTRY,
)
OUTBOX_DEPTH = Gauge("tuneops_outbox_pending", "Notifications waiting to be delivered", registry=REGISTRY)
OUTBOX_OLDEST_AGE = Gauge(
    "tuneops_outbox_oldest_pending_seconds", "Age of the oldest undelivered notification", registry=REGISTRY
)
DELIVERIES = Counter(
    "tuneops_deliveries_total",
    "Slack deliveries by kind (reply, card) and outcome (sent, retry, given_up)",
    ["kind", "outcome", "reason"],
    registry=REGISTRY,
)
