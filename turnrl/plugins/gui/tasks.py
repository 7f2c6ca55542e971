"""Fixed task panels for ``gui``: MiniWoB++ task types x seeds, disjoint seeds per split.

A task is (task type, seed): the page runs ``Math.seedrandom(seed)`` before generating its
problem, so a task id names the same problem on every machine. Seeds come from a hash of
``gui/<split>/<type>/<index>`` (no global random state, same on every platform); a split never
shares a (type, seed) pair with another. Panels interleave types (all types' first seed, then
all types' second seed, ...) so the first N tasks of a panel cover many types.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from turnrl.core.types import Task
from turnrl.plugins.gui.catalog import PANEL_TYPES

SEEDS_PER_TYPE = {"train": 10, "valid": 3, "test": 3}
SPLITS = tuple(SEEDS_PER_TYPE)


def task_seed(split: str, task_type: str, index: int) -> int:
    digest = hashlib.sha256(f"gui/{split}/{task_type}/{index}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def make_tasks(split: str, *, tasks: Sequence[str] | str | None = None,
               seeds: int | None = None, n: int | None = None) -> list[Task]:
    """The panel for ``split``: ``seeds`` seeds (default per split) of each type in ``tasks``
    (default: every panel type; a comma-separated string works too), cut to ``n`` tasks."""
    if split not in SEEDS_PER_TYPE:
        raise ValueError(f"gui has no split {split!r}; splits: {', '.join(SPLITS)}")
    types = _pick_types(tasks)
    count = SEEDS_PER_TYPE[split] if seeds is None else int(seeds)
    if count < 1:
        raise ValueError(f"gui: seeds must be >= 1, got {count}")
    panel = [
        Task(env="gui", id=f"gui-{split}-{t}-{i:03d}", split=split,
             seed=task_seed(split, t, i), data={"type": t})
        for i in range(count) for t in types
    ]
    return panel if n is None else panel[: int(n)]


def _pick_types(tasks: Sequence[str] | str | None) -> list[str]:
    if tasks is None:
        return list(PANEL_TYPES)
    names = [x.strip() for x in tasks.split(",")] if isinstance(tasks, str) else list(tasks)
    names = [x for x in names if x]
    unknown = [x for x in names if x not in PANEL_TYPES]
    if unknown:
        raise ValueError(f"gui has no task type {unknown[0]!r}; task types: "
                         f"{', '.join(PANEL_TYPES)}")
    if not names:
        raise ValueError("gui: tasks=[...] names no task type")
    return list(dict.fromkeys(names))
