"""Object ids in each provider's style, reproducible from the emulator's seed."""

from __future__ import annotations

import hashlib
import random
import string

from bot.sandbox.emulator.flavour import Flavour

_ALNUM = string.ascii_letters + string.digits


def stable_token(*parts: object, length: int = 24, alphabet: str = _ALNUM) -> str:
    """A token derived from `parts` only, so an event keeps its id however often it is recomputed."""
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    number = int.from_bytes(digest, "big")
    chars = []
    for _ in range(length):
        number, index = divmod(number, len(alphabet))
        chars.append(alphabet[index])
    return "".join(chars)


class IdMaker:
    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed)

    def _alnum(self, n: int) -> str:
        return "".join(self._rng.choice(_ALNUM) for _ in range(n))

    def _hex(self, n: int) -> str:
        return "".join(self._rng.choice("0123456789abcdef") for _ in range(n))

    def job(self, flavour: Flavour) -> str:
        return f"ftjob-{self._hex(32)}" if flavour == "azure" else f"ftjob-{self._alnum(24)}"

    def file(self, flavour: Flavour) -> str:
        return f"file-{self._hex(32)}" if flavour == "azure" else f"file-{self._alnum(22)}"

    def short(self) -> str:
        return self._alnum(8)

    def seed(self) -> int:
        return self._rng.randint(0, 2_147_483_647)


def event_id(job_id: str, seq: int, flavour: Flavour) -> str:
    if flavour == "azure":
        return f"ftevent-{stable_token(job_id, 'event', seq, length=32, alphabet='0123456789abcdef')}"
    return f"ftevent-{stable_token(job_id, 'event', seq)}"


def checkpoint_id(job_id: str, step: int, flavour: Flavour) -> str:
    if flavour == "azure":
        return f"ftchkpt-{stable_token(job_id, 'ckpt', step, length=32, alphabet='0123456789abcdef')}"
    return f"ftckpt_{stable_token(job_id, 'ckpt', step)}"


def results_file_id(job_id: str, flavour: Flavour) -> str:
    if flavour == "azure":
        return f"file-{stable_token(job_id, 'results', length=32, alphabet='0123456789abcdef')}"
    return f"file-{stable_token(job_id, 'results', length=22)}"
