"""The `/_emulator/` endpoints (no auth): faults, clock, speed, job state, stats, reset, settings, webhooks."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from bot.sandbox.emulator.api import ApiHandlers
from bot.sandbox.emulator.errors import ApiError
from bot.sandbox.emulator.faults import FaultInjector, FaultRule, RequestStats
from bot.sandbox.emulator.flavour import CONTROL_PREFIX
from bot.sandbox.emulator.state import EmulatorState
from bot.sandbox.emulator.views import render_job
from bot.sandbox.emulator.webhooks import WebhookConfigError, WebhookSender


def _refuse(message: str) -> web.Response:
    return web.json_response({"error": {"message": message, "type": "invalid_request_error"}}, status=400)


async def _body(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    try:
        body = await request.json()
    except json.JSONDecodeError:
        raise web.HTTPBadRequest(text="the body must be JSON") from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text="the body must be a JSON object")
    return body


class ControlHandlers:
    def __init__(
        self,
        state: EmulatorState,
        faults: FaultInjector,
        stats: RequestStats,
        api: ApiHandlers,
        webhooks: WebhookSender,
    ) -> None:
        self.webhooks = webhooks
        self.state = state
        self.faults = faults
        self.stats = stats
        self.api = api

    def routes(self) -> list[web.RouteDef]:
        p = CONTROL_PREFIX
        return [
            web.get(f"{p}/health", self.health),
            web.get(f"{p}/faults", self.get_faults),
            web.post(f"{p}/faults", self.set_faults),
            web.delete(f"{p}/faults", self.clear_faults),
            web.post(f"{p}/clock", self.advance),
            web.post(f"{p}/speed", self.set_speed),
            web.post(f"{p}/jobs/{{job_id}}", self.set_job),
            web.post(f"{p}/jobs/{{job_id}}/fields", self.set_job_fields),
            web.get(f"{p}/stats", self.get_stats),
            web.delete(f"{p}/stats", self.reset_stats),
            web.post(f"{p}/reset", self.reset),
            web.post(f"{p}/settings", self.settings),
            web.get(f"{p}/webhooks", self.get_webhooks),
            web.post(f"{p}/webhooks", self.set_webhooks),
            web.delete(f"{p}/webhooks", self.clear_webhooks),
        ]

    def _clock_json(self) -> dict[str, Any]:
        clock = self.state.clock
        now = clock.now()
        return {"now": now, "unix": clock.unix_at(now), "speed": clock.speed}

    async def health(self, request: web.Request) -> web.Response:
        return web.json_response({"ok": True, "jobs": len(self.state.jobs), **self._clock_json()})

    async def get_faults(self, request: web.Request) -> web.Response:
        return web.json_response({"rules": [rule.as_json() for rule in self.faults.rules]})

    async def set_faults(self, request: web.Request) -> web.Response:
        body = await _body(request)
        raw_rules = body.get("rules", [body])
        try:
            rules = [FaultRule.from_json(raw) for raw in raw_rules]
        except (TypeError, ValueError) as exc:
            return _refuse(f"invalid fault rule: {exc}")
        self.faults.set(rules)
        return web.json_response({"rules": [rule.as_json() for rule in rules]})

    async def clear_faults(self, request: web.Request) -> web.Response:
        self.faults.clear()
        return web.json_response({"rules": []})

    async def advance(self, request: web.Request) -> web.Response:
        body = await _body(request)
        try:
            self.state.clock.advance(float(body.get("seconds", 0)))
        except (TypeError, ValueError) as exc:
            return _refuse(f"invalid seconds: {exc}")
        return web.json_response(self._clock_json())

    async def set_speed(self, request: web.Request) -> web.Response:
        body = await _body(request)
        try:
            self.state.clock.set_speed(float(body["speed"]))
        except (KeyError, TypeError, ValueError) as exc:
            return _refuse(f"invalid speed: {exc}")
        return web.json_response(self._clock_json())

    async def set_job(self, request: web.Request) -> web.Response:
        body = await _body(request)
        status = body.get("status")
        if not isinstance(status, str) or not status:
            return _refuse("'status' is required")
        step = body.get("step")
        error = body.get("error")
        if step is not None and not isinstance(step, int):
            return _refuse("'step' must be an integer")
        if error is not None and not isinstance(error, dict):
            return _refuse("'error' must be an object")
        try:
            record = self.state.set_job(request.match_info["job_id"], status, error=error, step=step)
        except ApiError as exc:
            return web.json_response(exc.body(), status=exc.status)
        seen = self.state.view(record, with_events=False)
        return web.json_response(render_job(record, seen, self.state.clock, record.flavour))

    async def set_job_fields(self, request: web.Request) -> web.Response:
        """Send raw `fields` over the job's own and leave out `drop`, in every answer about the job."""
        body = await _body(request)
        fields, drop = body.get("fields") or {}, body.get("drop") or []
        if not isinstance(fields, dict) or not isinstance(drop, list):
            return _refuse("'fields' must be an object and 'drop' a list of names")
        try:
            record = self.state.job(request.match_info["job_id"])
        except ApiError as exc:
            return web.json_response(exc.body(), status=exc.status)
        record.odd_fields = dict(fields)
        record.dropped_fields = {str(name) for name in drop}
        seen = self.state.view(record, with_events=False)
        return web.json_response(render_job(record, seen, self.state.clock, record.flavour))

    async def get_stats(self, request: web.Request) -> web.Response:
        return web.json_response(self.stats.as_json())

    async def reset_stats(self, request: web.Request) -> web.Response:
        self.stats.reset()
        return web.json_response(self.stats.as_json())

    async def reset(self, request: web.Request) -> web.Response:
        self.state.reset()
        self.faults.clear()
        self.stats.reset()
        self.api.results_encoding = "openai"
        self.state.file_processing_s = 0.0
        self.webhooks.deliveries.clear()
        return web.json_response({"ok": True, **self._clock_json()})

    async def settings(self, request: web.Request) -> web.Response:
        body = await _body(request)
        encoding = body.get("results_base64", self.api.results_encoding)
        if encoding not in ("openai", "always", "never"):
            return _refuse("'results_base64' must be openai, always or never")
        processing = body.get("file_processing_seconds", self.state.file_processing_s)
        if not isinstance(processing, int | float) or processing < 0:
            return _refuse("'file_processing_seconds' must be a number of at least 0")
        self.api.results_encoding = encoding
        self.state.file_processing_s = float(processing)
        return web.json_response(self._settings_json())

    def _settings_json(self) -> dict[str, Any]:
        return {
            "results_base64": self.api.results_encoding,
            "file_processing_seconds": self.state.file_processing_s,
        }

    async def get_webhooks(self, request: web.Request) -> web.Response:
        return web.json_response(self.webhooks.as_json())

    async def set_webhooks(self, request: web.Request) -> web.Response:
        """`{"url", "secret", "retry_delays"?}`: send signed job-end events to `url` from now on."""
        body = await _body(request)
        url, secret, delays = body.get("url"), body.get("secret"), body.get("retry_delays")
        if not isinstance(url, str) or not isinstance(secret, str):
            return _refuse("'url' and 'secret' are required strings")
        if delays is not None and (
            not isinstance(delays, list) or not all(isinstance(d, int | float) for d in delays)
        ):
            return _refuse("'retry_delays' must be a list of seconds")
        try:
            self.webhooks.configure(
                url, secret, retry_delays=None if delays is None else tuple(float(d) for d in delays)
            )
        except WebhookConfigError as exc:
            return _refuse(str(exc))
        return web.json_response(self.webhooks.as_json())

    async def clear_webhooks(self, request: web.Request) -> web.Response:
        self.webhooks.clear()
        return web.json_response(self.webhooks.as_json())
