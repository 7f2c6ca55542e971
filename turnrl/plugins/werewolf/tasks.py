"""Fixed task panels: a task is a game seed (roles, tie-breaks and random orders come from it).

Seeds come from ``random.Random(f"werewolf/{split}/{index}")``: string seeds hash the same on
every platform, so panels are identical everywhere. The rules are environment options, not task
data: the same panel is played under any variant.
"""

from __future__ import annotations

import random

from turnrl.core.types import Task

PANEL_SIZES = {"train": 1024, "valid": 64, "test": 64}


def make_tasks(split: str, *, n: int | None = None) -> list[Task]:
    if split not in PANEL_SIZES:
        raise ValueError(f"werewolf has no split {split!r}; splits: {', '.join(PANEL_SIZES)}")
    count = PANEL_SIZES[split] if n is None else n
    if count < 1:
        raise ValueError(f"werewolf: n must be >= 1, got {count}")
    return [Task(env="werewolf", id=f"werewolf-{split}-{i:04d}", split=split,
                 seed=random.Random(f"werewolf/{split}/{i}").randrange(2**31))
            for i in range(count)]
