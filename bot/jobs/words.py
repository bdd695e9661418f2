"""Words a person typed, as the command parser and the create arguments handle them: quoted back safely,
matched against the words we know, read as whole numbers."""

from __future__ import annotations

import difflib
import re


def shown(word: str, limit: int = 40) -> str:
    """A word from the user, quoted as inline code and made safe for mrkdwn."""
    if len(word) > limit:
        word = word[: limit - 1] + "…"
    word = word.replace("`", "'").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f"`{word}`"


def suggest(word: str, choices: tuple[str, ...] | list[str]) -> str | None:
    matches = difflib.get_close_matches(word.lower(), list(choices), n=1, cutoff=0.6)
    return matches[0] if matches else None


def is_int(word: str) -> bool:
    return bool(re.fullmatch(r"[+-]?\d{1,18}", word))
