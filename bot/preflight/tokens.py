"""Exact token counts with OpenAI's own tokenizer, offline.

`tiktoken` downloads an encoding the first time it is asked for one, which this project cannot rely on
(CI, many users' machines and air-gapped servers have no route to the download). The encoding file ships
in `bot/preflight/encodings/` under the name `tiktoken` gives it in its cache, and `tiktoken` is pointed at
that folder while it loads: it then reads the file instead of the network and still checks its SHA-256.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import tiktoken

ENCODINGS_DIR = Path(__file__).with_name("encodings")
O200K_BASE = "o200k_base"
# tiktoken's cache name for each shipped file: the SHA-1 of the address it downloads it from.
_CACHE_NAMES = {O200K_BASE: "fb374d419588a4632f3f557e76b4b70aebbca790"}
SHIPPED_ENCODINGS = frozenset(_CACHE_NAMES)

_loading = threading.Lock()


class TokenizerUnavailable(RuntimeError):
    """The shipped encoding file is missing or damaged (a broken install)."""


@contextmanager
def _cache_dir(path: Path) -> Iterator[None]:
    previous = os.environ.get("TIKTOKEN_CACHE_DIR")
    os.environ["TIKTOKEN_CACHE_DIR"] = str(path)
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("TIKTOKEN_CACHE_DIR", None)
        else:
            os.environ["TIKTOKEN_CACHE_DIR"] = previous


@cache
def encoding(name: str = O200K_BASE) -> tiktoken.Encoding:
    """The named encoding, read from the files shipped with TuneOps (never downloaded)."""
    if name not in SHIPPED_ENCODINGS:
        raise TokenizerUnavailable(f"TuneOps does not ship the {name} tokenizer")
    if not (ENCODINGS_DIR / _CACHE_NAMES[name]).is_file():
        raise TokenizerUnavailable(
            f"the {name} tokenizer file is missing from this install; reinstall TuneOps"
        )
    with _loading, _cache_dir(ENCODINGS_DIR):
        try:
            return tiktoken.get_encoding(name)
        except Exception as exc:  # a missing file would otherwise turn into a download attempt
            raise TokenizerUnavailable(
                f"the {name} tokenizer file shipped with TuneOps cannot be read ({exc}); reinstall TuneOps"
            ) from None


def count(text: str, name: str = O200K_BASE) -> int:
    """Tokens in `text`, special-token look-alikes counted as the ordinary text they are."""
    return len(encoding(name).encode_ordinary(text))
