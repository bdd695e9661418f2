"""The loss curve in a job's thread: read the job's figures, draw the PNG, upload it with the advice.

Used for the outbox's `chart` row (queued with a job's end, delivered after its end note) and for
`/finetune chart`. The upload is slack_sdk's `files_upload_v2`: files.getUploadURLExternal, the bytes to
the URL it gives, files.completeUploadExternal into the channel and thread. The comment that goes with it
(`initial_comment`) is made by `fit`, like every text sent to Slack.

An upload carries no message metadata, so the finish chart is found again by its file name, unique per job
and transition: before an upload whose earlier attempt may have reached Slack, the thread is searched for
it (`find_chart`). Slack may show a completed file's share a moment late; the notifier's retry waits a
request timeout before that look.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.charts.advice import advise
from bot.charts.curves import TrainingCurves, curves_from
from bot.charts.render import render_png
from bot.finetune.client import FineTuneClient
from bot.finetune.errors import FineTuneError
from bot.finetune.models import Checkpoint, JobEvent
from bot.finetune.results import ResultsTable
from bot.views.chart import chart_alt_text, chart_comment, chart_title
from bot.views.message import SlackMessage

log = logging.getLogger(__name__)

CHART_KIND = "chart"
EVENT_PAGE_SIZE = 100
MAX_EVENT_PAGES = 50  # 5,000 events: every metrics event of a long job
MAX_CHECKPOINTS = 100


@dataclass(frozen=True)
class Chart:
    filename: str
    title: str
    alt_text: str
    png: bytes
    comment: SlackMessage


def chart_transition(seq: int) -> str:
    """The outbox transition of the chart told with the job's end (status change number `seq`)."""
    return f"{CHART_KIND}:{seq}"


def chart_filename(job_id: str, label: str) -> str:
    """`ftjob-abc-loss-chart-3.png`: what the thread is searched for (`label` is unique per chart)."""
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in label)
    return f"{job_id}-loss-{safe}.png"


async def draw_chart(api: FineTuneClient, job_id: str, *, filename: str) -> Chart | None:
    """The job's chart, or None when it has no losses to draw. API errors propagate (`FineTuneError`)."""
    job = await api.retrieve_job(job_id)
    results = await _results(api, job.result_files[0]) if job.result_files else None
    events = await _all_events(api, job_id)
    checkpoints = await _checkpoints(api, job_id)
    curves = curves_from(results, events, checkpoints)
    if not curves.has_losses:
        return None
    advice = advise(curves)
    title = chart_title(job_id, job.model)
    best = advice.best.step if advice.best is not None else None
    # Drawing takes tens of milliseconds of CPU: off the event loop.
    png = await asyncio.to_thread(render_png, curves, title=title, best_step=best)
    return Chart(
        filename=filename,
        title=title,
        alt_text=chart_alt_text(job_id),
        png=png,
        comment=chart_comment(job_id, advice, has_validation=_has_validation(curves)),
    )


async def upload_chart(client: AsyncWebClient, chart: Chart, *, channel: str, thread_ts: str | None) -> str:
    """Upload and share the chart; the file's id. Slack errors propagate (`SlackApiError`, …)."""
    response = await client.files_upload_v2(
        filename=chart.filename,
        content=chart.png,
        title=chart.title,
        alt_txt=chart.alt_text,
        channel=channel,
        thread_ts=thread_ts,
        initial_comment=chart.comment.text,
    )
    files = response.get("files") or []
    first: Any = files[0] if files else {}
    return str(first.get("id") or "") if isinstance(first, dict) else ""


async def find_chart(
    client: AsyncWebClient, channel: str, thread_ts: str, filename: str, *, max_pages: int = 20
) -> str | None:
    """The id of a file named `filename` shared in the thread, or None. Slack errors propagate."""
    cursor: str | None = None
    for _ in range(max_pages):
        response = await client.conversations_replies(channel=channel, ts=thread_ts, limit=200, cursor=cursor)
        for message in response.get("messages") or []:
            for file in (message.get("files") or []) if isinstance(message, dict) else []:
                if isinstance(file, dict) and file.get("name") == filename:
                    return str(file.get("id") or "")
        cursor = ((response.get("response_metadata") or {}).get("next_cursor")) or None
        if not cursor:
            return None
    return None


def _has_validation(curves: TrainingCurves) -> bool:
    return bool(curves.validation)


async def _results(api: FineTuneClient, file_id: str) -> ResultsTable | None:
    try:
        return await api.read_results(file_id)
    except FineTuneError as exc:  # the events still draw the curve, every few steps
        log.info("could not read the results file %s: %s", file_id, exc)
        return None


async def _all_events(api: FineTuneClient, job_id: str) -> list[JobEvent]:
    """Every event of the job (within `MAX_EVENT_PAGES`), oldest first."""
    newest_first: list[JobEvent] = []
    after: str | None = None
    for _ in range(MAX_EVENT_PAGES):
        page = await api.list_events(job_id, after=after, limit=EVENT_PAGE_SIZE)
        newest_first.extend(page.data)
        last = page.last_id or (page.data[-1].id if page.data else None)
        if not page.has_more or not last or last == after:
            break
        after = last
    return list(reversed(newest_first))


async def _checkpoints(api: FineTuneClient, job_id: str) -> list[Checkpoint]:
    try:
        return list((await api.list_checkpoints(job_id, limit=MAX_CHECKPOINTS)).data)
    except FineTuneError as exc:  # a chart without its marks beats none
        log.info("could not list the checkpoints of %s: %s", job_id, exc)
        return []
