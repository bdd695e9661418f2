"""What the job service answers before the ack: may this person do this here, does this button belong to
its card, should this create form be held back; and the audit entries those answers leave.

Everything here reads storage only: it runs inside Slack's 3 seconds.
"""

from __future__ import annotations

from bot.jobs.actions import Action
from bot.jobs.actor import Actor
from bot.jobs.audit import AuditLog
from bot.jobs.permissions import RULES, Decision, Policy, Who
from bot.services import Services

# How long a person held back from creating in an unreachable channel may submit again and go ahead.
FORM_HOLD_BACK_MEMORY = 15 * 60.0


class RequestChecks:
    """Part of `JobService` (its base): the checks made before the ack."""

    _services: Services
    _policy: Policy
    _audit: AuditLog
    _held_back: dict[tuple[str, str], float]

    def _now(self) -> float:
        return self._services.clock()

    async def authorize(self, action: Action, job_id: str | None, actor: Actor) -> Decision:
        """The policy's decision. Runs before the ack, so it reads only storage, and only when the rule
        for `action` depends on the job (reads, create and watch are open to anyone, anywhere)."""
        rule = RULES.get(action)
        if rule is not None and rule.who is Who.ANYONE and not rule.needs_channel:
            return self._policy.decide(
                action=action, user=actor.user, channel=actor.channel, job=None, channel_watches=False
            )
        store = self._services.store
        job = await store.get_job(job_id) if job_id else None
        watches = await store.watches(job.job_id) if job is not None else []
        return self._policy.decide(
            action=action,
            user=actor.user,
            channel=actor.channel,
            job=job,
            channel_watches=any(watch.channel == actor.channel for watch in watches),
            job_id=job_id,
            followers=tuple(watch.channel for watch in watches),
        )

    async def button_fits_card(self, job_id: str, channel: str, message_ts: str) -> bool:
        """Whether a button naming `job_id` may sit on the message `message_ts`: a card acts only on its
        own job, whatever a (forged) button value says. Runs before the ack: storage reads only."""
        store = self._services.store
        card = await store.card_at(channel, message_ts)
        if card is not None:
            return card.job_id == job_id
        watch = await store.get_watch(job_id, channel)  # the job's own card here is another message
        return watch is None or watch.card_ts is None

    async def form_held_back(self, actor: Actor) -> str | None:
        """Slack's reason the bot can't post in the actor's channel, when a create form submitted there
        should be held back (answered in the form, no job started); None to go ahead. Reads storage only.

        The mark may be stale (the bot may have been invited since, and marks are only cleared by a create
        or a watch there), so a person is held back once: submitted again soon after, the form goes ahead,
        and if the channel still refuses, the card reaches the person directly."""
        problem = await self._services.store.channel_unreachable(actor.channel)
        now = self._now()
        self._held_back = {k: at for k, at in self._held_back.items() if now - at < FORM_HOLD_BACK_MEMORY}
        key = (actor.user, actor.channel)
        if problem is None or self._held_back.pop(key, None) is not None:
            return None
        self._held_back[key] = now
        return problem

    async def record_form_held_back(self, actor: Actor, problem: str) -> None:
        await self._audit.write(
            Action.CREATE,
            actor,
            None,
            allowed=True,
            result=f"not started: the bot can't post in the channel ({problem}); asked to invite it",
        )

    async def record_refusal(
        self, action: Action, job_id: str | None, actor: Actor, reason: str | None
    ) -> None:
        await self._audit.refusal(action, job_id, actor, reason)
