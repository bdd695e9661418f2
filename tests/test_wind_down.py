"""OpenAI's fine-tuning wind-down, through the real bot against the emulator: a closed organisation's
create is explained in plain words, with the dates and what to do, not as a bare API error."""

from __future__ import annotations

from tests.support.runtime import CREATE_ARGS, BotRig


async def test_training_not_available_is_explained_with_the_dates_and_azure(bot: BotRig) -> None:
    await bot.control.set_training_available(False)
    sent = await bot.slack.sender.slash(f"create {CREATE_ARGS}")
    answer = await bot.answer_text(sent)
    assert "winding self-serve fine-tuning down" in answer
    assert "training_not_available" in answer  # the API's own words are quoted too
    for date in ("7 May 2026", "2 July 2026", "6 January 2027", "14 January 2027"):
        assert date in answer
    assert "Azure AI Foundry" in answer
    assert "TUNEOPS_PROVIDER=azure" in answer
    # Nothing was started or tracked.
    assert await bot.store.channel_jobs("C_ML", limit=5) == []
    assert bot.slack.messages("C_ML") == []
