"""What the notifier and the watcher write to the log: lines about one job name it and its channel, and
nothing they log at INFO or above holds a secret or a message they send to Slack."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from bot.ops.logs import current_context, setup_logging
from bot.sandbox.emulator.control import EmulatorControl
from bot.sandbox.emulator.server import EmulatorServer
from bot.sandbox.standin.server import SlackStandIn
from tests.support.background import Rig

# The notifier's modules: the loops, the delivery of one reply, the upkeep of cards.
NOTIFIER_LOGGERS = ("bot.notify.notifier", "bot.notify.replies", "bot.notify.card_upkeep")


@pytest.fixture(autouse=True)
async def frozen_emulator(emulator_control: EmulatorControl) -> None:
    await emulator_control.set_speed(0)


@pytest.fixture
def root_logging() -> Iterator[logging.Logger]:
    """The root logger, given back with its handlers and level as they were."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield root
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)


class _Background(logging.Handler):
    """Every record logged by the watcher's or the notifier's task (its libraries' lines included), kept
    as it was logged: no redaction runs before this handler, so a leak would show."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[tuple[logging.LogRecord, str, dict[str, object]]] = []

    def emit(self, record: logging.LogRecord) -> None:
        context = dict(current_context())
        if context.get("task") in ("watcher", "notifier"):
            self.records.append((record, record.getMessage(), context))

    def logged(self, words: str) -> bool:
        return any(words in message for _, message, _ in self.records)


async def test_an_unreachable_channel_warning_names_the_job_and_the_channel_in_json(
    watch_rig: Rig, root_logging: logging.Logger
) -> None:
    stream = io.StringIO()
    setup_logging(fmt="json", level="INFO", stream=stream)
    rig = watch_rig
    job_id = await rig.start_job("C_OWNER", "U_ALICE")
    await rig.watch_from(job_id, "C_ARCHIVED")
    rig.slack.set_channel_state("C_ARCHIVED", "archived")

    await rig.control.advance(30)  # → running: a note for each channel
    # The channel is marked in storage, then the line is written: wait for the line.
    await rig.until(lambda: "marked unreachable" in stream.getvalue())

    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    # The reply's warning ("cannot post in …"), or the card edit's if the card was redrawn there first
    # ("cannot edit cards in …"): whichever met the archived channel names the job and the channel.
    warnings = [line for line in lines if "marked unreachable" in str(line["message"])]
    for warning in warnings:
        assert warning["level"] == "warning"
        assert warning["logger"] in NOTIFIER_LOGGERS[1:]
        assert (warning["job_id"], warning["channel"]) == (job_id, "C_ARCHIVED")
        assert warning["task"] == "notifier"


async def test_nothing_logged_at_info_holds_a_secret_or_a_message_sent_to_slack(
    watch_rig: Rig,
    root_logging: logging.Logger,
    slack: SlackStandIn,
    emulator: EmulatorServer,
) -> None:
    captured = _Background()
    root_logging.addHandler(captured)
    root_logging.setLevel(logging.INFO)
    rig = watch_rig
    job_id = await rig.start_job("C_OWNER", "U_ALICE")
    await rig.watch_from(job_id, "C_ARCHIVED")
    rig.slack.set_channel_state("C_ARCHIVED", "archived")
    rig.slack.fail_next(2, status=500, method="chat.postMessage")  # retried, logged

    await rig.control.advance(30)  # → running
    await rig.until(lambda: rig.statuses(job_id, "C_OWNER") == ["running"])
    # The API fails for a while: the watcher says so once, then catches up.
    await rig.control.set_faults(status=500, rate=1.0)
    await rig.until(lambda: captured.logged("fine-tuning API trouble"))
    await rig.control.clear_faults()
    await rig.control.advance(6 * 100)  # → succeeded
    await rig.until(lambda: rig.statuses(job_id, "C_OWNER") == ["running", "succeeded"])

    # The run logged what it met, each line about one delivery naming its job and channel...
    await rig.until(lambda: captured.logged("marked unreachable") and captured.logged("not delivered"))
    for record, message, context in captured.records:
        if record.name in NOTIFIER_LOGGERS and "row" in message:
            assert context.get("job_id") == job_id and context.get("channel"), message
    # ...and never a credential, nor what was posted to Slack (a note's text, its blocks).
    secrets = (slack.bot_token, slack.signing_secret, emulator.api_key)
    posted = [note.text for note in rig.notes(job_id, "C_OWNER")]
    for record, message, _ in captured.records:
        every_text = message + " " + " ".join(str(value) for value in record.__dict__.values())
        assert not any(secret in every_text for secret in secrets), (record.name, message)
        assert not any(text in every_text for text in posted), (record.name, message)
        assert '"blocks"' not in every_text and "'blocks'" not in every_text, (record.name, message)
