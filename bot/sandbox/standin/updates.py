"""A numbered log of what changed in the workspace, for the web page's long-poll (`/ui/updates?since=N`).

Every change (a message posted or edited, an ephemeral, a modal opened or closed) gets the next sequence
number. A page asks for everything after the last number it saw; it is answered at once when there is
something newer, otherwise when something arrives or the poll times out. The log keeps the latest
`capacity` entries; a page that fell further behind is told to reload (`reset`).
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass
from typing import Any

from bot.ops.waiting import wait_any

JSON = dict[str, Any]


@dataclass(frozen=True)
class Update:
    seq: int
    kind: str  # "message", "delete", "ephemeral", "view", "directory"
    data: JSON

    def to_json(self) -> JSON:
        return {"seq": self.seq, "kind": self.kind, **self.data}


class UpdateLog:
    def __init__(self, capacity: int = 5000) -> None:
        self._entries: deque[Update] = deque(maxlen=capacity)
        self._seq = 0
        self._changed = asyncio.Event()

    @property
    def seq(self) -> int:
        return self._seq

    def add(self, kind: str, data: JSON) -> Update:
        self._seq += 1
        update = Update(self._seq, kind, data)
        self._entries.append(update)
        # Wake every waiting poll, then arm a fresh event for the next change.
        self._changed.set()
        self._changed = asyncio.Event()
        return update

    def since(self, seq: int) -> tuple[list[Update], bool]:
        """Entries after `seq`, and whether some were already dropped (the reader must reload)."""
        if seq > self._seq:
            return [], True  # a reader from before a restart of the stand-in: its page is out of date
        if seq == self._seq:
            return [], False
        oldest = self._entries[0].seq if self._entries else self._seq + 1
        dropped = seq + 1 < oldest
        return [entry for entry in self._entries if entry.seq > seq], dropped

    async def wait(self, seq: int, max_wait: float) -> tuple[list[Update], bool]:
        """Like `since`, but waits up to `max_wait` seconds for something newer than `seq`."""
        if seq == self._seq and max_wait > 0:
            await wait_any(self._changed, seconds=max_wait)
        return self.since(seq)

    def wake_all(self) -> None:
        """Release every waiting poll (used when the server stops)."""
        self._changed.set()
        self._changed = asyncio.Event()
