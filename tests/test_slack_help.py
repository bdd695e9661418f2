"""`/finetune help <subcommand>` answers with just that subcommand's forms."""

from __future__ import annotations

from tests.support.runtime import BotRig


async def test_help_for_one_subcommand_shows_only_its_forms(bot: BotRig) -> None:
    sent = await bot.slack.sender.slash("help pause")
    answer = await bot.answer_text(sent)
    assert "/finetune pause ftjob-abc123" in answer
    assert "create model=" not in answer


async def test_help_for_an_unknown_topic_shows_everything(bot: BotRig) -> None:
    sent = await bot.slack.sender.slash("help frobnicate")
    answer = await bot.answer_text(sent)
    assert "/finetune pause ftjob-abc123" in answer
    assert "/finetune create model=" in answer
