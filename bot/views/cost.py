"""The training cost of a finished job, in one line: its trained tokens at its base model's price.

A model with no price in the table gets no line (the card and the note already show its trained tokens):
a guessed cost is worse than none.
"""

from __future__ import annotations

from bot.finetune.models import FineTuningJob
from bot.jobs.prices import PriceTable, format_usd
from bot.mrkdwn import code
from bot.views.format import number


def cost_line(job: FineTuningJob, prices: PriceTable) -> str | None:
    """`Training cost: $0.42 (140,000 trained tokens × $3.00 per 1M for `gpt-4o-mini-…`)`, or None."""
    if job.status != "succeeded" or not job.model:
        return None
    cost = prices.cost(job.model, job.trained_tokens)
    if cost is None:
        return None
    return (
        f"Training cost: *{format_usd(cost.usd)}* ({number(cost.tokens)} trained tokens × "
        f"{format_usd(cost.usd_per_million)} per 1M for {code(job.model)})"
    )
