"""The private answer to each job operation, from its outcome (`bot.jobs.outcomes`).

`now` is the time the answer is drawn at (a card says how long ago things happened); `command` is the
slash command, named where the answer says what to type next.
"""

from __future__ import annotations

from bot.jobs.actions import Action
from bot.jobs.outcomes import (
    ActionDone,
    ActionNotSent,
    CardNotPosted,
    CreateOutcome,
    Followed,
    MaybeStarted,
    StartedWithoutCard,
    Unfollowed,
)
from bot.jobs.prices import PriceTable
from bot.jobs.records import TrackedJob
from bot.mrkdwn import code
from bot.views.card import card_for, job_card
from bot.views.format import status_in_sentence
from bot.views.message import SlackMessage
from bot.views.replies import (
    CONTROL_VERBS,
    already_following,
    card_not_posted,
    control_answer,
    control_summary,
    maybe_started_at_restart,
    now_following,
    refresh_summary,
    sentence,
    started,
    started_without_card,
    stopped_following,
    was_not_following,
)


def create_answer(
    outcome: CreateOutcome, *, command: str, now: float, prices: PriceTable | None = None
) -> SlackMessage:
    if isinstance(outcome, MaybeStarted):
        return maybe_started_at_restart(command, outcome.channel)
    if isinstance(outcome, StartedWithoutCard):
        return started_without_card(outcome.job_id, outcome.status, outcome.channel)
    tracked, channel = outcome.tracked, outcome.channel
    if outcome.card_not_posted is not None:
        return _not_posted(
            tracked,
            outcome.card_not_posted,
            started=True,
            command=command,
            now=now,
            channel=channel,
            prices=prices,
        )
    return started(tracked.job_id, tracked.status, channel=channel)


def follow_answer(
    outcome: Followed, *, command: str, now: float, prices: PriceTable | None = None
) -> SlackMessage:
    if outcome.already:
        return already_following(outcome.tracked.job_id)
    if outcome.card_not_posted is not None:
        return _not_posted(
            outcome.tracked, outcome.card_not_posted, started=False, command=command, now=now, prices=prices
        )
    return now_following(outcome.tracked.job_id)


def unfollow_answer(outcome: Unfollowed, *, command: str) -> SlackMessage:
    if outcome.was_following:
        return stopped_following(outcome.job_id, command=command)
    return was_not_following(outcome.job_id)


def action_card(outcome: ActionDone, *, now: float, prices: PriceTable | None = None) -> SlackMessage:
    """The job's card after a pause, resume, cancel or refresh."""
    return job_card(outcome.job, outcome.tracked, now, prices=prices)


def action_summary(outcome: ActionDone) -> str:
    if outcome.action is Action.REFRESH:
        return refresh_summary(outcome.job.id, outcome.job.status)
    return control_summary(outcome.action, outcome.job.id, outcome.job.status)


def typed_action_answer(outcome: ActionDone, *, now: float, prices: PriceTable | None = None) -> SlackMessage:
    """The answer to a typed pause, resume or cancel: the summary, and the card when it was not edited."""
    return control_answer(
        action_summary(outcome),
        action_card(outcome, now=now, prices=prices),
        card_updated=outcome.card_updated,
    )


def _not_posted(
    tracked: TrackedJob,
    missing: CardNotPosted,
    *,
    started: bool,
    command: str,
    now: float,
    channel: str | None = None,
    prices: PriceTable | None = None,
) -> SlackMessage:
    return card_not_posted(
        tracked.job_id,
        card_for(tracked, now, prices=prices),
        problem=missing.problem,
        unreachable=missing.unreachable,
        started=started,
        command=command,
        channel=channel,
    )


def not_sent_answer(outcome: ActionNotSent) -> SlackMessage:
    """A pause, resume or cancel that made no API call, and why."""
    verb = CONTROL_VERBS[outcome.action].lower()
    if outcome.why == "under_way":
        return sentence(
            f"A {verb} of {code(outcome.job_id)} is already under way (asked a moment ago), so I didn't "
            "send another. Its card shows the result."
        )
    status = status_in_sentence(outcome.status or "finished")
    return sentence(f"{code(outcome.job_id)} is already {status}: there is nothing left to {verb}.")
