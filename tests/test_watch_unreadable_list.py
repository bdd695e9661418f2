"""One job the client cannot read spoils a whole list page; it must not stop the polling of every other job.

A small fake fine-tuning API (a real aiohttp server) answers the list with a page holding one job with
no `status` or `"status": ["running"]` (odd values of other fields are read, see tests/test_client_odd_jobs.py) — or refuses the list call outright — and answers single reads of
each job. The watcher falls back to single reads: the other due jobs are recorded, the cycle ends normally
(no outage backoff), and only the unreadable job is put off.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.finetune.client import FineTuneClient
from bot.finetune.providers import ProviderConfig
from bot.finetune.retry import RetryPolicy
from bot.services import Services
from bot.watch.watcher import Watcher
from storage.sqlite import SqliteStore
from tests.support.storage import new_job

GOOD = ["ftjob-good1", "ftjob-good2", "ftjob-good3"]
ODD = "ftjob-odd"


def _job(job_id: str, created: int, odd: dict[str, Any] | None = None) -> dict[str, Any]:
    job: dict[str, Any] = {
        "id": job_id,
        "object": "fine_tuning.job",
        "created_at": created,
        "status": "queued",
        "model": "gpt-4o-mini-2024-07-18",
        "training_file": "file-train",
    }
    job.update(odd or {})
    return job


@dataclass
class FakeApi:
    """The jobs it serves, keyed by id; `list_status` other than 200 refuses the list call."""

    jobs: dict[str, dict[str, Any]]
    list_status: int = 200
    requests: list[str] = field(default_factory=list)

    async def list_jobs(self, request: web.Request) -> web.Response:
        self.requests.append("list")
        if self.list_status != 200:
            error = {"message": "Invalid value for 'after'.", "type": "invalid_request_error", "code": None}
            return web.json_response({"error": error}, status=self.list_status)
        data = sorted(self.jobs.values(), key=lambda job: str(job["id"]), reverse=True)
        return web.json_response({"object": "list", "data": data, "has_more": False})

    async def retrieve_job(self, request: web.Request) -> web.Response:
        job_id = request.match_info["job_id"]
        self.requests.append(f"retrieve {job_id}")
        return web.json_response(self.jobs[job_id])


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[FakeApi], Any]]:
    runners: list[web.AppRunner] = []

    async def start(api: FakeApi) -> str:
        app = web.Application()
        app.router.add_get("/v1/fine_tuning/jobs", api.list_jobs)
        app.router.add_get("/v1/fine_tuning/jobs/{job_id}", api.retrieve_job)
        runner = web.AppRunner(app)
        await runner.setup()
        runners.append(runner)
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        return f"http://127.0.0.1:{port}/v1"

    yield start
    for runner in runners:
        await runner.cleanup()


async def _watcher_against(base_url: str, store: SqliteStore, db: Path) -> tuple[Watcher, FineTuneClient]:
    settings = Settings(
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_SIGNING_SECRET="secret",
        OPENAI_API_KEY="sk-test",
        OPENAI_BASE_URL=base_url,
        TUNEOPS_DB=str(db),
        TUNEOPS_POLL_INTERVAL=0.1,
    )
    api = FineTuneClient(
        ProviderConfig.openai("sk-test", base_url=base_url),
        retry=RetryPolicy(max_retries=0, base=0.01, cap=0.05),
    )
    services = Services(settings=settings, store=store, api=api, slack=AsyncWebClient(token="xoxb-test"))
    for job_id in [*GOOD, ODD]:
        await store.track_job(new_job(job_id, status="validating_files"), now=services.clock())
    return Watcher(services, list_threshold=3), api


@pytest.mark.parametrize(
    ("odd_field", "list_status"),
    [({"status": None}, 200), ({"status": ["running"]}, 200), ({}, 400), ({}, 404)],
    ids=["status-null", "status-list", "list-400", "list-404"],
)
async def test_an_unreadable_list_page_falls_back_to_single_reads(
    serve: Callable[[FakeApi], Any],
    store: SqliteStore,
    store_path: Path,
    odd_field: dict[str, Any],
    list_status: int,
) -> None:
    jobs = {job_id: _job(job_id, 1_700_000_000 + n) for n, job_id in enumerate(GOOD)}
    jobs[ODD] = _job(ODD, 1_700_000_100, odd_field)
    fake = FakeApi(jobs, list_status=list_status)
    watcher, api = await _watcher_against(await serve(fake), store, store_path)
    try:
        result = await watcher.run_cycle()
        second = await watcher.run_cycle()  # the next cycle is not blocked by an outage backoff either
    finally:
        await api.aclose()

    assert result.due == 4 and result.list_pages == 1 and not result.skipped_for_backoff
    for job_id in GOOD:
        tracked = await store.get_job(job_id)
        assert tracked is not None and tracked.status == "queued", job_id  # the change was recorded
    odd = await store.get_job(ODD)
    assert odd is not None
    if odd_field:  # the odd job alone is put off: its single read failed too
        assert odd.status == "validating_files"
        assert f"retrieve {ODD}" in fake.requests
        assert result.recorded == 3
    else:  # only the list was refused: every job reads fine on its own
        assert odd.status == "queued"
        assert result.recorded == 4
    assert not second.skipped_for_backoff
