"""Bodies Slack would never send get a plain 4xx and one log line, not a 500 with a traceback: unsigned
ones a 401 before anything reads them, signed ones a 400."""

from __future__ import annotations

import logging

import pytest

from tests.support.runtime import BotRig


@pytest.mark.parametrize("body", [b"payload=x", b"payload=%7B", b"payload=%5B1%2C2"])
async def test_a_payload_that_is_not_json_is_refused_without_a_traceback(
    bot: BotRig, body: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        forged = await bot.slack.sender.signed_post(body, signature="v0=00")
        signed = await bot.slack.sender.signed_post(body)
    assert forged.status == 401
    assert signed.status == 400
    assert not [record for record in caplog.records if record.exc_info]
    assert any("not a Slack payload" in record.getMessage() for record in caplog.records)
