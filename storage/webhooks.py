"""Webhook deliveries taken once: a delivery's id is remembered, and the job it names made due at once.

The ids share `seen_deliveries` with Slack's delivery keys (prefixed, so the two never meet), and expire
after the senders' retry window, so a delivery retried days later is still known.
"""

from __future__ import annotations

from bot.jobs.records import WebhookTake
from storage.connection import Connections, one, run

_KEY_PREFIX = "webhook:"


class WebhookDeliveries(Connections):
    """The webhook part of `SqliteStore` (see `storage.store.Store`)."""

    async def take_webhook(self, webhook_id: str, *, job_id: str, now: float, keep_for: float) -> WebhookTake:
        async with self._write() as db:
            # One transaction: the id is not remembered unless the job was made due (or needs nothing).
            first = (
                await run(
                    db,
                    """
                    INSERT INTO seen_deliveries (key, expires_at) VALUES (?, ?)
                    ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at
                    WHERE seen_deliveries.expires_at <= ?
                    """,
                    (_KEY_PREFIX + webhook_id, now + keep_for, now),
                )
                == 1
            )
            if not first:
                return WebhookTake.REPEAT
            job = await one(
                db,
                "SELECT terminal, final_read_due FROM jobs j WHERE job_id = ?"
                " AND EXISTS (SELECT 1 FROM watches w WHERE w.job_id = j.job_id)",
                (job_id,),
            )
            if job is None:
                return WebhookTake.UNKNOWN_JOB
            if job["terminal"] and not job["final_read_due"]:
                return WebhookTake.DONE_WITH
            await db.execute(
                "UPDATE jobs SET next_poll_at = min(next_poll_at, ?) WHERE job_id = ?", (now, job_id)
            )
        return WebhookTake.READ_NOW
