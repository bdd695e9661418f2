"""Who may do what, and from where (DESIGN.md §3). The whole rule table is `RULES`, in this one place.

- Reading (help, list, status, events, checkpoints, refresh), creating a job and `watch` are open to anyone:
  they change nothing about an existing job, and `watch` is how a channel adopts a job.
- Pause, resume and cancel: the job's creator and the admins (`TUNEOPS_ADMINS`).
- Acting on a job (pause, resume, cancel, unwatch) from a channel that neither owns nor watches it is
  refused, even for its creator: the result would land on a card nobody there can see.
- Admins may do every action everywhere (DESIGN.md §2, `TUNEOPS_ADMINS`).
- A job whose creator is unknown (adopted with `watch`, started outside Slack) can be paused, resumed or
  cancelled by admins only. Otherwise anyone could take control of any job of the account by watching it
  first; "whoever typed watch" is not the owner of a job.
- `unwatch` in a channel that follows the job is open to anyone there, except in the job's owning channel,
  where only the creator and admins may stop it: that channel is the job's home, and silencing it hides
  every notification about the job.
- An action the table does not know is refused: new actions must be added here deliberately.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.jobs.grammar import DEFAULT_COMMAND
from bot.jobs.records import TrackedJob
from bot.views.format import code


class Who(StrEnum):
    ANYONE = "anyone"
    CREATOR_OR_ADMIN = "creator_or_admin"
    FOLLOWER = "follower"  # anyone in a channel that follows the job; creator/admins in its owner channel


@dataclass(frozen=True)
class Rule:
    who: Who
    needs_channel: bool  # the channel must own or watch the job (admins are exempt)


RULES: dict[str, Rule] = {
    "help": Rule(Who.ANYONE, needs_channel=False),
    "list": Rule(Who.ANYONE, needs_channel=False),
    "status": Rule(Who.ANYONE, needs_channel=False),
    "events": Rule(Who.ANYONE, needs_channel=False),
    "checkpoints": Rule(Who.ANYONE, needs_channel=False),
    "refresh": Rule(Who.ANYONE, needs_channel=False),
    "create": Rule(Who.ANYONE, needs_channel=False),
    "open_form": Rule(Who.ANYONE, needs_channel=False),
    "watch": Rule(Who.ANYONE, needs_channel=False),
    "unwatch": Rule(Who.FOLLOWER, needs_channel=True),
    "pause": Rule(Who.CREATOR_OR_ADMIN, needs_channel=True),
    "resume": Rule(Who.CREATOR_OR_ADMIN, needs_channel=True),
    "cancel": Rule(Who.CREATOR_OR_ADMIN, needs_channel=True),
}
CONTROL_ACTIONS = frozenset({"pause", "resume", "cancel"})
# Actions that change an existing job or its channels' subscriptions and are therefore checked.
MUTATING_ACTIONS = frozenset(action for action, rule in RULES.items() if rule.needs_channel)
READ_ONLY_ACTIONS = frozenset({"help", "list", "status", "events", "checkpoints", "refresh"})


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

    def is_admin(self, user: str) -> bool:
        return user in self.admins

    def decide(
        self,
        *,
        action: str,
        user: str,
        channel: str,
        job: TrackedJob | None,
        channel_watches: bool,
        job_id: str | None = None,
    ) -> Decision:
        """May `user`, in `channel`, do `action` to `job`? `channel_watches` says whether this channel
        follows the job (as owner or with `watch`); `job` is None when TuneOps does not track it, and
        `job_id` then names the job asked about."""
        rule = RULES.get(action)
        if rule is None:
            return Decision.refuse(f"I don't know the action `{action}`, so I won't do it.")
        if self.is_admin(user):
            return Decision.allow()
        if rule.who is Who.ANYONE:
            return Decision.allow()
        job_id = job.job_id if job is not None else job_id
        job_name = code(job_id) if job_id else "this job"
        owns = job is not None and job.owner_channel == channel
        if rule.needs_channel and not (owns or channel_watches):
            if rule.who is Who.FOLLOWER:
                return Decision.refuse(f"This channel isn't following {job_name}.")
            if job is None:
                return Decision.refuse(self._untracked(action, job_id))
            return Decision.refuse(
                f"This channel doesn't follow {job_name}, so I won't {action} it from here. "
                "Do it from the channel where its card is, or ask an admin."
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

    def _untracked(self, action: str, job_id: str | None) -> str:
        """A job TuneOps does not follow: there is no card anywhere, and `watch` is the way in."""
        if not job_id:
            return f"TuneOps doesn't follow that job, so I won't {action} it."
        return (
            f"TuneOps doesn't follow {code(job_id)}, so I won't {action} it. `{self.command} watch {job_id}` "
            f"adopts it into this channel; after that, whoever started it through TuneOps, or an admin, can "
            f"{action} it (a job started outside Slack: admins only)."
        )
