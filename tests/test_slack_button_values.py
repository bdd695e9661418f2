"""A card button whose value is not a job id is answered privately and never reaches the fine-tuning API.

The value of a click comes from the request, not from our card: a missing or odd one must not turn into
`GET /v1/fine_tuning/jobs/` or a request for some other path of the API.
"""

from __future__ import annotations

import pytest

from tests.support.runtime import BotRig


@pytest.mark.parametrize("value", ["", "../../files", "ftjob-abc/../../files", "file-abc123"])
async def test_a_button_with_an_odd_value_is_answered_without_calling_the_api(
    bot: BotRig, value: str
) -> None:
    job_id, card = await bot.create_job()
    edits_before = len(card.versions)
    await bot.control.reset_stats()

    sent = await bot.slack.sender.click(card, "job_refresh", value=value)
    text = await bot.answer_text(sent)

    assert "doesn't name a job" in text
    assert (await bot.control.stats())["total"] == 0
    assert len(card.versions) == edits_before  # the card was left as it was
    assert [entry.action for entry in await bot.audit(job_id, 1)] == ["create"]


async def test_the_same_button_with_its_own_value_still_reads_the_job(bot: BotRig) -> None:
    job_id, card = await bot.create_job()
    await bot.control.reset_stats()

    sent = await bot.slack.sender.click(card, "job_refresh", value=job_id)
    assert sent.status == 200
    assert [entry.action for entry in await bot.audit(job_id, 2)] == ["create", "refresh"]
    assert (await bot.control.stats())["by_operation"].get("retrieveFineTuningJob")
