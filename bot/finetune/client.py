"""The asynchronous fine-tuning API client, the same for OpenAI and Azure AI Foundry v1.

One `httpx.AsyncClient` carries every request. Each operation names how it may be repeated (`Replay`),
and `_send` applies the retry policy, counts requests in `API_REQUESTS`, logs one line per retry and turns
failures into the exceptions of `errors.py`. Auth headers are added per request and never logged.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

import httpx
from pydantic import BaseModel, ValidationError

from bot.config import Settings
from bot.finetune.errors import InvalidJobSpecError, UnexpectedResponseError
from bot.finetune.http_errors import connection_error, request_id, status_error
from bot.finetune.models import Checkpoint, FileObject, FineTuningJob, JobEvent, ModelObject, Page
from bot.finetune.providers import ProviderConfig, provider_from_settings
from bot.finetune.results import ResultsTable, parse_results
from bot.finetune.retry import Replay, RetryPolicy, retryable_exception, retryable_status
from bot.finetune.spec import JobSpec
from bot.ops.metrics import API_REQUESTS

log = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)

USER_AGENT = "tuneops/0.1"


def _segment(value: str) -> str:
    """An id as one path segment: a stray `/` or `?` in user input cannot reach another endpoint."""
    return quote(value, safe="")


class FineTuneClient:
    def __init__(
        self,
        provider: ProviderConfig,
        *,
        http: httpx.AsyncClient | None = None,
        retry: RetryPolicy | None = None,
        timeout: float = 30.0,
    ) -> None:
        self._provider = provider
        self._owns_http = http is None
        self._http = http if http is not None else httpx.AsyncClient()
        self._retry = retry if retry is not None else RetryPolicy()
        self._timeout = httpx.Timeout(timeout, connect=min(timeout, 10.0))
        self._host = urlsplit(provider.base_url).netloc or provider.base_url

    @classmethod
    def from_settings(cls, settings: Settings) -> FineTuneClient:
        return cls(provider_from_settings(settings))

    @property
    def provider_name(self) -> str:
        return self._provider.name

    @property
    def provider(self) -> ProviderConfig:
        return self._provider

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()
        if self._provider.tokens is not None:
            await self._provider.tokens.aclose()

    async def __aenter__(self) -> FineTuneClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # ---- jobs -------------------------------------------------------------------------------------------

    async def create_job(self, spec: JobSpec) -> FineTuningJob:
        """Validate locally (every problem at once, nothing sent), then create the job exactly once."""
        problems = spec.problems(self._provider.name)
        if problems:
            raise InvalidJobSpecError(problems)
        body = {**spec.to_body(), **self._provider.extra_create_fields}
        response = await self._send("create_job", "POST", "fine_tuning/jobs", Replay.UNSENT_ONLY, json=body)
        return self._parse(FineTuningJob, response)

    async def list_jobs(
        self, *, after: str | None = None, limit: int = 20, metadata: Mapping[str, str] | None = None
    ) -> Page[FineTuningJob]:
        """One page of jobs, newest first. Continue with `after=page.last_id` while `page.has_more`.

        Where the provider cannot filter by metadata, the page is filtered here; it may then hold fewer
        than `limit` jobs (even none) while `has_more` is still true.
        """
        params: dict[str, str | int] = {"limit": limit}
        if after:
            params["after"] = after
        server_filters = bool(metadata) and self._provider.supports_metadata_filter
        if metadata and server_filters:
            params.update({f"metadata[{key}]": value for key, value in metadata.items()})
        response = await self._send("list_jobs", "GET", "fine_tuning/jobs", Replay.SAFE, params=params)
        page = self._page(FineTuningJob, response)
        if metadata and not server_filters:
            wanted = dict(metadata)
            page.data = [job for job in page.data if _has_metadata(job, wanted)]
        return page

    async def iter_jobs(
        self,
        *,
        page_size: int = 100,
        metadata: Mapping[str, str] | None = None,
        max_pages: int | None = None,
    ) -> AsyncIterator[FineTuningJob]:
        after: str | None = None
        pages = 0
        while max_pages is None or pages < max_pages:
            page = await self.list_jobs(after=after, limit=page_size, metadata=metadata)
            pages += 1
            for job in page.data:
                yield job
            if not page.has_more or not page.last_id or page.last_id == after:
                return
            after = page.last_id

    async def retrieve_job(self, job_id: str) -> FineTuningJob:
        response = await self._send(
            "retrieve_job", "GET", f"fine_tuning/jobs/{_segment(job_id)}", Replay.SAFE
        )
        return _the_job_asked(job_id, self._parse(FineTuningJob, response), action=None)

    async def cancel_job(self, job_id: str) -> FineTuningJob:
        return await self._job_action("cancel", job_id)

    async def pause_job(self, job_id: str) -> FineTuningJob:
        return await self._job_action("pause", job_id)

    async def resume_job(self, job_id: str) -> FineTuningJob:
        return await self._job_action("resume", job_id)

    async def _job_action(self, action: str, job_id: str) -> FineTuningJob:
        path = f"fine_tuning/jobs/{_segment(job_id)}/{action}"
        response = await self._send(f"{action}_job", "POST", path, Replay.STATE_CHANGE)
        try:
            job = self._parse(FineTuningJob, response)
        except UnexpectedResponseError as exc:
            raise UnexpectedResponseError(f"{exc}; the {action} may have been done all the same") from exc
        return _the_job_asked(job_id, job, action=action)

    # ---- events and checkpoints ---------------------------------------------------------------------------

    async def list_events(self, job_id: str, *, after: str | None = None, limit: int = 20) -> Page[JobEvent]:
        """One page of events, newest first as the server sends them; `after` walks back in time."""
        return await self._job_page(JobEvent, "events", job_id, after=after, limit=limit)

    async def events_since(
        self, job_id: str, last_seen_id: str | None, *, page_size: int = 100, max_pages: int = 10
    ) -> list[JobEvent]:
        """Events newer than `last_seen_id`, oldest first, without duplicates.

        Pages are read newest first until `last_seen_id` shows up (or `max_pages` were read, when that id
        is too far back or gone). With no `last_seen_id`, only the latest page is returned.
        """
        newest_first: list[JobEvent] = []
        seen: set[str] = set()
        after: str | None = None
        for _ in range(max_pages if last_seen_id is not None else 1):
            page = await self.list_events(job_id, after=after, limit=page_size)
            for event in page.data:
                if event.id == last_seen_id:
                    return _oldest_first(newest_first)
                if event.id not in seen:
                    seen.add(event.id)
                    newest_first.append(event)
            if not page.has_more or not page.last_id or page.last_id == after:
                break
            after = page.last_id
        return _oldest_first(newest_first)

    async def list_checkpoints(
        self, job_id: str, *, after: str | None = None, limit: int = 10
    ) -> Page[Checkpoint]:
        return await self._job_page(Checkpoint, "checkpoints", job_id, after=after, limit=limit)

    async def _job_page(
        self, model: type[M], what: str, job_id: str, *, after: str | None, limit: int
    ) -> Page[M]:
        """One page of a job's `what` (events, checkpoints), cursor-paged like every list of the API."""
        params: dict[str, str | int] = {"limit": limit}
        if after:
            params["after"] = after
        path = f"fine_tuning/jobs/{_segment(job_id)}/{what}"
        response = await self._send(f"list_{what}", "GET", path, Replay.SAFE, params=params)
        return self._page(model, response)

    # ---- files ------------------------------------------------------------------------------------------

    async def upload_file(self, filename: str, content: bytes, *, purpose: str = "fine-tune") -> FileObject:
        files = {"file": (filename, content, "application/octet-stream")}
        response = await self._send(
            "upload_file", "POST", "files", Replay.REFUSED_ONLY, files=files, data={"purpose": purpose}
        )
        return self._parse(FileObject, response)

    async def retrieve_file(self, file_id: str) -> FileObject:
        response = await self._send("retrieve_file", "GET", f"files/{_segment(file_id)}", Replay.SAFE)
        return self._parse(FileObject, response)

    async def retrieve_model(self, model: str) -> ModelObject:
        response = await self._send("retrieve_model", "GET", f"models/{_segment(model)}", Replay.SAFE)
        return self._parse(ModelObject, response)

    async def list_models(self) -> list[ModelObject]:
        """Every model the key can use (`GET /models`), with their shutdown dates where set."""
        response = await self._send("list_models", "GET", "models", Replay.SAFE)
        return self._parse(Page[ModelObject], response).data

    async def download_file(self, file_id: str) -> bytes:
        path = f"files/{_segment(file_id)}/content"
        response = await self._send("download_file", "GET", path, Replay.SAFE)
        return response.content

    async def read_results(self, file_id: str) -> ResultsTable:
        """Download a results file and parse it (plain or base64 CSV, columns from its header)."""
        return parse_results(await self.download_file(file_id))

    # ---- chat (trying a fine-tuned model) ---------------------------------------------------------------

    async def chat(self, model: str, prompt: str, *, max_tokens: int = 300) -> str:
        """One user message to `model` (on Azure: a deployment's name); the answer's text."""
        body = {"model": model, "messages": [{"role": "user", "content": prompt}], "max_tokens": max_tokens}
        response = await self._send("chat", "POST", "chat/completions", Replay.REFUSED_ONLY, json=body)
        try:
            choices = response.json()["choices"]
            return str(choices[0]["message"]["content"] or "")
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise UnexpectedResponseError(
                f"the API sent an unreadable chat completion (request id {request_id(response.headers) or 'none'})"
            ) from exc

    # ---- plumbing ---------------------------------------------------------------------------------------

    async def _send(
        self,
        operation: str,
        method: str,
        path: str,
        replay: Replay,
        *,
        params: Mapping[str, str | int] | None = None,
        json: Mapping[str, Any] | None = None,
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
        data: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        url = self._provider.url(path)
        query = {**self._provider.params, **(params or {})}
        headers = {"User-Agent": USER_AGENT, **self._provider.headers}
        tokens = self._provider.tokens
        attempt = 0
        token_retried = False
        while True:
            if tokens is not None:
                headers["Authorization"] = f"Bearer {await tokens.token()}"
            try:
                response = await self._http.request(
                    method,
                    url,
                    params=query,
                    json=json,
                    files=files,
                    data=data,
                    headers=headers,
                    timeout=self._timeout,
                )
            except httpx.TransportError as exc:
                API_REQUESTS.labels(operation, "error").inc()
                delay = self._retry.delay(attempt) if retryable_exception(exc, replay) else None
                if delay is None:
                    raise connection_error(exc, self._host) from exc
                self._log_retry(operation, type(exc).__name__, attempt, delay, None)
            else:
                API_REQUESTS.labels(operation, str(response.status_code)).inc()
                if response.is_success:
                    return response
                error = status_error(response)
                if response.status_code == 401 and tokens is not None and not token_retried:
                    # A token revoked or rotated before its expiry: ask the credential again, once.
                    tokens.forget()
                    token_retried = True
                    continue
                retryable = retryable_status(response.status_code, error.code, replay)
                delay = self._retry.delay(attempt, response.headers) if retryable else None
                if delay is None:
                    raise error
                self._log_retry(operation, str(response.status_code), attempt, delay, error.request_id)
            await self._retry.sleep(delay)
            attempt += 1

    def _log_retry(self, operation: str, status: str, attempt: int, delay: float, req_id: str | None) -> None:
        log.warning(
            "retrying %s after %s (attempt %d of %d) in %.2fs; request id %s",
            operation,
            status,
            attempt + 1,
            self._retry.max_retries,
            delay,
            req_id or "none",
        )

    def _parse(self, model: type[M], response: httpx.Response) -> M:
        try:
            return model.model_validate(response.json())
        except (ValueError, ValidationError) as exc:
            raise UnexpectedResponseError(
                f"the fine-tuning API sent an unreadable {model.__name__} "
                f"(HTTP {response.status_code}, request id {request_id(response.headers) or 'none'})"
            ) from exc

    def _page(self, model: type[M], response: httpx.Response) -> Page[M]:
        page = self._parse(Page[model], response)  # type: ignore[valid-type]
        # A uniform cursor: the id of the last item, whether or not the server sent `last_id`.
        if page.data:
            page.last_id = str(getattr(page.data[-1], "id", "")) or page.last_id
        return page


def _the_job_asked(job_id: str, job: FineTuningJob, *, action: str | None) -> FineTuningJob:
    """The answer, when it is about the job asked for; another job's id is an error, never shown or kept
    (a card's buttons must only ever name their own job)."""
    if job.id == job_id:
        return job
    done = f"; the {action} may have been done all the same" if action else ""
    raise UnexpectedResponseError(f"the fine-tuning API answered about another job than {job_id}{done}")


def _has_metadata(job: FineTuningJob, wanted: dict[str, str]) -> bool:
    actual = job.metadata or {}
    return all(actual.get(key) == value for key, value in wanted.items())


def _oldest_first(newest_first: list[JobEvent]) -> list[JobEvent]:
    return list(reversed(newest_first))
