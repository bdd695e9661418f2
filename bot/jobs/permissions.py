"""Who may do what, and from where. The whole rule table is `RULES`, in this one place.

Admins (`TUNEOPS_ADMINS`) may do everything everywhere. Acting on a job from a channel that neither owns
nor watches it is refused, even for its creator: the result would land on a card nobody there can see. An
action the table does not know is refused: new actions must be added here deliberately.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.jobs.actions import Action
from bot.jobs.grammar import DEFAULT_COMMAND
from bot.jobs.records import TrackedJob
from bot.mrkdwn import code


class Who(StrEnum):
    ANYONE = "anyone"
    CREATOR_OR_ADMIN = "creator_or_admin"
    FOLLOWER = "follower"  # anyone in a channel that follows the job; creator/admins in its owner channel
    SUBSCRIBER = "subscriber"  # anyone, or only TUNEOPS_SUBSCRIBERS (and admins) when that is set
    ADMIN = "admin"


@dataclass(frozen=True)
class Rule:
    who: Who
    needs_channel: bool  # the channel must own or watch the job (admins are exempt)


_OPEN = Rule(Who.ANYONE, needs_channel=False)
_OPEN_ACTIONS = (
    Action.HELP,
    Action.LIST,
    Action.STATUS,
    Action.EVENTS,
    Action.CHECKPOINTS,
    Action.CHART,  # posts the curve in this channel, as `watch` posts a card: it changes no job
    Action.REFRESH,
    Action.CREATE,
    Action.OPEN_FORM,
    Action.WATCH,
    Action.SUBSCRIPTIONS,
    Action.AUDIT,
    # A channel's digest and quiet hours: anyone in the channel, like `watch` (audited).
    Action.DIGEST,
    Action.QUIET,
    Action.UPLOAD,
)
RULES: dict[Action, Rule] = {
    # Reading, creating and `watch` are open to anyone: they change nothing about an existing job.
    **dict.fromkeys(_OPEN_ACTIONS, _OPEN),
    # Anyone in a following channel, except in the job's own channel (its home: silencing it there hides
    # every notification), where only the creator and admins may.
    Action.UNWATCH: Rule(Who.FOLLOWER, needs_channel=True),
    # The job's creator and admins. A job whose creator is unknown (adopted with `watch`, started outside
    # Slack): admins only, or anyone could take control of any job of the account by watching it first.
    **dict.fromkeys(
        (Action.PAUSE, Action.RESUME, Action.CANCEL), Rule(Who.CREATOR_OR_ADMIN, needs_channel=True)
    ),
    # What a channel follows and how it is told: a deployment may keep that to a few people.
    **dict.fromkeys(
        (Action.SUBSCRIBE, Action.UNSUBSCRIBE, Action.SETTINGS, Action.SAVE_SETTINGS),
        Rule(Who.SUBSCRIBER, needs_channel=False),
    ),
    # Every channel's audit entries: admins only (a channel's own are open to anyone, `AUDIT`).
    Action.AUDIT_ALL: Rule(Who.ADMIN, needs_channel=False),
    # Deploying a job's model (billed hourly) and trying it: the same rule as Cancel.
    **dict.fromkeys((Action.DEPLOY, Action.TRY), Rule(Who.CREATOR_OR_ADMIN, needs_channel=True)),
    # Listing deployments reads only. A checkpoint's job, and the job a deployment serves, are known only
    # once the API is asked, which nothing before the ack waits for: the deploy service asks this table's
    # DEPLOY rule itself once it knows the job (bot/jobs/deploy.py).
    **dict.fromkeys((Action.DEPLOYMENTS, Action.DEPLOY_CHECKPOINT, Action.UNDEPLOY), _OPEN),
}
# Actions that change an existing job or its channels' subscriptions and are therefore checked.
MUTATING_ACTIONS = frozenset(action for action, rule in RULES.items() if rule.needs_channel)
READ_ONLY_ACTIONS = frozenset(
    {
        Action.HELP,
        Action.LIST,
        Action.STATUS,
        Action.EVENTS,
        Action.CHECKPOINTS,
        Action.REFRESH,
        Action.SUBSCRIPTIONS,
        Action.AUDIT,
        Action.DEPLOYMENTS,
    }
)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str | None = None  # plain words for the person when refused

    @classmethod
    def allow(cls) -> Decision:
        return cls(True, None)

    @classmethod
    def refuse(cls, reason: str) -> Decision:
        return cls(False, reason)


@dataclass(frozen=True)
class Policy:
    admins: frozenset[str] = frozenset()
    command: str = DEFAULT_COMMAND  # named in refusals that say what to type
    subscribers: frozenset[str] | None = None  # TUNEOPS_SUBSCRIBERS; None: anyone may subscribe

    def is_admin(self, user: str) -> bool:
        return user in self.admins

    def decide(
        self,
        *,
        action: Action,
        user: str,
        channel: str,
        job: TrackedJob | None,
        channel_watches: bool,
        job_id: str | None = None,
        followers: tuple[str, ...] = (),
    ) -> Decision:
        """May `user`, in `channel`, do `action` to `job`? `channel_watches` says whether this channel
        follows the job (as owner or with `watch`; an owner channel that unwatched no longer does);
        `job` is None when TuneOps does not track it, and `job_id` then names the job asked about.
        `followers` (the channels that follow it) are named in a refusal, so it says where to go."""
        rule = RULES.get(action)
        if rule is None:
            return Decision.refuse(f"I don't know the action `{action}`, so I won't do it.")
        if self.is_admin(user):
            return Decision.allow()
        if rule.who is Who.ANYONE:
            return Decision.allow()
        if rule.who is Who.ADMIN:
            return Decision.refuse("Only admins can see every channel's audit log.")
        if rule.who is Who.SUBSCRIBER:
            if self.subscribers is None or user in self.subscribers:
                return Decision.allow()
            return Decision.refuse(
                "Only the people this TuneOps names as subscribers, and admins, can change what a channel "
                "follows or how it is told. Ask one of them."
            )
        job_id = job.job_id if job is not None else job_id
        job_name = code(job_id) if job_id else "this job"
        owns = job is not None and job.owner_channel == channel
        if rule.needs_channel and not channel_watches:
            if rule.who is Who.FOLLOWER:
                return Decision.refuse(f"This channel isn't following {job_name}.")
            if job is None:
                return Decision.refuse(self._untracked(action, job_id))
            return Decision.refuse(
                f"This channel doesn't follow {job_name}, so I won't {action} it from here. "
                + who_and_where(action, job, user, followers, self.command)
            )
        if rule.who is Who.FOLLOWER:
            if owns and job is not None and user != job.creator:
                return Decision.refuse(
                    f"This is the channel that started {job_name}; only the person who started it or an "
                    "admin can stop following it here."
                )
            return Decision.allow()
        if job is None or job.creator is None:
            return Decision.refuse(
                f"Only admins can {action} {job_name}: it was started outside Slack, so I don't know "
                "who it belongs to."
            )
        if user != job.creator:
            return Decision.refuse(
                f"Only <@{job.creator}>, who started {job_name}, or an admin can {action} it."
            )
        return Decision.allow()

    def _untracked(self, action: Action, job_id: str | None) -> str:
        """A job TuneOps does not follow: there is no card anywhere, and `watch` is the way in."""
        if not job_id:
            return f"TuneOps doesn't follow that job, so I won't {action} it."
        return (
            f"TuneOps doesn't follow {code(job_id)}, so I won't {action} it. `{self.command} watch {job_id}` "
            f"adopts it into this channel; after that, whoever started it through TuneOps, or an admin, can "
            f"{action} it (a job started outside Slack: admins only)."
        )


def who_and_where(
    action: Action, job: TrackedJob, user: str, followers: tuple[str, ...], command: str
) -> str:
    """Who may do `action` to `job` and from where, for a refusal: never send someone where they would be
    refused too."""
    if job.creator == user:
        who = "You can"
    elif job.creator:
        who = f"Only <@{job.creator}>, who started it, or an admin can"
    else:
        who = "Only an admin can (it was started outside Slack)"
    if followers:
        where = ", ".join(f"<#{channel}>" for channel in followers[:5])
        return f"{who} {action} it from a channel that follows it: {where}."
    return f"{who} {action} it once a channel follows it again (`{command} watch {job.job_id}` there)."
