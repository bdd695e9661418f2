"""Injected faults (errors and latency) and the request counters benchmarks read."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from typing import Any

from bot.sandbox.emulator.errors import ApiError
from bot.sandbox.emulator.flavour import Flavour

# 404: the job was deleted (or never existed) as far as the API is concerned, for that path alone.
FAULT_STATUSES = frozenset({404, 408, 409, 429, 500, 502, 503, 504})


@dataclass
class FaultRule:
    """Answer matching requests with `status` (or only delay them when `status` is None).

    `count` limits the rule to the next N matching requests (None: no limit); `rate` is the share of matching
    requests affected, drawn from the emulator's seeded random generator. `raw_body` answers matching
    requests 200 with that text instead (a proxy's page, a cut-off answer), without doing them.
    """

    status: int | None = None
    count: int | None = None
    rate: float = 1.0
    retry_after: float | None = None
    code: str | None = None
    message: str | None = None
    latency_ms: float = 0.0
    path_contains: str | None = None
    method: str | None = None
    raw_body: str | None = None

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> FaultRule:
        status = body.get("status")
        if status is not None and int(status) not in FAULT_STATUSES:
            raise ValueError(f"status must be one of {sorted(FAULT_STATUSES)}")
        count = body.get("count")
        if count is not None and int(count) < 0:
            raise ValueError("count must be 0 or more, or null")
        rate = float(body.get("rate", 1.0))
        if not 0.0 <= rate <= 1.0:
            raise ValueError("rate must be between 0 and 1")
        retry_after = body.get("retry_after")
        method = body.get("method")
        return cls(
            status=None if status is None else int(status),
            count=None if count is None else int(count),
            rate=rate,
            retry_after=None if retry_after is None else float(retry_after),
            code=body.get("code"),
            message=body.get("message"),
            latency_ms=float(body.get("latency_ms", 0.0)),
            path_contains=body.get("path_contains"),
            method=None if method is None else str(method).upper(),
            raw_body=None if body.get("raw_body") is None else str(body["raw_body"]),
        )

    def matches(self, method: str, path: str) -> bool:
        if self.count is not None and self.count <= 0:
            return False
        if self.method is not None and method.upper() != self.method:
            return False
        return self.path_contains is None or self.path_contains in path

    def error(self, flavour: Flavour) -> ApiError:
        status = self.status or 500
        headers: dict[str, str] = {}
        if self.retry_after is not None:
            headers["retry-after"] = f"{max(0, round(self.retry_after))}"
            headers["retry-after-ms"] = f"{max(0, round(self.retry_after * 1000))}"
        if status == 429:
            headers["x-ratelimit-remaining-requests"] = "0"
            code = self.code or ("429" if flavour == "azure" else "rate_limit_exceeded")
            if code == "daily_rate_limit_exceeded":
                message = self.message or (
                    "This fine-tune request has been rate-limited. Your organization has reached the maximum "
                    "of fine-tuning requests per day for this model."
                )
                return ApiError(429, message, code=code, headers=headers)
            message = self.message or "Rate limit reached for requests. Please try again later."
            return ApiError(429, message, type="requests", code=code, headers=headers)
        if status == 404:
            message = self.message or "The requested resource was not found."
            return ApiError(404, message, type="invalid_request_error", code=self.code or "not_found")
        if status == 503:
            message = self.message or "The server is overloaded or not ready yet."
            return ApiError(503, message, type="server_error", code=self.code, headers=headers)
        message = self.message or "The server had an error while processing your request. Sorry about that!"
        return ApiError(status, message, type="server_error", code=self.code, headers=headers)

    def as_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "count": self.count,
            "rate": self.rate,
            "retry_after": self.retry_after,
            "code": self.code,
            "message": self.message,
            "latency_ms": self.latency_ms,
            "path_contains": self.path_contains,
            "method": self.method,
            "raw_body": self.raw_body,
        }


class FaultInjector:
    def __init__(self, seed: int = 0) -> None:
        self._rng = random.Random(seed)
        self.rules: list[FaultRule] = []

    def set(self, rules: list[FaultRule]) -> None:
        self.rules = list(rules)

    def clear(self) -> None:
        self.rules = []

    def pick(self, method: str, path: str) -> tuple[float, FaultRule | None]:
        """Delay in seconds and the rule that fails this request (if any); count-limited rules are used up."""
        delay = 0.0
        failing: FaultRule | None = None
        for rule in self.rules:
            if not rule.matches(method, path):
                continue
            if rule.rate < 1.0 and self._rng.random() >= rule.rate:
                continue
            if rule.count is not None:
                rule.count -= 1
            delay = max(delay, rule.latency_ms / 1000)
            if (rule.status is not None or rule.raw_body is not None) and failing is None:
                failing = rule
        return delay, failing


class RequestStats:
    """Counts of API requests by operation (the OpenAPI operationId) and HTTP status."""

    def __init__(self) -> None:
        self.by_operation: Counter[tuple[str, int]] = Counter()
        self.faults_injected = 0

    def record(self, operation: str, status: int) -> None:
        self.by_operation[(operation, status)] += 1

    def reset(self) -> None:
        self.by_operation.clear()
        self.faults_injected = 0

    def as_json(self) -> dict[str, Any]:
        operations: dict[str, dict[str, int]] = {}
        statuses: Counter[str] = Counter()
        for (operation, status), n in sorted(self.by_operation.items()):
            operations.setdefault(operation, {})[str(status)] = n
            statuses[str(status)] += n
        return {
            "total": sum(self.by_operation.values()),
            "by_operation": operations,
            "by_status": dict(statuses),
            "faults_injected": self.faults_injected,
        }
