"""The database schema as numbered migrations, applied in order, each in its own transaction.

Every migration runs inside `BEGIN IMMEDIATE` and re-reads the recorded version inside that transaction,
so two processes starting at once apply each migration exactly once (the second waits for the write
lock, then sees the migration is already there). SQLite DDL is transactional: a migration that fails
leaves neither its tables nor its version row behind.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import aiosqlite

from storage.errors import SchemaTooNewError
from storage.transactions import immediate_transaction


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    statements: tuple[str, ...]  # run one by one (executescript would commit the open transaction)


_INITIAL_SCHEMA = Migration(
    1,
    "tracked jobs, watches, outbox, audit log, seen deliveries",
    (
        """
        CREATE TABLE jobs (
            job_id           TEXT PRIMARY KEY,
            provider         TEXT NOT NULL,
            owner_channel    TEXT NOT NULL,
            creator          TEXT,
            origin           TEXT NOT NULL,
            status           TEXT NOT NULL,
            terminal         INTEGER NOT NULL DEFAULT 0 CHECK (terminal IN (0, 1)),
            status_seq       INTEGER NOT NULL DEFAULT 0,
            model            TEXT NOT NULL DEFAULT '',
            suffix           TEXT,
            last_event_id    TEXT,
            last_event_at    REAL,
            step             INTEGER,
            total_steps      INTEGER,
            train_loss       REAL,
            valid_loss       REAL,
            estimated_finish INTEGER,
            version          INTEGER NOT NULL DEFAULT 1,
            next_poll_at     REAL NOT NULL,
            stuck_noted_seq  INTEGER,
            snapshot         TEXT NOT NULL DEFAULT '{}',
            created_at       REAL NOT NULL,
            updated_at       REAL NOT NULL
        )
        """,
        # The watcher's query: only jobs still worth polling are in this index.
        "CREATE INDEX jobs_due ON jobs (next_poll_at) WHERE terminal = 0",
        """
        CREATE TABLE watches (
            job_id          TEXT NOT NULL REFERENCES jobs (job_id) ON DELETE CASCADE,
            channel         TEXT NOT NULL,
            added_by        TEXT,
            is_owner        INTEGER NOT NULL DEFAULT 0 CHECK (is_owner IN (0, 1)),
            card_ts         TEXT,
            card_version    INTEGER NOT NULL DEFAULT 0,
            card_updated_at REAL,
            card_stale      INTEGER NOT NULL DEFAULT 0 CHECK (card_stale IN (0, 1)),
            created_at      REAL NOT NULL,
            PRIMARY KEY (job_id, channel)
        ) WITHOUT ROWID
        """,
        "CREATE INDEX watches_by_channel ON watches (channel, created_at, job_id)",
        # `card_stale` is set when the job's version moves past a posted card; it keeps the
        # "cards to refresh" query to the few cards that need it.
        "CREATE INDEX watches_stale_cards ON watches (card_updated_at) WHERE card_stale = 1",
        """
        CREATE TABLE unreachable_channels (
            channel TEXT PRIMARY KEY,
            reason  TEXT NOT NULL,
            at      REAL NOT NULL
        ) WITHOUT ROWID
        """,
        # AUTOINCREMENT: ids are never reused, so a notifier holding the id of a row that was dropped
        # (unwatch) can never mark a newer row by mistake.
        """
        CREATE TABLE outbox (
            id              INTEGER PRIMARY KEY AUTOINCREMENT,
            job_id          TEXT NOT NULL REFERENCES jobs (job_id) ON DELETE CASCADE,
            channel         TEXT NOT NULL,
            transition      TEXT NOT NULL,
            kind            TEXT NOT NULL,
            payload         TEXT NOT NULL DEFAULT '{}',
            state           TEXT NOT NULL DEFAULT 'pending'
                            CHECK (state IN ('pending', 'sent', 'given_up')),
            attempts        INTEGER NOT NULL DEFAULT 0,
            next_attempt_at REAL NOT NULL,
            slack_ts        TEXT,
            last_error      TEXT,
            created_at      REAL NOT NULL,
            sent_at         REAL,
            given_up_at     REAL,
            UNIQUE (job_id, channel, transition)
        )
        """,
        "CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE state = 'pending'",
        # Is an earlier note of the same job and channel still pending? (claim order, one probe)
        "CREATE INDEX outbox_pending_by_thread ON outbox (job_id, channel, id) WHERE state = 'pending'",
        "CREATE INDEX outbox_pending_by_channel ON outbox (channel) WHERE state = 'pending'",
        "CREATE INDEX outbox_given_up ON outbox (id) WHERE state = 'given_up'",
        # No foreign key on job_id: refused actions on jobs nobody tracks are audited too.
        """
        CREATE TABLE audit_log (
            id      INTEGER PRIMARY KEY,
            at      REAL NOT NULL,
            user_id TEXT NOT NULL,
            channel TEXT NOT NULL,
            action  TEXT NOT NULL,
            job_id  TEXT,
            allowed INTEGER NOT NULL CHECK (allowed IN (0, 1)),
            reason  TEXT,
            result  TEXT
        )
        """,
        "CREATE INDEX audit_by_job ON audit_log (job_id, at)",
        """
        CREATE TABLE seen_deliveries (
            key        TEXT PRIMARY KEY,
            expires_at REAL NOT NULL
        ) WITHOUT ROWID
        """,
        "CREATE INDEX seen_deliveries_expiry ON seen_deliveries (expires_at)",
    ),
)

_READ_ORDER = Migration(
    2,
    "when the job read last applied was sent, so an older read recorded late is dropped",
    # NULL for the jobs already tracked: their next observation is applied whatever its age.
    ("ALTER TABLE jobs ADD COLUMN read_at REAL",),
)

_FINAL_READ = Migration(
    3,
    "a finished job stays due for the watcher's final read when someone else recorded its end",
    (
        # 0 for the jobs already tracked: those finished before are not read again after the upgrade.
        """
        ALTER TABLE jobs ADD COLUMN final_read_due INTEGER NOT NULL DEFAULT 0
            CHECK (final_read_due IN (0, 1))
        """,
        # The watcher's query: the jobs still worth polling, plus finished ones awaiting their final read.
        "DROP INDEX jobs_due",
        "CREATE INDEX jobs_due ON jobs (next_poll_at) WHERE terminal = 0 OR final_read_due = 1",
    ),
)

_IN_FLIGHT = Migration(
    4,
    "outbox rows remember being claimed, so a restart tells rows in flight from rows waiting out a retry",
    (
        # Set by a claim, cleared by every delivery outcome: a pending row with it set was in flight.
        "ALTER TABLE outbox ADD COLUMN claimed_at REAL",
        # Rows the previous version left claimed and never retried (only a retry writes `last_error`, a
        # claim bumps `attempts`) were in flight; when they were claimed is not known, only that they were.
        # A row that had been retried and was in flight again cannot be told apart: it waits out its lease.
        """
        UPDATE outbox SET claimed_at = created_at
        WHERE state = 'pending' AND attempts > 0 AND last_error IS NULL
        """,
        # The start-up takeover's query: the (few) rows in flight.
        "CREATE INDEX outbox_in_flight ON outbox (id) WHERE state = 'pending' AND claimed_at IS NOT NULL",
    ),
)

_UNREACHABLE_RETRY = Migration(
    5,
    "an unreachable channel is tried again now and then, and someone is told once",
    (
        # Channels marked before: one failure, due for a try at once, nobody told yet.
        "ALTER TABLE unreachable_channels ADD COLUMN failures INTEGER NOT NULL DEFAULT 1",
        "ALTER TABLE unreachable_channels ADD COLUMN retry_at REAL NOT NULL DEFAULT 0",
        "ALTER TABLE unreachable_channels ADD COLUMN told INTEGER NOT NULL DEFAULT 0 CHECK (told IN (0, 1))",
    ),
)

_CREATE_INTENTS = Migration(
    6,
    "a create is recorded before its API call, so a job the API started is found again by its tag",
    (
        """
        CREATE TABLE create_intents (
            intent_id  TEXT PRIMARY KEY,
            user       TEXT NOT NULL,
            channel    TEXT NOT NULL,
            origin     TEXT NOT NULL,
            created_at REAL NOT NULL,
            closed_at  REAL,
            job_id     TEXT,
            result     TEXT
        )
        """,
        "CREATE INDEX create_intents_open ON create_intents (created_at) WHERE closed_at IS NULL",
        # Health's write probe: one row, rewritten on every check.
        "CREATE TABLE health_probe (id INTEGER PRIMARY KEY CHECK (id = 1), at REAL NOT NULL)",
    ),
)

_SUBSCRIPTIONS = Migration(
    7,
    "channel subscriptions to jobs started anywhere, the jobs discovery has seen, per-channel settings",
    (
        """
        CREATE TABLE subscriptions (
            id         INTEGER PRIMARY KEY AUTOINCREMENT,
            channel    TEXT NOT NULL,
            user       TEXT NOT NULL,
            filter     TEXT NOT NULL,
            created_at REAL NOT NULL
        )
        """,
        "CREATE INDEX subscriptions_channel ON subscriptions (channel, created_at)",
        # Every job id discovery met on a list page: it reads newest first until it meets one of these.
        "CREATE TABLE seen_jobs (job_id TEXT PRIMARY KEY, seen_at REAL NOT NULL)",
        # Which changes a channel that follows a job through subscriptions hears ("only="); no row or a
        # NULL `told`: every change.
        """
        CREATE TABLE watch_filters (
            job_id  TEXT NOT NULL,
            channel TEXT NOT NULL,
            told    TEXT,
            PRIMARY KEY (job_id, channel)
        )
        """,
        """
        CREATE TABLE channel_settings (
            channel    TEXT PRIMARY KEY,
            settings   TEXT NOT NULL,
            updated_by TEXT NOT NULL,
            updated_at REAL NOT NULL
        )
        """,
        "CREATE INDEX audit_log_channel ON audit_log (channel, at)",
    ),
)

_SCHEDULES_AND_HOME = Migration(
    8,
    "channel digests and quiet hours, their channel-level posts, notes held back, and who opened the Home tab",
    (
        """
        CREATE TABLE channel_schedules (
            channel      TEXT PRIMARY KEY,
            digest_time  TEXT,
            digest_zone  TEXT,
            digest_since REAL,
            quiet_start  TEXT,
            quiet_end    TEXT,
            quiet_zone   TEXT,
            updated_by   TEXT,
            updated_at   REAL NOT NULL
        ) WITHOUT ROWID
        """,
        # A post for a channel as a whole. UNIQUE (channel, key): a digest is queued once per channel and
        # local date, whatever restarts or second processes do.
        """
        CREATE TABLE channel_posts (
            id              INTEGER PRIMARY KEY AUTOINCREMENT,
            channel         TEXT NOT NULL,
            key             TEXT NOT NULL,
            kind            TEXT NOT NULL,
            payload         TEXT NOT NULL DEFAULT '{}',
            state           TEXT NOT NULL DEFAULT 'pending'
                            CHECK (state IN ('pending', 'sent', 'given_up')),
            attempts        INTEGER NOT NULL DEFAULT 0,
            next_attempt_at REAL NOT NULL,
            slack_ts        TEXT,
            last_error      TEXT,
            created_at      REAL NOT NULL,
            sent_at         REAL,
            UNIQUE (channel, key)
        )
        """,
        "CREATE INDEX channel_posts_due ON channel_posts (next_attempt_at) WHERE state = 'pending'",
        # Routine notes kept back during a channel's quiet hours (their outbox row is handed over to the
        # summary that folds them in at `until`).
        """
        CREATE TABLE quiet_held (
            outbox_id  INTEGER PRIMARY KEY,
            channel    TEXT NOT NULL,
            job_id     TEXT NOT NULL,
            transition TEXT NOT NULL,
            payload    TEXT NOT NULL DEFAULT '{}',
            until      REAL NOT NULL,
            held_at    REAL NOT NULL
        )
        """,
        "CREATE INDEX quiet_held_due ON quiet_held (until, channel)",
        "CREATE TABLE home_tabs (user TEXT PRIMARY KEY, opened_at REAL NOT NULL, published_at REAL) WITHOUT ROWID",
        "CREATE INDEX jobs_by_creator ON jobs (creator, terminal, updated_at)",
        "CREATE INDEX jobs_by_update ON jobs (updated_at)",
    ),
)

MIGRATIONS: tuple[Migration, ...] = (
    _INITIAL_SCHEMA,
    _READ_ORDER,
    _FINAL_READ,
    _IN_FLIGHT,
    _UNREACHABLE_RETRY,
    _CREATE_INTENTS,
    _SUBSCRIPTIONS,
    _SCHEDULES_AND_HOME,
)

_VERSION_TABLE = """
    CREATE TABLE IF NOT EXISTS schema_version (
        version    INTEGER PRIMARY KEY,
        name       TEXT NOT NULL,
        applied_at REAL NOT NULL
    )
"""


def _check_numbering(migrations: Sequence[Migration]) -> None:
    expected = list(range(1, len(migrations) + 1))
    if [m.version for m in migrations] != expected:
        raise ValueError(f"migrations must be numbered {expected}, in order")


async def _recorded_version(db: aiosqlite.Connection) -> int:
    rows = list(await db.execute_fetchall("SELECT coalesce(max(version), 0) FROM schema_version"))
    return int(rows[0][0])


async def apply_migrations(db: aiosqlite.Connection, migrations: Sequence[Migration] = MIGRATIONS) -> int:
    """Apply the migrations the database lacks, one transaction each; return the schema version.

    `db` must be in autocommit mode (isolation_level=None) and not be used by anyone else meanwhile.
    """
    _check_numbering(migrations)
    while True:
        async with immediate_transaction(db):
            await db.execute(_VERSION_TABLE)
            version = await _recorded_version(db)
            if version > len(migrations):
                raise SchemaTooNewError(
                    f"the database is at schema version {version}, newer than this TuneOps "
                    f"(which knows up to {len(migrations)}); upgrade TuneOps"
                )
            if version == len(migrations):
                return version
            migration = migrations[version]
            for statement in migration.statements:
                await db.execute(statement)
            await db.execute(
                "INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)",
                (migration.version, migration.name, time.time()),
            )
