"""Token counts are exact (OpenAI's o200k_base, checked against published values) and need no download."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bot.preflight import tokens


def test_published_o200k_base_encodings() -> None:
    encoding = tokens.encoding("o200k_base")
    # tiktoken's README and OpenAI's cookbook show these.
    assert encoding.encode_ordinary("hello world") == [24912, 2375]
    assert encoding.encode_ordinary("tiktoken is great!") == [83, 8251, 2488, 382, 2212, 0]
    assert tokens.count("The quick brown fox jumps over the lazy dog.") == 10
    assert encoding.n_vocab == 200_019


def test_special_token_text_is_counted_as_ordinary_text_not_as_the_control_token() -> None:
    assert tokens.count("<|endoftext|>") == 7


def test_counts_work_with_no_network_and_an_empty_tiktoken_cache(tmp_path: Path) -> None:
    """A fresh machine: nothing in tiktoken's cache and every download would fail (a dead proxy)."""
    cache = tmp_path / "cache"
    cache.mkdir()
    env = {
        **os.environ,
        "TIKTOKEN_CACHE_DIR": str(cache),
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "HTTP_PROXY": "http://127.0.0.1:9",
        "NO_PROXY": "",
    }
    code = "from bot.preflight import tokens; print(tokens.count('hello world'))"
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "2"
    assert list(cache.iterdir()) == []  # nothing was fetched into it, and the user's setting came back
