"""Slack members found by email (`users.lookupByEmail`), for jobs whose metadata names an `owner`.

Answers are kept for a while, misses too: a pipeline that starts a hundred jobs for one owner costs one
lookup, and an address that is nobody's in the workspace is not asked about every cycle.
"""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError

from bot.notify.cards import CARD_POST_FAILURES
from bot.services import Services

log = logging.getLogger(__name__)

REMEMBER_SECONDS = 3600.0


class SlackPeople:
    def __init__(self, services: Services, *, remember: float = REMEMBER_SECONDS) -> None:
        self._services = services
        self._remember = remember
        self._known: dict[str, tuple[str | None, float]] = {}  # email -> (user id or None, when asked)

    async def by_email(self, email: str) -> str | None:
        """The member's user id, or None when nobody in the workspace has that address (or Slack failed:
        then it is asked again next time)."""
        key = email.lower()
        now = self._services.clock()
        cached = self._known.get(key)
        if cached is not None and now - cached[1] < self._remember:
            return cached[0]
        try:
            answer = await self._services.slack.users_lookupByEmail(email=email)
        except SlackApiError as error:
            if error.response.get("error") != "users_not_found":
                log.warning("could not look up a job owner by email (%s)", error.response.get("error"))
                return None
            self._known[key] = (None, now)
            return None
        except CARD_POST_FAILURES as error:
            log.warning("could not look up a job owner by email (%s)", type(error).__name__)
            return None
        user = answer.get("user")
        user_id = user.get("id") if isinstance(user, dict) else None
        found = user_id if isinstance(user_id, str) and user_id else None
        self._known[key] = (found, now)
        return found
