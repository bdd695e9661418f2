"""The audit log, retried Slack deliveries seen once, and the store's lifecycle."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bot.jobs.records import AuditEntry
from storage.sqlite import SqliteStore, open_store


def _entry(
    at: float,
    job_id: str | None = "ftjob-1",
    *,
    user: str = "U-1",
    action: str = "pause",
    allowed: bool = True,
    reason: str | None = None,
    result: str | None = None,
) -> AuditEntry:
    return AuditEntry(
        at=at,
        user=user,
        channel="C-1",
        action=action,
        job_id=job_id,
        allowed=allowed,
        reason=reason,
        result=result,
    )


async def test_a_jobs_audit_is_newest_first_and_complete(store: SqliteStore) -> None:
    await store.record_audit(_entry(1.0, result="ok"))
    await store.record_audit(
        _entry(3.0, user="U-2", action="cancel", allowed=False, reason="not the creator")
    )
    await store.record_audit(_entry(2.0, action="resume", result="error: job is not paused"))
    await store.record_audit(_entry(4.0, job_id="ftjob-other"))
    await store.record_audit(_entry(5.0, job_id=None, action="create", allowed=False, reason="bad spec"))

    entries = await store.audit_for_job("ftjob-1")
    assert [(e.at, e.action) for e in entries] == [(3.0, "cancel"), (2.0, "resume"), (1.0, "pause")]
    assert entries[0] == AuditEntry(
        at=3.0,
        user="U-2",
        channel="C-1",
        action="cancel",
        job_id="ftjob-1",
        allowed=False,
        reason="not the creator",
        result=None,
    )
    assert [e.at for e in await store.audit_for_job("ftjob-1", limit=2)] == [3.0, 2.0]
    assert await store.audit_for_job("ftjob-none") == []


async def test_entries_at_the_same_moment_come_back_latest_recorded_first(store: SqliteStore) -> None:
    for action in ("pause", "resume", "cancel"):
        await store.record_audit(_entry(7.0, action=action))
    assert [e.action for e in await store.audit_for_job("ftjob-1")] == ["cancel", "resume", "pause"]


async def test_a_retried_delivery_is_handled_once_within_its_ttl(store: SqliteStore) -> None:
    assert await store.remember_delivery("Ev123", now=100.0, ttl=600.0)
    assert not await store.remember_delivery("Ev123", now=101.0, ttl=600.0)
    assert not await store.remember_delivery("Ev123", now=699.0, ttl=600.0)
    assert await store.remember_delivery("Ev456", now=102.0, ttl=600.0)
    # Once expired, the key counts as new (and is remembered again).
    assert await store.remember_delivery("Ev123", now=700.0, ttl=600.0)
    assert not await store.remember_delivery("Ev123", now=701.0, ttl=600.0)


async def test_expired_delivery_keys_are_pruned(store: SqliteStore, store_path: Path) -> None:
    for n in range(20):
        await store.remember_delivery(f"old-{n}", now=0.0, ttl=10.0)
    await store.remember_delivery("fresh", now=5000.0, ttl=10.0)
    with sqlite3.connect(store_path) as db:
        keys = [key for (key,) in db.execute("SELECT key FROM seen_deliveries")]
    assert keys == ["fresh"]


async def test_delivery_keys_survive_a_restart(store_path: Path) -> None:
    first = await open_store(store_path)
    assert await first.remember_delivery("Ev-restart", now=1.0, ttl=300.0)
    await first.close()
    second = await open_store(store_path)
    try:
        assert not await second.remember_delivery("Ev-restart", now=2.0, ttl=300.0)
    finally:
        await second.close()


async def test_ping_answers_until_closed(store_path: Path) -> None:
    store = await open_store(store_path)
    assert await store.ping()
    await store.close()
    await store.close()  # closing twice is harmless
    assert not await store.ping()
