"""The private answers to commands and clicks (bot/views/replies.py)."""

from __future__ import annotations

from bot.finetune.models import FineTuningJob
from bot.jobs.actions import Action
from bot.jobs.records import Progress
from bot.views.card import render_card
from bot.views.format import status_in_sentence
from bot.views.replies import control_summary, refresh_summary, with_card
from tests.support.views import assert_valid_message, message_text


def test_known_statuses_read_as_words_and_unknown_ones_as_sent() -> None:
    assert status_in_sentence("validating_files") == "validating files"
    assert status_in_sentence("paused") == "paused"
    assert status_in_sentence("Quarantined_NEW") == "`Quarantined_NEW`"
    assert (
        control_summary(Action.CANCEL, "ftjob-1", "cancelled")
        == "Cancel requested for `ftjob-1`: it is now cancelled."
    )
    assert refresh_summary("ftjob-1", "Quarantined_NEW") == "`ftjob-1` is `Quarantined_NEW`."


def test_a_summary_followed_by_the_card_keeps_the_cards_buttons() -> None:
    job = FineTuningJob.model_validate(
        {
            "id": "ftjob-1",
            "object": "fine_tuning.job",
            "created_at": 1_700_000_000,
            "model": "gpt-4o-mini-2024-07-18",
            "status": "running",
            "training_file": "file-1",
        }
    )
    card = render_card(job, Progress(), creator="U1", now=1_700_000_100)
    answer = with_card("Pause requested.", card)
    assert_valid_message(answer)
    assert answer.text == "Pause requested."
    assert answer.blocks[0]["text"]["text"] == "Pause requested."
    assert answer.blocks[1:] == card.blocks
    assert "ftjob-1" in message_text(answer)
