"""The answers to `subscribe`, `subscriptions`, `unsubscribe` and `audit`."""

from __future__ import annotations

from slack_sdk.models.blocks import ContextBlock, MarkdownTextObject, SectionBlock

from bot.jobs.channel_ops import AuditShown, Subscribed, SubscriptionsShown, Unsubscribed
from bot.jobs.channel_settings import ChannelSettings
from bot.jobs.records import AuditEntry
from bot.mrkdwn import code, escape
from bot.views.format import mention, slack_date, slack_time, truncate
from bot.views.message import SlackMessage, fit

MAX_LISTED = 40  # subscriptions listed in one answer
MAX_AUDIT_LINE = 300


def _message(text: str) -> SlackMessage:
    return fit(text, [SectionBlock(text=MarkdownTextObject(text=text))])


def subscribed_answer(done: Subscribed, *, command: str) -> SlackMessage:
    only = done.subscription.filter.only
    told = f" Only {', '.join(sorted(only))} will be told." if only is not None else ""
    return _message(
        f"✅ Subscription {done.number}: this channel now follows every new job matching "
        f"{done.subscription.filter.describe()}, wherever it is started; each gets its card here within a "
        f"poll interval of appearing.{told} Jobs started before now are not announced. "
        f"`{command} subscriptions` lists them, `{command} unsubscribe {done.number}` stops this one."
    )


def subscriptions_message(shown: SubscriptionsShown, *, command: str) -> SlackMessage:
    lines = ["*This channel's subscriptions*"]
    if not shown.subscriptions:
        lines.append(
            f"None yet. `{command} subscribe all` (or a filter: `suffix=`, `model=`, `meta.<key>=`)."
        )
    for number, subscription in enumerate(shown.subscriptions[:MAX_LISTED], start=1):
        lines.append(
            f"{number}. {subscription.filter.describe()} — by {mention(subscription.user)}, "
            f"{slack_date(subscription.created_at)}"
        )
    if len(shown.subscriptions) > MAX_LISTED:
        lines.append(f"…and {len(shown.subscriptions) - MAX_LISTED} more.")
    text = "\n".join(lines)
    settings = f"*Settings* ({code(command + ' settings')} changes them): {shown.settings.describe()}"
    return fit(
        text + "\n" + settings,
        [
            SectionBlock(text=MarkdownTextObject(text=text)),
            ContextBlock(elements=[MarkdownTextObject(text=settings)]),
        ],
    )


def unsubscribed_answer(done: Unsubscribed, *, command: str) -> SlackMessage:
    if not done.removed:
        if done.asked is None or done.count_before == 0:
            return _message("This channel has no subscriptions.")
        return _message(
            f"There is no subscription {done.asked}: this channel has {done.count_before}. "
            f"`{command} subscriptions` lists them."
        )
    what = ", ".join(s.filter.describe() for s in done.removed)
    return _message(
        f"Unsubscribed from {what}. Jobs already followed here keep their cards and notes "
        f"(`{command} unwatch <job-id>` stops one)."
    )


def audit_message(shown: AuditShown) -> SlackMessage:
    request = shown.request
    if request.job_id is not None:
        title = f"*Audit log of {code(request.job_id)}*"
    elif request.everywhere:
        title = "*Audit log, every channel*"
    else:
        title = "*Audit log of this channel*"
    lines = [title]
    if not shown.entries:
        lines.append("Nothing recorded yet.")
    lines.extend(_entry(entry, everywhere=request.everywhere) for entry in shown.entries)
    return _message("\n".join(lines))


def _entry(entry: AuditEntry, *, everywhere: bool) -> str:
    verdict = "allowed" if entry.allowed else "*refused*"
    parts = [f"{slack_time(entry.at)} {mention(entry.user)} `{entry.action}`"]
    if entry.job_id:
        parts.append(code(entry.job_id))
    if everywhere:
        parts.append(f"in <#{entry.channel}>")
    parts.append(f"— {verdict}")
    if entry.reason:
        parts.append(f"({entry.reason})")  # our own words (redacted when written)
    elif entry.result:
        parts.append(f"· {escape(entry.result)}")
    return truncate(" ".join(parts), MAX_AUDIT_LINE)


def settings_saved(settings: ChannelSettings, *, channel: str) -> SlackMessage:
    return _message(f"Saved. <#{channel}> now hears: {settings.describe()}")
