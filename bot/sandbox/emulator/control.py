"""A small client for the emulator's `/_emulator/` endpoints, used by tests, the sandbox and benchmarks."""

from __future__ import annotations

from typing import Any

import httpx


class EmulatorControlError(Exception):
    """The emulator refused a control request."""


class EmulatorControl:
    def __init__(self, url: str, *, timeout: float = 10.0) -> None:
        """`url` is the emulator's root (`EmulatorServer.url`), not the API base URL."""
        self._http = httpx.AsyncClient(base_url=url.rstrip("/") + "/_emulator", timeout=timeout)

    async def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        response = await self._http.request(method, path, json=body)
        if response.status_code >= 400:
            raise EmulatorControlError(f"{method} /_emulator{path}: {response.status_code} {response.text}")
        result: dict[str, Any] = response.json()
        return result

    async def set_faults(
        self,
        *,
        status: int | None = None,
        count: int | None = None,
        rate: float = 1.0,
        retry_after: float | None = None,
        code: str | None = None,
        message: str | None = None,
        latency_ms: float = 0.0,
        path_contains: str | None = None,
        method: str | None = None,
        raw_body: str | None = None,
    ) -> dict[str, Any]:
        """Replace the fault rules with one: answer `status` (or only add latency) to matching requests.

        `count=N` affects the next N matching requests; `count=None` every one, a `rate` share of them.
        `raw_body` answers them 200 with that text instead, without doing them.
        """
        rule = {
            "status": status,
            "count": count,
            "rate": rate,
            "retry_after": retry_after,
            "code": code,
            "message": message,
            "latency_ms": latency_ms,
            "path_contains": path_contains,
            "method": method,
            "raw_body": raw_body,
        }
        return await self._call("POST", "/faults", rule)

    async def set_fault_rules(self, rules: list[dict[str, Any]]) -> dict[str, Any]:
        """Replace the fault rules with several (same keys as `set_faults`)."""
        return await self._call("POST", "/faults", {"rules": rules})

    async def clear_faults(self) -> None:
        await self._call("DELETE", "/faults")

    async def set_job(
        self,
        job_id: str,
        *,
        status: str,
        error: dict[str, Any] | None = None,
        step: int | None = None,
    ) -> dict[str, Any]:
        """Put a job straight into `status` (any string); returns the job object."""
        body: dict[str, Any] = {"status": status}
        if error is not None:
            body["error"] = error
        if step is not None:
            body["step"] = step
        return await self._call("POST", f"/jobs/{job_id}", body)

    async def set_job_fields(
        self, job_id: str, fields: dict[str, Any] | None = None, *, drop: list[str] | None = None
    ) -> dict[str, Any]:
        """From now on answer about the job with these raw `fields` (any JSON) and without `drop`."""
        return await self._call(
            "POST", f"/jobs/{job_id}/fields", {"fields": fields or {}, "drop": drop or []}
        )

    async def advance(self, seconds: float) -> float:
        """Move the emulated clock forward; returns the emulated time (seconds since start)."""
        result = await self._call("POST", "/clock", {"seconds": seconds})
        return float(result["now"])

    async def set_speed(self, speed: float) -> None:
        await self._call("POST", "/speed", {"speed": speed})

    async def set_results_base64(self, mode: str) -> None:
        """`openai` (base64 on the /v1 path only, the default), `always` or `never`."""
        await self._call("POST", "/settings", {"results_base64": mode})

    async def set_file_processing(self, seconds: float) -> None:
        """Uploads stay `pending` (Azure) / `uploaded` (OpenAI) for this many emulated seconds; default 0."""
        await self._call("POST", "/settings", {"file_processing_seconds": seconds})

    async def set_webhook(
        self, url: str, secret: str, *, retry_delays: list[float] | None = None
    ) -> dict[str, Any]:
        """Send signed job-end events to `url` (signed with the `whsec_…` `secret`), retrying a failed
        delivery after each of `retry_delays` seconds."""
        body: dict[str, Any] = {"url": url, "secret": secret}
        if retry_delays is not None:
            body["retry_delays"] = retry_delays
        return await self._call("POST", "/webhooks", body)

    async def clear_webhook(self) -> None:
        await self._call("DELETE", "/webhooks")

    async def webhook_deliveries(self) -> list[dict[str, Any]]:
        """Every delivery so far: `webhook_id`, `type`, `job_id`, `attempts` (`status` each), `delivered`,
        `given_up`, and the `headers` and `body` of its last attempt."""
        deliveries: list[dict[str, Any]] = (await self._call("GET", "/webhooks"))["deliveries"]
        return deliveries

    async def stats(self) -> dict[str, Any]:
        """`{"total", "by_operation": {operationId: {status: n}}, "by_status", "faults_injected"}`."""
        return await self._call("GET", "/stats")

    async def reset_stats(self) -> None:
        await self._call("DELETE", "/stats")

    async def reset(self) -> None:
        """Forget every job and upload, clear faults and stats (the demo files come back)."""
        await self._call("POST", "/reset")

    async def accept_entra_token(self, token: str, roles: list[str]) -> None:
        """Accept `token` as a Microsoft Entra ID token of an identity holding `roles` (Azure path)."""
        await self._call("POST", "/entra/tokens", {"token": token, "roles": roles})

    async def set_training_available(self, available: bool) -> None:
        """False: job creates on the OpenAI path answer 403 `training_not_available` (the wind-down)."""
        await self._call("POST", "/wind-down", {"training_available": available})

    async def set_management(self, **settings: Any) -> dict[str, Any]:
        """Azure deployments: `provisioning_seconds`, `fail_next` (a message), `refuse_next` ({status, code,
        message}) and `backdate` ({name: seconds})."""
        return await self._call("POST", "/management", settings)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> EmulatorControl:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
