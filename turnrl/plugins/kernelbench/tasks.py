"""Fixed task panels for ``kernel``: one task per problem, the same on every machine.

``source: shipped`` (default) takes the catalogue's split at ``scale`` (``cpu`` for the
interpreter, ``gpu`` for KernelBench-like sizes); ``source: kernelbench`` reads a checkout at
``path``. ``problems`` / ``categories`` / ``levels`` narrow every split's panel (a problem stays
in its own split); ``n`` cuts it. Seeds are a
hash of the task id, so a task's trial inputs never depend on the panel it sits in.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from turnrl.core.types import Task
from turnrl.plugins.kernelbench.catalog import CATEGORIES
from turnrl.plugins.kernelbench.problems import (
    SCALES,
    Problem,
    ProblemError,
    kernelbench_problems,
    shipped_problems,
)

SPLITS: tuple[str, ...] = ("train", "valid", "test")
SOURCES: tuple[str, ...] = ("shipped", "kernelbench")


def make_tasks(split: str, *, source: str = "shipped", scale: str = "cpu",
               path: str | None = None, levels: Sequence[int] = (1, 2),
               problems: Sequence[str] | None = None,
               categories: Sequence[str] | None = None, n: int | None = None) -> list[Task]:
    """The ``split`` panel; see the module docstring for the options."""
    if split not in SPLITS:
        raise ProblemError(f"kernel has no split {split!r}; splits: {', '.join(SPLITS)}")
    if source == "shipped":
        if scale not in SCALES:
            raise ProblemError(f"scale must be one of {', '.join(SCALES)}, got {scale!r}")
        pool = shipped_problems(scale)
    elif source == "kernelbench":
        if not path:
            raise ProblemError("source: kernelbench needs path: <your KernelBench checkout>")
        pool = kernelbench_problems(path, tuple(levels))
    else:
        raise ProblemError(f"source must be one of {', '.join(SOURCES)}, got {source!r}")
    if categories is not None:
        unknown = sorted(set(categories) - set(CATEGORIES) - {p.category for p in pool})
        if unknown:
            raise ProblemError(f"unknown categories {', '.join(unknown)}; known: "
                               f"{', '.join(CATEGORIES)}")
        pool = [p for p in pool if p.category in set(categories)]
    pool = [p for p in pool if p.level in {int(lv) for lv in levels}]
    if problems is not None:
        known = {p.id for p in pool}
        unknown = [x for x in problems if x not in known]
        if unknown:
            raise ProblemError(f"unknown problems {', '.join(unknown)} (e.g. "
                               f"{', '.join(sorted(known)[:3])})")
        wanted = set(problems)
        pool = [p for p in pool if p.id in wanted]
    tasks = [_task(p, split) for p in pool if p.split == split]
    return tasks[:n] if n is not None else tasks


def _task(problem: Problem, split: str) -> Task:
    task_id = f"{problem.id}@{problem.scale}"
    seed = int(hashlib.sha256(f"kernel/{task_id}".encode()).hexdigest(), 16) % (2**31)
    return Task(env="kernel", id=task_id, split=split, seed=seed, data=problem.task_data())
