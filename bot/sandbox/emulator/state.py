"""The emulator's in-memory files and jobs, and the state changes people can ask for.

Jobs are never advanced in the background: `view()` projects a job to the clock's now (see `lifecycle`).
A change (pause, resume, cancel, a test setting the state) first records the history up to now, then
anchors the job in its new state.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from bot.sandbox.emulator.clock import EmulatorClock
from bot.sandbox.emulator.errors import ApiError, bad_request, file_not_found, invalid_state, job_not_found
from bot.sandbox.emulator.flavour import ORGANIZATION_SLUG, Flavour
from bot.sandbox.emulator.ids import IdMaker, results_file_id
from bot.sandbox.emulator.lifecycle import (
    TERMINAL,
    Anchor,
    Happening,
    JobFailure,
    Plan,
    Projection,
    Timing,
    project,
    results_csv,
)
from bot.sandbox.emulator.validation import CURVE_KEY, OUTCOME_KEY, STEPS_KEY, JobRequest

DEMO_TRAINING_FILE = "file-train-demo"
DEMO_VALIDATION_FILE = "file-valid-demo"
DEFAULT_TOTAL_STEPS = 100
FINE_TUNE_PURPOSES = frozenset({"fine-tune"})
UPLOAD_PURPOSES = frozenset({"assistants", "batch", "fine-tune", "vision", "user_data", "evals"})
INVALID_FILE_FAILURE = JobFailure(
    code="invalid_training_file",
    message=(
        "The job failed due to an invalid training file. Expected file to have JSONL format, where every line "
        "is a valid JSON dictionary."
    ),
    param="training_file",
)


@dataclass
class FileRecord:
    id: str
    filename: str
    purpose: str
    created_at: float
    content: bytes
    expires_at: float | None = None
    # Uploads can take a while to be processed (Azure asks clients to wait for `processed`).
    ready_at: float = 0.0

    @property
    def bytes(self) -> int:
        return len(self.content)

    def is_ready(self, now: float) -> bool:
        return now >= self.ready_at


@dataclass
class JobRecord:
    id: str
    flavour: Flavour
    created_at: float
    request: JobRequest
    plan: Plan
    seed: int
    hyperparameters: dict[str, Any]
    results_file_id: str
    anchor: Anchor
    history: list[Happening] = field(default_factory=list)
    # Raw fields sent as they are over the job's own (odd shapes a real server was seen to send), and
    # fields left out; set with the control endpoint `POST /_emulator/jobs/<id>/fields`.
    odd_fields: dict[str, Any] = field(default_factory=dict)
    dropped_fields: set[str] = field(default_factory=set)

    @cached_property
    def results_content(self) -> bytes:
        return results_csv(self.plan, azure=self.flavour == "azure")


def _demo_lines(count: int, topic: str) -> bytes:
    lines = []
    for n in range(count):
        example = {
            "messages": [
                {"role": "system", "content": "You are TuneOps' demo assistant."},
                {"role": "user", "content": f"{topic} question {n + 1}?"},
                {"role": "assistant", "content": f"{topic} answer {n + 1}."},
            ]
        }
        lines.append(json.dumps(example))
    return ("\n".join(lines) + "\n").encode()


def _is_jsonl(content: bytes) -> bool:
    try:
        text = content.decode("utf-8-sig")
        rows = [json.loads(line) for line in text.splitlines() if line.strip()]
    except (UnicodeDecodeError, json.JSONDecodeError):
        return False
    return bool(rows) and all(isinstance(row, dict) for row in rows)


class EmulatorState:
    def __init__(self, clock: EmulatorClock, *, seed: int = 0, timing: Timing | None = None) -> None:
        self.clock = clock
        self.timing = timing or Timing()
        self._seed = seed
        # Emulated seconds an upload stays pending before it is processed (0: processed at once).
        self.file_processing_s = 0.0
        self.reset()

    def reset(self) -> None:
        self.ids = IdMaker(self._seed)
        self.files: dict[str, FileRecord] = {}
        self.jobs: dict[str, JobRecord] = {}
        self._results: dict[str, str] = {}  # results file id -> job id
        self.deleted_results: set[str] = set()
        now = self.clock.now()
        self.files[DEMO_TRAINING_FILE] = FileRecord(
            DEMO_TRAINING_FILE, "demo-train.jsonl", "fine-tune", now, _demo_lines(40, "Training")
        )
        self.files[DEMO_VALIDATION_FILE] = FileRecord(
            DEMO_VALIDATION_FILE, "demo-valid.jsonl", "fine-tune", now, _demo_lines(10, "Validation")
        )

    # ---- files ---------------------------------------------------------------------------------------

    def add_file(
        self, flavour: Flavour, filename: str, purpose: str, content: bytes, expires_after: int | None = None
    ) -> FileRecord:
        now = self.clock.now()
        record = FileRecord(
            self.ids.file(flavour),
            filename,
            purpose,
            now,
            content,
            None if expires_after is None else now + expires_after,
            ready_at=now + self.file_processing_s,
        )
        self.files[record.id] = record
        return record

    def file(self, file_id: str) -> FileRecord:
        record = self.files.get(file_id)
        if record is not None:
            return record
        job_id = self._results.get(file_id)
        if job_id is not None and file_id not in self.deleted_results:
            job = self.jobs[job_id]
            seen = self.view(job, with_events=False)
            if seen.status == "succeeded" and seen.finished_at is not None:
                return FileRecord(
                    file_id, "step_metrics.csv", "fine-tune-results", seen.finished_at, job.results_content
                )
        raise file_not_found(file_id)

    def list_files(self) -> list[FileRecord]:
        """Every file, newest first (results files appear once their job succeeded)."""
        found = list(self.files.values())
        for file_id in self._results:
            try:
                found.append(self.file(file_id))
            except ApiError:
                continue
        return sorted(found, key=lambda f: f.created_at, reverse=True)

    def delete_file(self, file_id: str) -> None:
        if file_id in self.files:
            del self.files[file_id]
            return
        self.file(file_id)  # 404 unless it is a visible results file
        self.deleted_results.add(file_id)

    # ---- jobs ----------------------------------------------------------------------------------------

    def _training_file(self, file_id: str, param: str) -> FileRecord:
        record = self.files.get(file_id)
        if record is None:
            raise bad_request(f"invalid {param}: {file_id} (no such file)", param=param, code="invalid_file")
        if record.purpose not in FINE_TUNE_PURPOSES:
            raise bad_request(
                f"invalid {param}: {file_id} has purpose '{record.purpose}'; fine-tuning needs purpose 'fine-tune'",
                param=param,
                code="invalid_file",
            )
        if not record.is_ready(self.clock.now()):
            raise bad_request(
                f"invalid {param}: {file_id} is not ready yet; wait until its status is 'processed'",
                param=param,
                code="file_not_ready",
            )
        return record

    def _resolve_hyperparameters(self, request: JobRequest, seed: int) -> dict[str, Any]:
        given = request.hyperparameters
        resolved: dict[str, Any] = {
            "batch_size": given.get("batch_size", "auto"),
            "learning_rate_multiplier": given.get("learning_rate_multiplier", "auto"),
            "n_epochs": given.get("n_epochs", "auto"),
        }
        if resolved["batch_size"] == "auto":
            resolved["batch_size"] = 1 + seed % 4
        if resolved["learning_rate_multiplier"] == "auto":
            resolved["learning_rate_multiplier"] = 1.8
        if resolved["n_epochs"] == "auto":
            resolved["n_epochs"] = 3
        if request.method_type == "dpo":
            beta = given.get("beta", "auto")
            resolved["beta"] = 0.1 if beta == "auto" else beta
        if request.method_type == "reinforcement":
            for key in ("reasoning_effort", "compute_multiplier", "eval_interval", "eval_samples"):
                if key in given:
                    resolved[key] = given[key]
        return resolved

    def create_job(self, request: JobRequest, flavour: Flavour) -> JobRecord:
        training = self._training_file(request.training_file, "training_file")
        if request.validation_file is not None:
            self._training_file(request.validation_file, "validation_file")
        now = self.clock.now()
        job_id = self.ids.job(flavour)
        seed = request.seed if request.seed is not None else self.ids.seed()
        hyper = self._resolve_hyperparameters(request, seed)
        metadata = request.metadata or {}
        total_steps = int(metadata.get(STEPS_KEY, DEFAULT_TOTAL_STEPS))
        outcome = metadata.get(OUTCOME_KEY, "")
        fails = outcome in ("failed", "fail") or (request.suffix or "").lower().startswith("fail")
        fail_at = max(1, int(total_steps * (0.4 + (seed % 31) / 100))) if fails else None
        invalid_file = outcome == "invalid_file" or not _is_jsonl(training.content)
        if flavour == "azure":
            model_name = f"{request.model}.ft-{job_id.removeprefix('ftjob-')}"
        else:
            model_name = f"ft:{request.model}:{ORGANIZATION_SLUG}:{request.suffix or ''}:{self.ids.short()}"
        plan = Plan(
            total_steps=total_steps,
            n_epochs=int(hyper["n_epochs"]),
            seed=seed,
            has_validation=request.validation_file is not None,
            fine_tuned_model=model_name,
            fail_at_step=fail_at,
            validation_failure=INVALID_FILE_FAILURE if invalid_file else None,
            trained_tokens=total_steps * int(hyper["batch_size"]) * 412 + seed % 1000,
            overfits=metadata.get(CURVE_KEY) == "overfit",
        )
        validating = f"Validating training file: {request.training_file}"
        if request.validation_file:
            validating += f" and validation file: {request.validation_file}"
        record = JobRecord(
            id=job_id,
            flavour=flavour,
            created_at=now,
            request=request,
            plan=plan,
            seed=seed,
            hyperparameters=hyper,
            results_file_id=results_file_id(job_id, flavour),
            anchor=Anchor(now, "validating_files"),
            history=[Happening(now, f"Created fine-tuning job: {job_id}"), Happening(now, validating)],
        )
        self.jobs[job_id] = record
        self._results[record.results_file_id] = job_id
        return record

    def job(self, job_id: str) -> JobRecord:
        record = self.jobs.get(job_id)
        if record is None:
            raise job_not_found(job_id)
        return record

    def view(self, record: JobRecord, *, with_events: bool = True) -> Projection:
        return project(record.plan, record.anchor, self.clock.now(), self.timing, with_events=with_events)

    def happenings(self, record: JobRecord) -> list[Happening]:
        """The job's whole history so far, oldest first (positions give the event ids)."""
        return [*record.history, *self.view(record).happenings]

    def checkpoints(self, record: JobRecord) -> list[Happening]:
        """Checkpoint happenings, one per step (the latest if a step was trained twice), newest first."""
        by_step: dict[int, Happening] = {}
        for happening in self.happenings(record):
            if happening.checkpoint_step is not None:
                by_step[happening.checkpoint_step] = happening
        return sorted(by_step.values(), key=lambda h: (h.at, h.checkpoint_step or 0), reverse=True)

    def _commit(self, record: JobRecord, seen: Projection, anchor: Anchor, *notes: Happening) -> None:
        record.history.extend(seen.happenings)
        record.history.extend(notes)
        record.anchor = anchor

    def pause(self, job_id: str) -> JobRecord:
        record = self.job(job_id)
        seen, now = self.view(record), self.clock.now()
        if seen.status != "running":
            raise invalid_state(job_id, seen.status, "paused")
        if seen.step < 1:
            raise bad_request(
                f"Job {job_id} has not trained any steps yet and cannot be paused.",
                param="fine_tuning_job_id",
                code="invalid_job_state",
            )
        note = Happening(now, f"Fine-tuning job paused at step {seen.step}")
        self._commit(record, seen, Anchor(now, "paused", seen.step), note)
        return record

    def resume(self, job_id: str) -> JobRecord:
        record = self.job(job_id)
        seen, now = self.view(record), self.clock.now()
        if seen.status != "paused":
            raise invalid_state(job_id, seen.status, "resumed")
        note = Happening(now, f"Fine-tuning job resume requested, queued to continue from step {seen.step}")
        self._commit(record, seen, Anchor(now, "queued", seen.step), note)
        return record

    def cancel(self, job_id: str) -> JobRecord:
        record = self.job(job_id)
        seen, now = self.view(record), self.clock.now()
        if seen.status in TERMINAL:
            raise invalid_state(job_id, seen.status, "cancelled")
        note = Happening(now, "Fine-tuning job cancelled")
        self._commit(record, seen, Anchor(now, "cancelled", seen.step, finished_at=now), note)
        return record

    def set_job(
        self, job_id: str, status: str, *, error: dict[str, Any] | None = None, step: int | None = None
    ) -> JobRecord:
        """Put a job straight into `status` (tests and demos); any status string is accepted."""
        record = self.job(job_id)
        seen, now = self.view(record), self.clock.now()
        at_step = min(max(seen.step if step is None else step, 0), record.plan.total_steps)
        notes: list[Happening] = []
        anchor = Anchor(now, status, at_step)
        if status == "succeeded":
            anchor = Anchor(now, status, record.plan.total_steps, finished_at=now)
            notes = [
                Happening(now, f"New fine-tuned model created: {record.plan.fine_tuned_model}"),
                Happening(now, "The job has successfully completed"),
            ]
        elif status == "failed":
            failure = (
                JobFailure(
                    code=str(error.get("code") or "server_error"),
                    message=str(error.get("message") or "The job failed due to an internal error."),
                    param=error.get("param"),
                )
                if error
                else JobFailure("server_error", "The job failed due to an internal error.")
            )
            anchor = Anchor(now, status, at_step, finished_at=now, error=failure)
            notes = [Happening(now, failure.message, level="error")]
        elif status == "cancelled":
            anchor = Anchor(now, status, at_step, finished_at=now)
            notes = [Happening(now, "Fine-tuning job cancelled")]
        self._commit(record, seen, anchor, *notes)
        return record

    def newest_first(self) -> list[JobRecord]:
        return list(reversed(self.jobs.values()))
