"""The private answers to commands, clicks and forms: one sentence, sometimes followed by a job's card.

Jobs and handlers decide what happened; the words and the blocks that say it are here.
"""

from __future__ import annotations

from slack_sdk.models.blocks import MarkdownTextObject, SectionBlock

from bot.jobs.actions import Action
from bot.jobs.interrupted import check_command
from bot.mrkdwn import code
from bot.views.format import status_in_sentence
from bot.views.message import SlackMessage, fit

CONTROL_VERBS = {Action.PAUSE: "Pause", Action.RESUME: "Resume", Action.CANCEL: "Cancel"}


def sentence(text: str) -> SlackMessage:
    """One mrkdwn section saying `text` (written by us: ids and names already in `code`)."""
    return fit(text, [SectionBlock(text=MarkdownTextObject(text=text))])


def with_card(text: str, card: SlackMessage) -> SlackMessage:
    """`text`, then the job's card as it is now (for when the card in the channel could not be used)."""
    return fit(text, [*sentence(text).blocks, *card.blocks])


# ---- create, watch, unwatch ---------------------------------------------------------------------------


def started(job_id: str, status: str, *, channel: str | None = None) -> SlackMessage:
    """`channel` names the job's channel when the answer may be read elsewhere (a direct message)."""
    where = f"<#{channel}>" if channel else "this channel"
    return sentence(
        f"✅ Started {code(job_id)} ({status_in_sentence(status)}). Its card is in {where} and every "
        "status change will be posted in its thread."
    )


def maybe_started_at_restart(command: str, channel: str | None) -> SlackMessage:
    """Shutdown came before the API answered a create."""
    where = f" in <#{channel}>" if channel else ""
    return sentence(
        f"⚠️ The bot was restarting while it started your job{where}: the fine-tuning API had not answered "
        f"yet, so the job may have started. Check with {check_command(command)} before trying again."
    )


def started_without_card(job_id: str, status: str, channel: str | None) -> SlackMessage:
    """Shutdown came after a create was tracked, before its card was posted."""
    where = f"<#{channel}>" if channel else "this channel"
    return sentence(
        f"✅ Started {code(job_id)} ({status_in_sentence(status)}), but the bot was restarting before it "
        f"could post its card. {where} follows the job: its card is posted with its first status change."
    )


def now_following(job_id: str) -> SlackMessage:
    return sentence(
        f"👀 This channel now follows {code(job_id)}: its card is here and every status change will be "
        "posted in its thread."
    )


def already_following(job_id: str) -> SlackMessage:
    return sentence(f"This channel already follows {code(job_id)}; I brought its card up to date.")


def stopped_following(job_id: str, *, command: str) -> SlackMessage:
    return sentence(
        f"🔕 This channel no longer follows {code(job_id)}: no more updates about it here. "
        f"`{command} watch {job_id}` brings them back."
    )


def was_not_following(job_id: str) -> SlackMessage:
    return sentence(f"This channel wasn't following {code(job_id)}; nothing changed.")


def card_not_posted(
    job_id: str,
    card: SlackMessage,
    *,
    problem: str,
    unreachable: bool,
    started: bool,
    command: str,
    channel: str | None = None,
) -> SlackMessage:
    """Why the card is not in the channel and how to fix it, followed by the card itself.

    `channel` names the job's channel when the answer is read elsewhere (a direct message); without it the
    answer says "this channel"."""
    where = f"<#{channel}>" if channel else "this channel"
    there = "there" if channel else "here"
    first = f"Started {code(job_id)}, but I" if started else "I"
    if unreachable:
        text = (
            f"⚠️ {first} can't post in {where} (Slack says {code(problem)}). Invite me with "
            f"`/invite @TuneOps`, then run `{command} watch {job_id}` {there} to get its card and updates. "
            "Its card for now:"
        )
    else:
        text = (
            f"⚠️ {first} couldn't post the card in {where} (Slack says {code(problem)}). "
            f"`{command} watch {job_id}` {there} tries again. Its card for now:"
        )
    return with_card(text, card)


# ---- pause, resume, cancel, refresh ------------------------------------------------------------------


def control_summary(action: Action, job_id: str, status: str) -> str:
    verb = CONTROL_VERBS.get(action, action.capitalize())
    return f"{verb} requested for {code(job_id)}: it is now {status_in_sentence(status)}."


def refresh_summary(job_id: str, status: str) -> str:
    return f"{code(job_id)} is {status_in_sentence(status)}."


def control_answer(summary: str, card: SlackMessage, *, card_updated: bool) -> SlackMessage:
    """The answer to a typed pause/resume/cancel: the summary, and the card when it could not be edited."""
    if card_updated:
        return sentence(summary + " Its card in this channel shows the new state.")
    return with_card(summary, card)


def click_answer_card_not_edited(summary: str, card: SlackMessage) -> SlackMessage:
    """A click whose card could not be edited in the channel: the summary, and the card as it is now."""
    return with_card(summary + " I couldn't edit the card in the channel; here it is as it is now.", card)


# ---- lists and the form -------------------------------------------------------------------------------


def stale_list(command: str) -> SlackMessage:
    return sentence(f"That list is out of date. `{command} list` shows it afresh.")


def form_opens_alone(command: str) -> SlackMessage:
    return sentence(f"Type `{command} create` on its own to open the form.")
