"""Fault knobs of the stand-in: forced HTTP failures, refused messages, added latency, and the per-channel pacing checker."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from bot.sandbox.standin.models import JSON, PacingViolation

# Bodies Slack sends with each forced status.
_FAILURE_ERRORS = {429: "ratelimited", 500: "internal_error", 502: "bad_gateway", 503: "service_unavailable"}


@dataclass
class FailureRule:
    """Answer the next `remaining` matching calls with `status` (429 carries `Retry-After: retry_after`)."""

    remaining: int
    status: int = 429
    retry_after: int = 1
    method: str | None = None  # None: any Web API method; "response_url" targets the response_url sink

    def matches(self, method: str) -> bool:
        return self.remaining > 0 and (self.method is None or self.method == method)

    def body(self) -> JSON:
        return {"ok": False, "error": _FAILURE_ERRORS.get(self.status, "fatal_error")}

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)} if self.status == 429 else {}


@dataclass
class RefusalRule:
    """Answer matching calls `{"ok": false, "error": error}` with HTTP 200, as Slack refuses a message it will
    never take: `method`'s calls in `channel` (None: any), only those carrying blocks when `with_blocks`,
    the next `remaining` of them (None: every one, until cleared)."""

    error: str
    method: str
    channel: str | None = None
    with_blocks: bool = False
    remaining: int | None = None

    def matches(self, method: str, args: JSON) -> bool:
        if method != self.method or self.remaining == 0:
            return False
        if self.channel is not None and args.get("channel") != self.channel:
            return False
        return not self.with_blocks or bool(args.get("blocks") not in (None, "", "[]", []))


@dataclass
class Pacing:
    """Token bucket per channel: `burst` posts at once, refilled at `rate` per second.

    A post that finds the bucket empty is recorded as a violation; with `enforce` it is also answered
    like Slack would, with 429 and `Retry-After: 1`.
    """

    rate: float = 1.0
    burst: int = 3
    enforce: bool = False
    methods: frozenset[str] = frozenset({"chat.postMessage"})
    violations: list[PacingViolation] = field(default_factory=list)
    _tokens: dict[str, tuple[float, float]] = field(default_factory=dict)  # channel -> (tokens, at)
    _recent: dict[str, deque[float]] = field(default_factory=dict)

    def check(self, method: str, channel: str, now: float) -> bool:
        """Record a post; False when it broke the pace (and so should be refused when enforcing)."""
        if method not in self.methods or not channel:
            return True
        recent = self._recent.setdefault(channel, deque())
        recent.append(now)
        while recent and now - recent[0] > 1.0:
            recent.popleft()
        tokens, at = self._tokens.get(channel, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - at) * self.rate)
        if tokens >= 1.0:
            self._tokens[channel] = (tokens - 1.0, now)
            return True
        self._tokens[channel] = (tokens, now)
        self.violations.append(PacingViolation(channel, method, now, len(recent)))
        return False


@dataclass
class Faults:
    rules: list[FailureRule] = field(default_factory=list)
    refusals: list[RefusalRule] = field(default_factory=list)
    latency_ms: float = 0.0
    method_latency_ms: dict[str, float] = field(default_factory=dict)
    pacing: Pacing = field(default_factory=Pacing)

    def fail_next(
        self, n: int, *, status: int = 429, retry_after: int = 1, method: str | None = None
    ) -> None:
        if n < 1:
            raise ValueError("n must be at least 1")
        if status not in _FAILURE_ERRORS and not 400 <= status <= 599:
            raise ValueError(f"status must be an HTTP error status, not {status}")
        self.rules.append(FailureRule(n, status, retry_after, method))

    def take_failure(self, method: str) -> FailureRule | None:
        """The rule that fails this call (consuming one of its uses), if any."""
        for rule in self.rules:
            if rule.matches(method):
                rule.remaining -= 1
                if rule.remaining == 0:
                    self.rules.remove(rule)
                return rule
        return None

    def take_refusal(self, method: str, args: JSON) -> str | None:
        """The error code refusing this call (consuming one use of its rule), if any."""
        for rule in self.refusals:
            if rule.matches(method, args):
                if rule.remaining is not None:
                    rule.remaining -= 1
                return rule.error
        return None

    def latency_for(self, method: str) -> float:
        """Seconds to wait before answering `method`."""
        return self.method_latency_ms.get(method, self.latency_ms) / 1000.0

    def set_latency(self, ms: float, method: str | None = None) -> None:
        if ms < 0:
            raise ValueError("latency must not be negative")
        if method is None:
            self.latency_ms = ms
        else:
            self.method_latency_ms[method] = ms

    def clear(self) -> None:
        """No forced failures, no latency, default pacing (recorded violations are kept)."""
        self.rules.clear()
        self.refusals.clear()
        self.latency_ms = 0.0
        self.method_latency_ms.clear()
        violations = self.pacing.violations
        self.pacing = Pacing(violations=violations)
