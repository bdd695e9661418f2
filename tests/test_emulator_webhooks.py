"""The emulator's webhooks: a signed Standard Webhooks event when a job ends, retried until a 2xx.

A small receiver on 127.0.0.1 plays the bot's endpoint: it checks each delivery with the `standardwebhooks`
package (as the bot does) and answers what the test tells it to.
"""

from __future__ import annotations

import asyncio
import base64
import json
import socket
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from aiohttp import web
from standardwebhooks import Webhook

from bot.finetune.spec import JobSpec
from bot.sandbox.emulator.control import EmulatorControl, EmulatorControlError
from bot.sandbox.emulator.server import EmulatorServer
from bot.sandbox.emulator.state import DEMO_TRAINING_FILE

SECRET = "whsec_" + base64.b64encode(b"emulator-webhook-test-secret").decode()
MODEL = "gpt-4o-mini-2024-07-18"


@dataclass
class Received:
    headers: dict[str, str]
    body: dict[str, Any]
    verified: bool


@dataclass
class Receiver:
    url: str
    answers: list[int] = field(default_factory=list)  # statuses to answer, in order; then 200
    received: list[Received] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        headers = {name.lower(): value for name, value in request.headers.items()}
        try:
            Webhook(SECRET).verify(raw, headers)
            verified = True
        except Exception:
            verified = False
        self.received.append(Received(headers, json.loads(raw), verified))
        status = self.answers.pop(0) if self.answers else 200
        if status in (301, 302):
            return web.Response(status=status, headers={"Location": "http://127.0.0.1:1/elsewhere"})
        return web.Response(status=status)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    app = web.Application()
    runner = web.AppRunner(app, access_log=None)
    placeholder = Receiver(url="")
    app.router.add_post("/hook", placeholder.handle)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    placeholder.url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    try:
        yield placeholder
    finally:
        await runner.cleanup()


async def _job(emulator: EmulatorServer) -> str:
    async with httpx.AsyncClient(
        base_url=emulator.openai_base_url, headers={"Authorization": f"Bearer {emulator.api_key}"}
    ) as http:
        spec = JobSpec(model=MODEL, training_file=DEMO_TRAINING_FILE, suffix="hook")
        created = await http.post("/fine_tuning/jobs", json=spec.to_body())
        assert created.status_code == 200, created.text
        job_id: str = created.json()["id"]
        return job_id


async def _until(predicate: Any, within: float = 10.0) -> Any:
    deadline = asyncio.get_running_loop().time() + within
    while not (value := await predicate()):
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)
    return value


async def test_each_end_is_sent_once_signed_with_only_the_job_id(
    emulator: EmulatorServer, emulator_control: EmulatorControl, receiver: Receiver
) -> None:
    finished_before = await _job(emulator)
    await emulator_control.set_job(finished_before, status="succeeded")
    await emulator_control.set_webhook(receiver.url, SECRET)
    succeeding, failing, cancelled = [await _job(emulator) for _ in range(3)]

    await emulator_control.set_job(succeeding, status="succeeded")
    await emulator_control.set_job(failing, status="failed")
    await emulator_control.set_job(cancelled, status="cancelled")

    async def three() -> bool:
        return len(receiver.received) >= 3

    await _until(three)
    await asyncio.sleep(0.2)  # a few more scans: nothing is sent twice
    by_job = {r.body["data"]["id"]: r for r in receiver.received}
    assert len(receiver.received) == 3
    assert finished_before not in by_job  # ended before webhooks were set up
    assert {job: r.body["type"] for job, r in by_job.items()} == {
        succeeding: "fine_tuning.job.succeeded",
        failing: "fine_tuning.job.failed",
        cancelled: "fine_tuning.job.cancelled",
    }
    for got in receiver.received:
        assert got.verified
        assert got.body["object"] == "event" and got.body["id"].startswith("evt_")
        assert set(got.body["data"]) == {"id"}
        assert got.headers["webhook-signature"].startswith("v1,")


async def test_a_job_that_trains_to_its_end_is_announced(
    emulator: EmulatorServer, emulator_control: EmulatorControl, receiver: Receiver
) -> None:
    await emulator_control.set_webhook(receiver.url, SECRET)
    job_id = await _job(emulator)
    await emulator_control.advance(10 + 20 + 6 * 100 + 1)  # validation, queue, every step

    async def one() -> bool:
        return bool(receiver.received)

    await _until(one)
    assert [(r.body["type"], r.body["data"]["id"]) for r in receiver.received] == [
        ("fine_tuning.job.succeeded", job_id)
    ]


async def test_a_refused_delivery_is_retried_under_the_same_id_until_a_2xx(
    emulator: EmulatorServer, emulator_control: EmulatorControl, receiver: Receiver
) -> None:
    receiver.answers = [500, 302, 401]  # a redirect is a failure too, as with the real services
    await emulator_control.set_webhook(receiver.url, SECRET, retry_delays=[0.05, 0.05, 0.05, 0.05])
    job_id = await _job(emulator)
    await emulator_control.set_job(job_id, status="succeeded")

    async def delivered() -> list[dict[str, Any]]:
        return [d for d in await emulator_control.webhook_deliveries() if d["delivered"]]

    [delivery] = await _until(delivered)
    assert [a["status"] for a in delivery["attempts"]] == [500, 302, 401, 200]
    assert len(receiver.received) == 4
    assert {r.headers["webhook-id"] for r in receiver.received} == {delivery["webhook_id"]}
    assert all(r.verified for r in receiver.received)  # each attempt signed afresh
    assert len({r.body["id"] for r in receiver.received}) == 1


async def test_a_delivery_nobody_takes_is_given_up_after_its_retries(
    emulator: EmulatorServer, emulator_control: EmulatorControl
) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        nowhere = f"http://127.0.0.1:{closed.getsockname()[1]}/hook"  # nothing listens there
    await emulator_control.set_webhook(nowhere, SECRET, retry_delays=[0.02, 0.02])
    job_id = await _job(emulator)
    await emulator_control.set_job(job_id, status="cancelled")

    async def given_up() -> list[dict[str, Any]]:
        return [d for d in await emulator_control.webhook_deliveries() if d["given_up"]]

    [delivery] = await _until(given_up)
    assert [a["status"] for a in delivery["attempts"]] == [None, None, None]
    assert all(a["error"] for a in delivery["attempts"])
    assert not delivery["delivered"]


async def test_bad_webhook_settings_are_refused_with_the_reason(emulator_control: EmulatorControl) -> None:
    with pytest.raises(EmulatorControlError, match="whsec_"):
        await emulator_control.set_webhook("http://127.0.0.1:1/hook", "not-a-secret")
    with pytest.raises(EmulatorControlError, match="http"):
        await emulator_control.set_webhook("ftp://example.com/hook", SECRET)
    with pytest.raises(EmulatorControlError, match="retry"):
        await emulator_control.set_webhook("http://127.0.0.1:1/hook", SECRET, retry_delays=[-1])


async def test_the_emulator_command_sends_webhooks_when_given_a_url_and_secret(receiver: Receiver) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "bot", "emulator", "--port", str(port)),
        *("--webhook-url", receiver.url, "--webhook-secret", SECRET),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        banner = [(await asyncio.wait_for(process.stdout.readline(), timeout=30)).decode() for _ in range(7)]
        assert any(receiver.url in line for line in banner), banner
        emulator = EmulatorServer(port=port)  # only for its URLs: the process serves
        job_id = await _job(emulator)
        async with EmulatorControl(emulator.url) as control:
            await control.set_job(job_id, status="succeeded")

        async def got() -> bool:
            return bool(receiver.received)

        await _until(got)
        assert receiver.received[0].verified
        assert receiver.received[0].body["data"] == {"id": job_id}
    finally:
        if process.returncode is None:
            process.terminate()
        await asyncio.wait_for(process.wait(), timeout=15)


async def test_the_emulator_command_wants_the_url_and_the_secret_together() -> None:
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "bot", "emulator", "--port", "0", "--webhook-url", "http://127.0.0.1:1/x"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 2
    assert "--webhook-secret" in err.decode()
