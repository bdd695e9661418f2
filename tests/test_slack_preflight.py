"""Pre-flight in Slack: a shared .jsonl gets its report in its thread; `/finetune upload` checks the
attached file and `Upload & start` uploads it to the Files API and opens the create form prefilled."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
from aiohttp import web

from bot.sandbox.standin.events import send_event
from bot.sandbox.standin.models import OpenView, StoredEphemeral
from bot.sandbox.standin.shared_files import share_file
from tests.support.runtime import BotRig, button_labels, texts_of
from tests.support.training_files import dpo, good_chat_lines, jsonl


async def test_a_shared_jsonl_gets_its_report_in_the_files_thread(bot: BotRig) -> None:
    content = jsonl([*good_chat_lines(40), "{oops"])
    message, sent = await share_file(bot.slack, "C_ML", "support.jsonl", content)
    assert sent.status == 200

    replies = await bot.slack.wait_for(lambda: bot.slack.thread("C_ML", message.ts))
    text = texts_of([replies[0]])
    assert "support.jsonl" in text
    assert "cannot be trained" in text
    assert "41 examples" not in text  # the broken line is not an example
    assert "40 examples, 80 messages, 800 tokens" in text
    assert "not valid JSON (1): line 41" in text
    assert "$3.00 per 1M" in text
    # Downloaded with the bot token, as Slack requires.
    shared = bot.slack.shared_files.get(message.files[0]["id"])
    assert shared is not None
    assert shared.downloads == ["bot"]


async def test_a_dpo_file_shared_is_checked_as_dpo(bot: BotRig) -> None:
    message, _ = await share_file(bot.slack, "C_ML", "prefs.jsonl", jsonl([dpo(n) for n in range(12)]))
    replies = await bot.slack.wait_for(lambda: bot.slack.thread("C_ML", message.ts))
    text = texts_of([replies[0]])
    assert "can be trained" in text
    assert "dpo" in text


async def test_other_files_are_left_alone(bot: BotRig) -> None:
    message, sent = await share_file(bot.slack, "C_ML", "notes.txt", b"hello")
    assert sent.status == 200
    # A training file shared after it is answered: by then the text file would have been too.
    later, _ = await share_file(bot.slack, "C_ML", "train.jsonl", jsonl(good_chat_lines(12)))
    await bot.slack.wait_for(lambda: bot.slack.thread("C_ML", later.ts))
    assert bot.slack.thread("C_ML", message.ts) == []
    text_file = bot.slack.shared_files.get(message.files[0]["id"])
    assert text_file is not None
    assert text_file.downloads == []


async def _open_upload_form(bot: BotRig, user: str = "U_ALICE", channel: str = "C_ML") -> OpenView:
    await bot.slack.sender.slash("upload", user=user, channel=channel)
    return await bot.slack.wait_for(lambda: bot.slack.open_view(user))


async def _report(bot: BotRig, user: str = "U_ALICE") -> StoredEphemeral:
    found = await bot.slack.wait_for(
        lambda: [e for e in bot.slack.ephemerals(user) if "Pre-flight" in e.text]
    )
    return found[0]


def _button(ephemeral: StoredEphemeral, label: str) -> dict[str, Any] | None:
    for block in ephemeral.blocks:
        for element in block.get("elements") or []:
            if element.get("type") == "button" and element["text"]["text"] == label:
                return dict(element)
    return None


async def test_upload_checks_the_file_then_upload_and_start_opens_the_prefilled_form(bot: BotRig) -> None:
    shared = bot.slack.shared_files.add("train.jsonl", jsonl(good_chat_lines(20)), user="U_ALICE")
    view = await _open_upload_form(bot)
    assert view.view["callback_id"] == "preflight_upload"

    sent = await bot.slack.sender.submit_view(
        view, {"training_file": [shared.id], "model": "gpt-4.1-mini-2025-04-14", "epochs": "2"}
    )
    assert sent.status == 200
    assert bot.slack.open_view("U_ALICE") is None  # the form closed; the report follows

    report = await _report(bot)
    text = texts_of([report])
    assert "train.jsonl" in text
    assert "can be trained" in text
    assert "20 examples, 40 messages, 400 tokens" in text
    assert "400 tokens × 2 epochs = 800 tokens" in text
    assert "$5.00 per 1M" in text
    assert "Upload & start" in button_labels(report)

    before = {f.id for f in bot.emulator.state.list_files()}
    await bot.slack.sender.click(report, "preflight_upload_start")
    form = await bot.slack.wait_for(
        lambda: (v := bot.slack.open_view("U_ALICE")) and v.view.get("callback_id") == "create_job" and v
    )
    new_files = [f for f in bot.emulator.state.list_files() if f.id not in before]
    assert len(new_files) == 1
    uploaded = new_files[0]
    assert uploaded.purpose == "fine-tune"
    assert uploaded.filename == "train.jsonl"
    initial = {
        block["block_id"]: block["element"].get("initial_value")
        for block in form.view["blocks"]
        if block.get("type") == "input"
    }
    assert initial["training_file"] == uploaded.id
    assert initial["model"] == "gpt-4.1-mini-2025-04-14"
    assert initial["epochs"] == "2"


async def test_a_bad_file_in_the_form_gets_the_problems_and_no_upload_button(bot: BotRig) -> None:
    shared = bot.slack.shared_files.add("bad.jsonl", jsonl(good_chat_lines(3)), user="U_ALICE")
    view = await _open_upload_form(bot)
    await bot.slack.sender.submit_view(view, {"training_file": [shared.id]})
    report = await _report(bot)
    assert "cannot be trained" in texts_of([report])
    assert "fewer than 10 examples" in texts_of([report])
    assert _button(report, "Upload & start") is None


async def test_the_form_says_what_to_fix_in_place(bot: BotRig) -> None:
    shared = bot.slack.shared_files.add("train.jsonl", jsonl(good_chat_lines(12)), user="U_ALICE")
    view = await _open_upload_form(bot)
    sent = await bot.slack.sender.submit_view(view, {"training_file": [shared.id], "epochs": "lots"})
    assert sent.body["response_action"] == "errors"
    assert "epochs" in sent.body["errors"]
    assert bot.slack.open_view("U_ALICE") is not None


async def test_upload_takes_no_words(bot: BotRig) -> None:
    await bot.slack.sender.slash("upload now", user="U_ALICE")
    answer = await bot.slack.wait_for(lambda: bot.slack.ephemerals("U_ALICE"))
    assert "takes no words" in texts_of(answer)
    assert bot.slack.open_view("U_ALICE") is None


async def test_the_bot_token_is_never_sent_to_a_host_that_is_not_slack(bot: BotRig) -> None:
    """A file object naming another address (a forged event, a foreign link) is refused, not fetched."""
    trap_hits: list[str] = []

    async def trap(request: web.Request) -> web.Response:
        trap_hits.append(request.headers.get("Authorization", ""))
        return web.Response(text="{}")

    app = web.Application()
    app.router.add_get("/{name}", trap)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "localhost", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        message = bot.slack.workspace.post_message("C_ML", text="", blocks=[], user="U_BOB", bot=False)
        forged = {
            "id": "F_FORGED",
            "name": "evil.jsonl",
            "size": 10,
            "url_private": f"http://localhost:{port}/evil.jsonl",
        }
        await send_event(
            bot.slack,
            {
                "type": "message",
                "subtype": "file_share",
                "channel": "C_ML",
                "user": "U_BOB",
                "ts": message.ts,
                "files": [forged],
            },
        )
        replies = await bot.slack.wait_for(lambda: bot.slack.thread("C_ML", message.ts))
    finally:
        await runner.cleanup()
    assert "not hosted by Slack" in texts_of(replies)
    assert trap_hits == []


async def test_a_failed_upload_says_so_in_the_modal(bot: BotRig) -> None:
    shared = bot.slack.shared_files.add("train.jsonl", jsonl(good_chat_lines(12)), user="U_ALICE")
    view = await _open_upload_form(bot)
    await bot.slack.sender.submit_view(view, {"training_file": [shared.id]})
    report = await _report(bot)
    await bot.control.set_faults(
        status=500, method="POST", path_contains="/files", message="File is not valid JSONL."
    )
    await bot.slack.sender.click(report, "preflight_upload_start")

    def failed() -> OpenView | None:
        view = bot.slack.open_view("U_ALICE")
        return view if view is not None and "upload failed" in json.dumps(view.view) else None

    modal = await bot.slack.wait_for(failed)
    assert "File is not valid JSONL." in json.dumps(modal.view)  # the API's own words
    assert modal.view.get("callback_id") != "create_job"


async def test_a_file_attached_on_the_stand_in_page_reaches_the_bot(bot: BotRig) -> None:
    """The page's paper clip: the file is shared in the channel and the bot reports in its thread; a
    modal's file input only stores the file and hands back its id for the submission."""
    content = jsonl(good_chat_lines(12))
    async with httpx.AsyncClient(base_url=bot.slack.url) as page:
        stored = await page.post(
            "/ui/files",
            json={
                "user": "U_SANDBOX",
                "name": "picked.jsonl",
                "content_base64": base64.b64encode(content).decode(),
            },
        )
        shared = await page.post(
            "/ui/files",
            json={
                "user": "U_SANDBOX",
                "channel": "C_ML",
                "name": "page.jsonl",
                "content_base64": base64.b64encode(content).decode(),
                "share": True,
            },
        )
    picked = bot.slack.shared_files.get(stored.json()["file_id"])
    assert picked is not None
    assert picked.content == content
    assert picked.downloads == []

    file_id = shared.json()["file_id"]
    carrier = next(m for m in bot.slack.messages("C_ML") if m.files and m.files[0]["id"] == file_id)
    replies = await bot.slack.wait_for(lambda: bot.slack.thread("C_ML", carrier.ts))
    assert "page.jsonl" in texts_of(replies)
    assert "can be trained" in texts_of(replies)


async def test_ordinary_messages_in_the_channel_are_answered_and_ignored(bot: BotRig) -> None:
    """The message events the manifest asks for include every message: each is answered 200 (Slack turns
    off the events of an app that fails them) and gets nothing posted."""
    message = bot.slack.workspace.post_message("C_ML", text="lunch?", blocks=[], user="U_BOB", bot=False)
    sent = await send_event(
        bot.slack, {"type": "message", "channel": "C_ML", "user": "U_BOB", "text": "lunch?", "ts": message.ts}
    )
    assert sent.status == 200
    assert bot.slack.thread("C_ML", message.ts) == []
