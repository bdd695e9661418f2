"""How many epochs a job trains for when `n_epochs` is `auto`.

The API aims at 3 epochs, then adjusts so that examples × epochs lands between 100 and 25,000 (a small file
is seen more often, a large one less), never below 1 nor above 25 epochs.
"""

from __future__ import annotations

TARGET_EPOCHS = 3
MIN_TARGET_EXAMPLES = 100
MAX_TARGET_EXAMPLES = 25_000
MIN_AUTO_EPOCHS = 1
MAX_AUTO_EPOCHS = 25
# What a job may be asked for (`n_epochs`).
MAX_EPOCHS = 50


def auto_epochs(examples: int) -> int:
    if examples <= 0:
        return TARGET_EPOCHS
    if examples * TARGET_EPOCHS < MIN_TARGET_EXAMPLES:
        return min(MAX_AUTO_EPOCHS, MIN_TARGET_EXAMPLES // examples)
    if examples * TARGET_EPOCHS > MAX_TARGET_EXAMPLES:
        return max(MIN_AUTO_EPOCHS, MAX_TARGET_EXAMPLES // examples)
    return TARGET_EPOCHS
