"""`create gpt-4o-mini file-train-demo`: words without `key=` read as what they most likely are.

Rather than one "needs a value" line per word, the person gets the command they meant, ready to copy:
`file-…` words are the training file (then the validation file), the one other word is the base model.
"""

from __future__ import annotations

FILE_KEYS = ("training_file", "validation_file")


def bare_create_suggestion(args: list[str], *, command: str) -> str | None:
    """The `create` command these bare words most likely mean, or None when they are not all bare words
    or cannot be read as one model and up to two files."""
    if not args or any("=" in arg for arg in args):
        return None
    files = [arg for arg in args if arg.startswith("file-")]
    others = [arg for arg in args if not arg.startswith("file-")]
    if len(files) > len(FILE_KEYS) or len(others) > 1:
        return None
    words = [f"model={others[0]}"] if others else []
    words += [f"{key}={file_id}" for key, file_id in zip(FILE_KEYS, files, strict=False)]
    missing = [] if others else ["model=<base>"]
    missing += [] if files else ["training_file=<file-id>"]
    suggestion = " ".join(words + missing)
    return (
        f"Settings are `key=value` words: did you mean `{command} create {suggestion}`?\n"
        f"`{command} help create` lists every setting."
    )
