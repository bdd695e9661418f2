"""The one place every text bound for Slack passes (through `fit`): secrets redacted, broadcasts disarmed.

Other people's words (API messages, job names) are escaped where a view puts them in; this is the net
under that: whatever reaches a message, a modal's errors or message metadata, no token, key or configured
secret survives, and no `<!channel>`, `<!here>`, `<!everyone>` or user-group mention can notify anyone
(TuneOps never sends those itself; its own `<!date^…>` tokens and `<@U…>` mentions are left alone).
"""

from __future__ import annotations

import re
from typing import Any

from bot.mrkdwn import escape
from bot.ops.redaction import redact

_BROADCAST = re.compile(r"<!(?:channel|here|everyone|subteam\^)[^>]*>", re.IGNORECASE)


def safe_text(text: str) -> str:
    return _BROADCAST.sub(lambda match: escape(match.group(0)), redact(text))


def safe_tree(value: Any) -> Any:
    """`value` (JSON-like) with `safe_text` applied to every string in it, keys left as they are."""
    if isinstance(value, str):
        return safe_text(value)
    if isinstance(value, dict):
        return {key: safe_tree(item) for key, item in value.items()}
    if isinstance(value, list):
        return [safe_tree(item) for item in value]
    return value
