"""SIGTERM while a `/finetune create` waits for the fine-tuning API: the job the API may have started is
never lost silently. Afterwards the database holds either the tracked job with its audit row, or an audit
row saying the create was interrupted; the person got an answer; the service exited 0."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from bot.sandbox.emulator.control import EmulatorControl
from bot.sandbox.emulator.server import EmulatorServer
from bot.sandbox.emulator.state import DEMO_TRAINING_FILE
from bot.sandbox.standin.server import SlackStandIn
from storage.sqlite import open_store
from tests.support.audit import AuditRow, audit_rows
from tests.support.ops import free_port, service_env, sigterm, start_service, wait_healthy
from tests.support.runtime import texts_of

CREATE = f"create model=gpt-4o-mini-2024-07-18 training_file={DEMO_TRAINING_FILE} suffix=cutshort"


@dataclass
class Stopped:
    code: int
    output: str
    answer: str  # what the person was told (empty: nothing)
    creates: list[AuditRow]
    tracked: list[str]  # the jobs C_OPS follows


async def create_then_sigterm(
    slack: SlackStandIn, emulator: EmulatorServer, tmp_path: Path, *, api_latency_ms: float
) -> Stopped:
    """`/finetune create` while the API takes `api_latency_ms` to answer; SIGTERM half a second later."""
    port = free_port()
    db_path = tmp_path / "tuneops.db"
    env = {**service_env(slack, emulator, db_path), "PORT": str(port)}
    async with EmulatorControl(emulator.url) as control:
        await control.set_faults(latency_ms=api_latency_ms, path_contains="/fine_tuning/jobs", method="POST")
        process = await start_service(env, tmp_path)
        try:
            await wait_healthy(f"http://127.0.0.1:{port}", process)
            slack.set_bot_url(f"http://127.0.0.1:{port}/slack/events")
            sent = await slack.sender.slash(CREATE, user="U_ALICE", channel="C_OPS")
            assert sent.status == 200
            await asyncio.sleep(0.5)
        finally:
            code, output = await sigterm(process)
            await control.clear_faults()
    answers = [r.body for r in slack.responses if r.response_url_id == sent.response_url_id]
    store = await open_store(db_path)
    try:
        tracked = [job.job_id for job in await store.channel_jobs("C_OPS")]
    finally:
        await store.close()
    creates = [row for row in audit_rows(db_path, channel="C_OPS") if row.action == "create"]
    return Stopped(code, output, texts_of(answers), creates, tracked)


async def test_sigterm_during_a_slow_create_still_tracks_audits_and_answers(
    ops_slack: SlackStandIn, ops_emulator: EmulatorServer, tmp_path: Path
) -> None:
    stopped = await create_then_sigterm(ops_slack, ops_emulator, tmp_path, api_latency_ms=3000)

    assert stopped.code == 0, stopped.output
    assert len(stopped.creates) == 1, stopped.output
    (entry,) = stopped.creates
    assert entry.user == "U_ALICE" and entry.allowed
    if stopped.tracked:
        (job_id,) = stopped.tracked
        assert entry.job_id == job_id
        assert entry.result is not None and entry.result.startswith("created")
        assert job_id in stopped.answer
    else:
        assert entry.result is not None and "interrupted" in entry.result
        assert "may have started" in stopped.answer
    assert stopped.answer, "the person was told nothing"


async def test_a_create_the_api_has_not_answered_by_the_deadline_is_audited_as_interrupted(
    ops_slack: SlackStandIn, ops_emulator: EmulatorServer, tmp_path: Path
) -> None:
    stopped = await create_then_sigterm(ops_slack, ops_emulator, tmp_path, api_latency_ms=8000)

    assert stopped.code == 0, stopped.output
    assert stopped.tracked == []
    (entry,) = stopped.creates
    assert entry.user == "U_ALICE" and entry.job_id is None
    assert entry.result is not None
    assert "interrupted" in entry.result and "/finetune list all mine" in entry.result
    assert "may have started" in stopped.answer and "list all mine" in stopped.answer
    warning = next(line for line in stopped.output.splitlines() if "interrupted by shutdown" in line)
    assert "U_ALICE" in warning and "C_OPS" in warning
