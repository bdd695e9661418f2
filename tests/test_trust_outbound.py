"""Nothing leaks: no secret reaches Slack or the audit log, and other people's words never notify anyone.

The API's words (error messages, statuses) are put where Slack reads them: the private answer, the card's
notification text, the thread reply, message metadata. A key in them is redacted; `<!channel>`, `<!here>`,
`<!everyone>`, user-group and user mentions and links in them are shown as text.
"""

from __future__ import annotations

import json

import pytest

from bot.sandbox.emulator.control import EmulatorControl
from tests.support.audit import audit_rows
from tests.support.background import AppRig
from tests.support.runtime import BotRig

HOSTILE = "<!channel> <!here> <!everyone> <!subteam^S123|@ml-team> <@U_BOB> <https://evil.example|click me>"
DISARMED = ("<!channel>", "<!here>", "<!everyone>", "<!subteam^", "<@U_BOB>", "<https://evil")


def _raw(*values: object) -> str:
    """Everything Slack was sent, as the JSON text it travelled in."""
    return json.dumps(values, ensure_ascii=False)


async def test_an_api_error_echoing_the_key_is_quoted_without_it(bot: BotRig) -> None:
    key = bot.services.settings.openai_api_key
    assert key is not None
    secret = key.get_secret_value()
    await bot.control.set_faults(
        status=409, code="invalid_api_key", message=f"Incorrect API key provided: {secret}. {HOSTILE}"
    )
    sent = await bot.slack.sender.slash("status ftjob-abc")
    post = await bot.answer(sent)

    sent_to_slack = _raw(post.body)
    assert "Incorrect API key provided" in sent_to_slack
    assert secret not in sent_to_slack and "[redacted]" in sent_to_slack
    assert not any(token in sent_to_slack for token in DISARMED), sent_to_slack
    rows = audit_rows(bot.services.settings.db_path)
    assert rows and all(secret not in (row.result or "") for row in rows)
    assert any("[redacted]" in (row.result or "") for row in rows)


async def test_a_key_shaped_token_from_the_api_is_redacted_even_when_not_ours(bot: BotRig) -> None:
    leaked = "sk-proj-" + "A1b2C3d4" * 4
    await bot.control.set_faults(status=409, code="bad", message=f"bad request made with {leaked}")
    post = await bot.answer(await bot.slack.sender.slash("status ftjob-abc"))
    assert leaked not in _raw(post.body)


@pytest.fixture(autouse=True)
async def frozen_emulator(emulator_control: EmulatorControl) -> None:
    await emulator_control.set_speed(0)


async def test_a_failed_jobs_message_reaches_the_channel_disarmed_and_without_secrets(
    app_rig: AppRig,
) -> None:
    rig = app_rig
    secret = rig.bot.services.settings.openai_api_key
    assert secret is not None
    job_id, card = await rig.bot.create_job()
    message = f"Training failed with key {secret.get_secret_value()} {HOSTILE}"
    await rig.bot.control.set_job(job_id, status="failed", error={"code": "server_error", "message": message})

    await rig.slack.wait_for(lambda: rig.transitions("C_ML", card.ts) == ["1:failed"])
    posts = [c.args for c in rig.slack.calls if c.method in ("chat.postMessage", "chat.update")]
    sent_to_slack = _raw(posts)
    assert "Training failed with key" in sent_to_slack
    assert secret.get_secret_value() not in sent_to_slack
    for token in DISARMED:
        assert token not in sent_to_slack, token
    # The creator is still mentioned (TuneOps's own mention), and the error is readable as text.
    note = rig.notes("C_ML", card.ts)[-1]
    assert "<@U_ALICE>" in note.text or "<@U_ALICE>" in _raw(note.blocks)
    assert "&lt;!channel&gt;" in _raw(note.blocks)


async def test_an_odd_status_never_reaches_metadata_or_text_as_a_mention(app_rig: AppRig) -> None:
    rig = app_rig
    job_id, card = await rig.bot.create_job()
    await rig.bot.control.set_job(job_id, status="<!here>quarantined")

    await rig.slack.wait_for(lambda: len(rig.notes("C_ML", card.ts)) == 1)
    posts = [c.args for c in rig.slack.calls if c.method in ("chat.postMessage", "chat.update")]
    assert "<!here>" not in _raw(posts)
    assert "quarantined" in _raw(posts)
