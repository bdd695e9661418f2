"""Handlers of the emulated fine-tuning and files endpoints (mounted under `/v1` and `/openai/v1`)."""

from __future__ import annotations

import base64
import json
from typing import Any, Literal

from aiohttp import web

from bot.sandbox.emulator.base_models import check_model_and_suffix
from bot.sandbox.emulator.errors import bad_request, missing_parameter
from bot.sandbox.emulator.flavour import FLAVOUR_KEY, Flavour
from bot.sandbox.emulator.lifecycle import TERMINAL
from bot.sandbox.emulator.state import UPLOAD_PURPOSES, EmulatorState, JobRecord
from bot.sandbox.emulator.validation import check_create_body
from bot.sandbox.emulator.views import (
    page_after,
    parse_limit,
    render_checkpoint,
    render_event,
    render_file,
    render_job,
)

# When the results CSV is served base64-encoded: on the OpenAI path only (the real-world quirk), always, never.
ResultsEncoding = Literal["openai", "always", "never"]

# (method, path under the prefix, operationId, handler attribute)
ROUTES: tuple[tuple[str, str, str, str], ...] = (
    ("POST", "/fine_tuning/jobs", "createFineTuningJob", "create_job"),
    ("GET", "/fine_tuning/jobs", "listPaginatedFineTuningJobs", "list_jobs"),
    ("GET", "/fine_tuning/jobs/{job_id}", "retrieveFineTuningJob", "retrieve_job"),
    ("POST", "/fine_tuning/jobs/{job_id}/cancel", "cancelFineTuningJob", "cancel_job"),
    ("POST", "/fine_tuning/jobs/{job_id}/pause", "pauseFineTuningJob", "pause_job"),
    ("POST", "/fine_tuning/jobs/{job_id}/resume", "resumeFineTuningJob", "resume_job"),
    ("GET", "/fine_tuning/jobs/{job_id}/events", "listFineTuningEvents", "list_events"),
    ("GET", "/fine_tuning/jobs/{job_id}/checkpoints", "listFineTuningJobCheckpoints", "list_checkpoints"),
    ("POST", "/files", "createFile", "create_file"),
    ("GET", "/files", "listFiles", "list_files"),
    ("GET", "/files/{file_id}", "retrieveFile", "retrieve_file"),
    ("GET", "/files/{file_id}/content", "downloadFile", "download_file"),
    ("DELETE", "/files/{file_id}", "deleteFile", "delete_file"),
)


def flavour_of(request: web.Request) -> Flavour:
    return request[FLAVOUR_KEY]


class ApiHandlers:
    def __init__(self, state: EmulatorState) -> None:
        self.state = state
        self.results_encoding: ResultsEncoding = "openai"

    def _job_json(self, record: JobRecord, request: web.Request) -> dict[str, Any]:
        seen = self.state.view(record, with_events=False)
        return render_job(record, seen, self.state.clock, flavour_of(request))

    # ---- jobs ----------------------------------------------------------------------------------------

    async def create_job(self, request: web.Request) -> web.Response:
        try:
            body = await request.json(loads=json.loads)
        except (json.JSONDecodeError, UnicodeDecodeError):
            body = None
        job_request = check_create_body(body, flavour_of(request))
        check_model_and_suffix(job_request, flavour_of(request), self.state)
        record = self.state.create_job(job_request, flavour_of(request))
        return web.json_response(self._job_json(record, request))

    async def list_jobs(self, request: web.Request) -> web.Response:
        limit = parse_limit(request.query.get("limit"), default=20, maximum=100)
        jobs = self.state.newest_first()
        if flavour_of(request) == "openai":
            jobs = self._filter_metadata(jobs, request)
        page, has_more = page_after(jobs, lambda job: job.id, request.query.get("after"), limit)
        data = [self._job_json(job, request) for job in page]
        return web.json_response({"object": "list", "data": data, "has_more": has_more})

    @staticmethod
    def _filter_metadata(jobs: list[JobRecord], request: web.Request) -> list[JobRecord]:
        if request.query.get("metadata") == "null":
            return [job for job in jobs if not job.request.metadata]
        wanted = {
            key[len("metadata[") : -1]: value
            for key, value in request.query.items()
            if key.startswith("metadata[") and key.endswith("]")
        }
        if not wanted:
            return jobs
        return [
            job
            for job in jobs
            if all((job.request.metadata or {}).get(key) == value for key, value in wanted.items())
        ]

    async def retrieve_job(self, request: web.Request) -> web.Response:
        record = self.state.job(request.match_info["job_id"])
        return web.json_response(self._job_json(record, request))

    async def cancel_job(self, request: web.Request) -> web.Response:
        record = self.state.cancel(request.match_info["job_id"])
        return web.json_response(self._job_json(record, request))

    async def pause_job(self, request: web.Request) -> web.Response:
        record = self.state.pause(request.match_info["job_id"])
        return web.json_response(self._job_json(record, request))

    async def resume_job(self, request: web.Request) -> web.Response:
        record = self.state.resume(request.match_info["job_id"])
        return web.json_response(self._job_json(record, request))

    async def list_events(self, request: web.Request) -> web.Response:
        record = self.state.job(request.match_info["job_id"])
        limit = parse_limit(request.query.get("limit"), default=20, maximum=100)
        clock, flavour = self.state.clock, flavour_of(request)
        events = [
            render_event(record, seq, happening, clock, flavour)
            for seq, happening in enumerate(self.state.happenings(record))
        ]
        events.reverse()  # newest first
        page, has_more = page_after(events, lambda event: str(event["id"]), request.query.get("after"), limit)
        return web.json_response({"object": "list", "data": page, "has_more": has_more})

    async def list_checkpoints(self, request: web.Request) -> web.Response:
        record = self.state.job(request.match_info["job_id"])
        limit = parse_limit(request.query.get("limit"), default=10, maximum=100)
        items = [render_checkpoint(record, h, self.state.clock) for h in self.state.checkpoints(record)]
        if (
            flavour_of(request) == "azure"
            and self.state.view(record, with_events=False).status not in TERMINAL
        ):
            # Microsoft's sample: checkpoints can be listed only once the job is terminal.
            items = []
        page, has_more = page_after(items, lambda item: str(item["id"]), request.query.get("after"), limit)
        return web.json_response(
            {
                "object": "list",
                "data": page,
                "first_id": page[0]["id"] if page else None,
                "last_id": page[-1]["id"] if page else None,
                "has_more": has_more,
            }
        )

    # ---- files ---------------------------------------------------------------------------------------

    async def create_file(self, request: web.Request) -> web.Response:
        if not request.content_type.startswith("multipart/"):
            raise bad_request("Expected a multipart/form-data body with the fields 'file' and 'purpose'.")
        form = await request.post()
        upload = form.get("file")
        if not isinstance(upload, web.FileField):
            raise missing_parameter("file")
        purpose = form.get("purpose")
        if not isinstance(purpose, str) or not purpose:
            raise missing_parameter("purpose")
        if purpose not in UPLOAD_PURPOSES:
            raise bad_request(
                f"Invalid value for 'purpose': '{purpose}'. Expected one of {', '.join(sorted(UPLOAD_PURPOSES))}.",
                param="purpose",
                code="invalid_value",
            )
        expires_after: int | None = None
        seconds = form.get("expires_after[seconds]")
        if isinstance(seconds, str) and seconds:
            if not seconds.isdigit() or not 3600 <= int(seconds) <= 2_592_000:
                raise bad_request(
                    "Invalid value for 'expires_after[seconds]': expected 3600 to 2592000.",
                    param="expires_after.seconds",
                    code="invalid_value",
                )
            expires_after = int(seconds)
        content = upload.file.read()
        record = self.state.add_file(
            flavour_of(request), upload.filename or "upload", purpose, content, expires_after
        )
        return web.json_response(render_file(record, self.state.clock, flavour_of(request)))

    async def list_files(self, request: web.Request) -> web.Response:
        limit = parse_limit(request.query.get("limit"), default=10_000, maximum=10_000)
        order = request.query.get("order", "desc")
        if order not in ("asc", "desc"):
            raise bad_request("Invalid value for 'order': expected 'asc' or 'desc'.", param="order")
        files = self.state.list_files()
        if order == "asc":
            files.reverse()
        purpose = request.query.get("purpose")
        if purpose:
            files = [f for f in files if f.purpose == purpose]
        page, has_more = page_after(files, lambda f: f.id, request.query.get("after"), limit)
        data = [render_file(f, self.state.clock, flavour_of(request)) for f in page]
        return web.json_response(
            {
                "object": "list",
                "data": data,
                "first_id": data[0]["id"] if data else None,
                "last_id": data[-1]["id"] if data else None,
                "has_more": has_more,
            }
        )

    async def retrieve_file(self, request: web.Request) -> web.Response:
        record = self.state.file(request.match_info["file_id"])
        return web.json_response(render_file(record, self.state.clock, flavour_of(request)))

    async def download_file(self, request: web.Request) -> web.Response:
        record = self.state.file(request.match_info["file_id"])
        content = record.content
        if record.purpose == "fine-tune-results" and (
            self.results_encoding == "always"
            or (self.results_encoding == "openai" and flavour_of(request) == "openai")
        ):
            content = base64.b64encode(content)
        return web.Response(body=content, content_type="application/octet-stream")

    async def delete_file(self, request: web.Request) -> web.Response:
        file_id = request.match_info["file_id"]
        self.state.delete_file(file_id)
        return web.json_response({"id": file_id, "object": "file", "deleted": True})
